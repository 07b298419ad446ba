import type { GuestDevice } from '../device.js';
import { EINVAL, EIO, ENODEV, ENOMEM, errnoName } from '../errno.js';
import type { IommuGroup } from '../iommu-core/group.js';
import type { GuestKernel } from '../kernel.js';
import { spaprTceDriverOf } from '../spapr/module.js';
import { VfioSpaprTceContainer } from '../spapr/vfio/container.js';
import { VFIO_SPAPR_TCE_v2_IOMMU } from '../spapr/vfio/uapi.js';
import { VfioSpaprUser } from '../spapr/vfio/user.js';
import { VfioUserMemory } from '../spapr/vfio/user-mm.js';
import { eduUserDma } from './edu-user-dma.js';
import { VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE, VFIO_TYPE1v2_IOMMU, VfioType1Container } from './type1.js';

/** Where the user maps its buffer (bus address), as QEMU's and DPDK's tests put it above the first MiB. */
export const VFIO_USER_IOVA = 0x100000;
const PAGE = 4096;

/** What a step of the user did: 0 or a negative errno, plus what it moved and its errors. */
export interface VfioStepResult {
  readonly ret: number;
  readonly ops: number;
  readonly bytes: number;
  readonly errors: readonly string[];
}

type Backend =
  | { readonly kind: 'type1'; readonly c: VfioType1Container; readonly paddr: number }
  | { readonly kind: 'spapr-tce-v2'; readonly c: VfioSpaprTceContainer; readonly u: VfioSpaprUser; readonly paddr: number; readonly vaddr: bigint };

/**
 * A device bound to the guest's vfio-pci driver and the user program that
 * opened it (the seed 000 scenario, and what a DPDK application or a
 * nested QEMU does): `bind` releases the kernel driver of every device of
 * the IOMMU group (vfio-pci binds with driver_managed_dma, so it takes no
 * default-domain reference), opens a container (type1 v2, or sPAPR TCE v2
 * on pseries where the host kernel has no type1), maps `pages` of its
 * buffer at VFIO_USER_IOVA and round-trips data through the device's DMA
 * engine, checking it. `unbind` is the user exiting: the container goes
 * with whatever it still maps (the sPAPR TCEs are live, as when QEMU is
 * killed: the order of clear and unset is seed 004's), a stray DMA at the
 * old IOVA must reach nothing (the DMA oracle judges it), and vfio-pci
 * lets go; `rebind` then probes the host driver again (seed 000: its DMA
 * mask must be settable again).
 */
export class VfioPciBinding {
  readonly hostDriver: string | undefined;
  private backend: Backend | undefined;

  private constructor(readonly k: GuestKernel, readonly dev: GuestDevice, readonly group: IommuGroup, readonly pages: number,
    /** The user has a driver for an edu-style DMA engine ('edu') or none: then it only maps, and makes no DMA. */
    readonly userDriver: 'edu' | 'none') {
    this.hostDriver = dev.driver;
  }

  get containerKind(): 'type1' | 'spapr-tce-v2' | undefined {
    return this.backend?.kind;
  }

  /** Binds `dev` to vfio-pci and runs the user's set-up and DMA; the binding is kept in k.vfio while it holds the device. */
  static bind(k: GuestKernel, dev: GuestDevice, opts: { pages?: number; transfers?: number; rng?: () => number; userDriver?: 'edu' | 'none' } = {}): { binding?: VfioPciBinding } & VfioStepResult {
    if (k.vfio.get(dev)) return { ret: -EINVAL, ops: 0, bytes: 0, errors: [`${dev.name} is already bound to vfio-pci`] };
    const group = k.iommu.groupOf(dev);
    if (!group) {
      // vfio_group_find_or_alloc: no IOMMU group and no noiommu mode.
      const msg = `vfio-pci ${dev.name}: probe failed: no IOMMU group (${errnoName(-EINVAL)})`;
      k.log.err(`vfio-pci ${dev.name}`, 'probe failed: no IOMMU group');
      return { ret: -EINVAL, ops: 0, bytes: 0, errors: [msg] };
    }
    const b = new VfioPciBinding(k, dev, group, Math.max(1, Math.min(64, opts.pages ?? 4)), opts.userDriver ?? 'edu');
    for (const d of group.devices) k.drivers.unbind(d);
    dev.driver = 'vfio-pci';
    k.vfio.set(dev, b);
    k.log.info(`vfio-pci ${dev.name}`, `bound (group ${group.id})`);
    const r = b.open(opts.transfers ?? 1, opts.rng ?? (() => 0x5a));
    return { binding: b, ...r };
  }

  private fail(ret: number, what: string, errors: string[], ops = 0, bytes = 0): VfioStepResult {
    errors.push(`${what}: ${errnoName(ret)}`);
    return { ret, ops, bytes, errors };
  }

  private open(transfers: number, rng: () => number): VfioStepResult {
    const errors: string[] = [];
    const size = this.pages * PAGE;
    const rw = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
    this.dev.pci?.setMaster();
    const tce = spaprTceDriverOf(this.k);
    if (tce) {
      const user = new VfioUserMemory(this.k.mem);
      const c = new VfioSpaprTceContainer(this.k, tce, user);
      const u = new VfioSpaprUser(c);
      const buf = user.mmap(size);
      if (!buf) return this.fail(-ENOMEM, 'mmap', errors);
      this.backend = { kind: 'spapr-tce-v2', c, u, paddr: buf.paddr, vaddr: buf.vaddr };
      let ret = c.setContainer(this.group);
      if (ret) return this.fail(ret, 'VFIO_GROUP_SET_CONTAINER', errors);
      if ((ret = c.setIommu(VFIO_SPAPR_TCE_v2_IOMMU))) return this.fail(ret, 'VFIO_SET_IOMMU(SPAPR_TCE_v2)', errors);
      if ((ret = u.registerMemory(buf.vaddr, BigInt(size))) < 0) return this.fail(ret, 'VFIO_IOMMU_SPAPR_REGISTER_MEMORY', errors);
      const info = u.getInfo();
      if (info.ret < 0) return this.fail(info.ret, 'VFIO_IOMMU_SPAPR_TCE_GET_INFO', errors);
      // QEMU's hw/vfio/spapr.c: the default window goes, then one is made to match the guest's.
      if ((ret = u.removeWindow(0n)) < 0) return this.fail(ret, 'VFIO_IOMMU_SPAPR_TCE_REMOVE (default window)', errors);
      const w = u.createWindow(12, BigInt(info.info.dma32WindowSize));
      if (w.ret < 0) return this.fail(w.ret, 'VFIO_IOMMU_SPAPR_TCE_CREATE', errors);
      if ((ret = u.mapDma(BigInt(VFIO_USER_IOVA), buf.vaddr, BigInt(size), rw)) < 0) return this.fail(ret, 'VFIO_IOMMU_MAP_DMA', errors);
    } else {
      const paddr = this.k.mem.alloc(size);
      if (paddr === undefined) return this.fail(-ENOMEM, 'mmap', errors);
      const c = new VfioType1Container(this.k.iommu);
      this.backend = { kind: 'type1', c, paddr };
      let ret = c.setContainer(this.group);
      if (ret) return this.fail(ret, 'VFIO_GROUP_SET_CONTAINER', errors);
      if ((ret = c.setIommu(VFIO_TYPE1v2_IOMMU))) return this.fail(ret, 'VFIO_SET_IOMMU(TYPE1v2)', errors);
      if ((ret = c.mapDma(VFIO_USER_IOVA, paddr, size, rw))) return this.fail(ret, 'VFIO_IOMMU_MAP_DMA', errors);
    }
    return this.userDriver === 'edu' ? this.dma(transfers, rng) : { ret: 0, ops: 0, bytes: 0, errors };
  }

  /** Round trips through the device: user buffer -> device -> user buffer + half a page, data compared. */
  dma(transfers: number, rng: () => number): VfioStepResult {
    const errors: string[] = [];
    const be = this.backend;
    if (!be) return this.fail(-ENODEV, 'DMA', errors);
    let ops = 0;
    let bytes = 0;
    const len = 256;
    for (let i = 0; i < transfers; i++) {
      const page = i % this.pages;
      const off = page * PAGE;
      const data = Uint8Array.from({ length: len }, () => rng() & 0xff);
      this.k.port.writeBytes(be.paddr + off, data);
      this.k.port.writeBytes(be.paddr + off + 0x800, new Uint8Array(len));
      const a = eduUserDma(this.k, this.dev, VFIO_USER_IOVA + off, len, false);
      const b = a && eduUserDma(this.k, this.dev, VFIO_USER_IOVA + off + 0x800, len, true);
      ops += 2;
      if (!a || !b) return this.fail(-EIO, `DMA ${i + 1}: the device did not finish`, errors, ops, bytes);
      const back = new Uint8Array(len);
      this.k.port.readBytes(be.paddr + off + 0x800, back);
      const bad = back.findIndex((v, j) => v !== data[j]);
      if (bad >= 0) errors.push(`DMA ${i + 1}: the data came back different at byte ${bad}`);
      bytes += 2 * len;
    }
    return { ret: errors.length ? -EIO : 0, ops, bytes, errors };
  }

  /**
   * The user exits (the container goes with what it still maps), a stray
   * DMA at the old IOVA is tried (it must reach nothing: the oracle
   * judges), vfio-pci lets go; with `rebind` the host driver probes again.
   */
  unbind(rebind: boolean): VfioStepResult {
    const errors: string[] = [];
    const be = this.backend;
    if (be?.kind === 'type1') {
      be.c.unsetContainer();
    } else if (be) {
      const ret = be.c.unsetContainer(this.group);
      if (ret < 0) errors.push(`VFIO_GROUP_UNSET_CONTAINER: ${errnoName(ret)}`);
      const tce = spaprTceDriverOf(this.k);
      const t0 = tce?.groupOf(this.dev)?.tables[0];
      for (let p = 0; t0 && p < this.pages; p++) {
        const e = t0.get(VFIO_USER_IOVA / PAGE + p - t0.itOffset);
        if (e) errors.push(`stale TCE 0x${e.toString(16)} at 0x${(VFIO_USER_IOVA + p * PAGE).toString(16)} after the user left`);
      }
    }
    this.backend = undefined;
    if (this.userDriver === 'edu') eduUserDma(this.k, this.dev, VFIO_USER_IOVA, 64, false);
    this.k.vfio.delete(this.dev);
    this.dev.driver = undefined;
    this.k.log.info(`vfio-pci ${this.dev.name}`, 'unbound');
    let ops = this.userDriver === 'edu' ? 1 : 0;
    if (rebind) {
      for (const d of this.group.devices) {
        const ret = this.k.drivers.bind(d);
        if (ret && d === this.dev) errors.push(`host driver rebind: ${errnoName(ret)}`);
      }
      ops++;
    }
    return { ret: errors.length ? -EIO : 0, ops, bytes: 0, errors };
  }
}
