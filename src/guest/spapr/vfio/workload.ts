import type { GuestDevice } from '../../device.js';
import { EDU_DEVICE, EDU_VENDOR, EduDriver } from '../../drivers/edu.js';
import { errnoName } from '../../errno.js';
import type { GuestKernel } from '../../kernel.js';
import { cpuBigEndian, NativeMmio } from '../../native-mmio.js';
import type { Workload, WorkloadContext } from '../../workload/workload.js';
import type { SpaprTceDriver } from '../driver.js';
import { VfioSpaprTceContainer } from './container.js';
import { VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE, VFIO_SPAPR_TCE_v2_IOMMU } from './uapi.js';
import { VfioSpaprUser } from './user.js';
import { VfioUserMemory } from './user-mm.js';

const USER_IOVA = 0x100000n;
const DDW_PAGE_SHIFT = 16;
const DDW_SIZE = 1n << 28n;
const EDU_BUF = 0x40000;

/** edu's DMA engine programmed by the user, as a VFIO user's own driver does; waits for the transfer. */
function eduDma(k: GuestKernel, dev: GuestDevice, bus: bigint, len: number, toRam: boolean): void {
  const io = new NativeMmio(k.port, cpuBigEndian(k.port.board));
  const mmio = dev.pci!.bars[0]!.cpuAddress;
  io.write64(mmio + 0x80, toRam ? EDU_BUF : Number(bus));
  io.write64(mmio + 0x88, toRam ? Number(bus) : EDU_BUF);
  io.write64(mmio + 0x90, len);
  io.write64(mmio + 0x98, toRam ? 3 : 1);
  k.clock.sleep(200_000_000);
}

/**
 * vfio-spapr: seed 000 and seed 004 as a workload. A VFIO sPAPR TCE v2
 * user takes an edu device's group (host driver unbound), preregisters
 * memory, maps and round-trips DMA in the default window (created lazily)
 * and in a 64-bit window, removes the 64-bit window and leaves the
 * container with TCEs still live. Then: the old user IOVA must no longer
 * translate (a stray DMA there is the oracle's to judge, and the restored
 * default window must hold no TCE of the user), and the host driver must
 * bind again and DMA. `--regress seed000` fails the rebind ("table
 * unavailable"); `--regress seed004` removes windows that still translate
 * (the hypervisor logs it; with the PHB's persistent-tces the TCEs
 * survive into the restored default window and the checks fail).
 */
export function vfioSpaprWorkload(k: GuestKernel, driver: () => SpaprTceDriver | undefined): Workload {
  return {
    name: 'vfio-spapr',
    description: 'a VFIO sPAPR TCE v2 user takes an edu device, maps, DMAs, removes windows with live TCEs, gives it back; the host driver rebinds',
    params: [
      { name: 'device', default: 0, description: 'which edu device' },
      { name: 'pages', default: 4, description: '4 KiB pages the user maps in the default window' },
      { name: 'dmaBits', default: 28, description: "the device's addressing, as its user knows it (edu's dma_mask): DMA only through windows it reaches" },
    ],
    run(ctx: WorkloadContext) {
      const errors: string[] = [];
      let ops = 0;
      let bytes = 0;
      const fail = (e: string) => ({ ok: false, ops, bytes, errors: [...errors, e], details: {} });
      const drv = driver();
      if (!drv) return fail('no pseries TCE driver bound (not a pseries machine?)');
      const dev = k.devices.filter((d) => d.pci?.vendor === EDU_VENDOR && d.pci.device === EDU_DEVICE)[ctx.params['device'] as number];
      const group = dev ? k.iommu.groupOf(dev) : undefined;
      if (!dev || !group) return fail('no such edu device in an IOMMU group');
      const pages = Math.max(1, Math.min(64, Math.floor(ctx.params['pages'] as number)));
      const size = BigInt(pages * 4096);
      const host = k.drivers.drivers.find((d): d is EduDriver => d instanceof EduDriver);
      for (const d of group.devices) k.drivers.unbind(d);
      const user = new VfioUserMemory(k.mem);
      const c = new VfioSpaprTceContainer(k, drv, user);
      const u = new VfioSpaprUser(c);
      const buf = user.mmap(0x100000);
      if (!buf) return fail('out of guest memory');
      const step = (what: string, ret: number): boolean => {
        if (ret < 0) errors.push(`${what}: ${errnoName(ret)}`);
        return ret >= 0;
      };
      const roundTrip = (iova: bigint, what: string): void => {
        const data = Uint8Array.from({ length: 64 }, () => ctx.prng.next() & 0xff);
        k.port.writeBytes(buf.paddr, data);
        eduDma(k, dev, iova, data.length, false);
        k.port.writeBytes(buf.paddr + 0x800, new Uint8Array(data.length));
        eduDma(k, dev, iova + 0x800n, data.length, true);
        const back = new Uint8Array(data.length);
        k.port.readBytes(buf.paddr + 0x800, back);
        ops += 2;
        bytes += 2 * data.length;
        if (back.some((v, i) => v !== data[i])) errors.push(`${what}: the device did not move the user's data`);
      };
      // The device must reach the window, and this guest writes bus addresses as doubles (exact below 2^53).
      const bits = Math.min(53, Math.max(1, Math.floor(ctx.params['dmaBits'] as number)));
      const reach = 2n ** BigInt(bits);
      const rw = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
      const info = step('VFIO_GROUP_SET_CONTAINER', c.setContainer(group)) && step('VFIO_SET_IOMMU', c.setIommu(VFIO_SPAPR_TCE_v2_IOMMU))
        && step('REGISTER_MEMORY', u.registerMemory(buf.vaddr, 0x100000n)) ? u.getInfo() : undefined;
      // QEMU's hw/vfio/spapr.c: the default window goes at once, then windows are made to match the guest's.
      if (info && step('GET_INFO', info.ret) && step('TCE_REMOVE (default window)', u.removeWindow(0n))) {
        if (info.info.ddw.maxDynamicWindowsSupported === 1) {
          // A single-window PE (SR-IOV VF): the one window is the 64-bit one, at the default address.
          const w = u.createWindow(DDW_PAGE_SHIFT, DDW_SIZE);
          if (step('TCE_CREATE (the only window)', w.ret) && step('MAP_DMA', u.mapDma(w.start + USER_IOVA, buf.vaddr, 1n << BigInt(DDW_PAGE_SHIFT), rw))) {
            if (w.start + DDW_SIZE <= reach) roundTrip(w.start + USER_IOVA, 'single window');
          }
        } else if (step('TCE_CREATE (default window)', u.createWindow(12, BigInt(info.info.dma32WindowSize)).ret)
          && step('MAP_DMA (default window)', u.mapDma(USER_IOVA, buf.vaddr, size, rw))) {
          roundTrip(USER_IOVA, 'default window');
          const w = u.createWindow(DDW_PAGE_SHIFT, DDW_SIZE);
          if (step('TCE_CREATE (64-bit window)', w.ret) && step('MAP_DMA (64-bit window)', u.mapDma(w.start, buf.vaddr, 1n << BigInt(DDW_PAGE_SHIFT), rw))) {
            if (w.start + DDW_SIZE <= reach) roundTrip(w.start, '64-bit window');
            step('TCE_REMOVE with live TCEs', u.removeWindow(w.start));
          }
        }
      }
      step('VFIO_GROUP_UNSET_CONTAINER with live TCEs', c.unsetContainer(group));
      // The user is gone: its IOVA must reach nothing (the oracle judges the device's attempt) ...
      eduDma(k, dev, USER_IOVA, 64, false);
      ops++;
      // ... and the restored default window must hold none of its TCEs.
      const t0 = drv.groupOf(dev)?.tables[0];
      for (let p = 0; t0 && p < pages; p++) {
        const tce = t0.get(Number(USER_IOVA >> 12n) + p - t0.itOffset);
        if (tce) errors.push(`stale TCE 0x${tce.toString(16)} at 0x${(USER_IOVA + BigInt(p * 4096)).toString(16)} after the user left`);
      }
      for (const d of group.devices) {
        const ret = k.drivers.bind(d);
        if (ret && d === dev) errors.push(`host driver rebind: ${errnoName(ret)}`);
      }
      if (host && host.instances.has(dev)) {
        const p = k.mem.alloc(4096)!;
        ops += 2;
        const r1 = host.transfer(dev, p, 256, 'to-device');
        const r2 = r1 ? r1 : host.transfer(dev, p, 256, 'from-device');
        if (r2) errors.push(`host DMA after the rebind: ${errnoName(r2)}`);
        else bytes += 512;
        k.mem.freePages(p, 4096);
      }
      return { ok: errors.length === 0, ops, bytes, errors, details: {} };
    },
  };
}
