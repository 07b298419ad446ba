import t from 'tap';
import { EBUSY, EFAULT, EINVAL, ENOENT, ENOSPC, ENOTTY, ENXIO, EPERM } from '../../../src/guest/errno.js';
import {
  VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE, VFIO_IOMMU_SPAPR_INFO_DDW, VFIO_SPAPR_TCE_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU,
} from '../../../src/guest/spapr/vfio/uapi.js';
import { bootPseries, eduDma, eduOf, vfioUser, type PseriesRig } from './helpers.js';

const RW = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
const DDW_START = 0x10000000000n;

/** A VFIO v2 user owning the edu's group, with 1 MiB of preregistered memory. */
function owned(rig: PseriesRig) {
  const k = rig.k;
  const dev = eduOf(k);
  k.drivers.unbind(dev);
  const v = vfioUser(k);
  const g = k.iommu.groupOf(dev)!;
  const claim = v.c.setContainer(g);
  const setIommu = v.c.setIommu(VFIO_SPAPR_TCE_v2_IOMMU);
  const buf = v.user.mmap(0x100000)!;
  return { ...v, dev, g, buf, claim, setIommu };
}

t.test('GET_INFO: the default window and DDW facts, absolute bus addresses; EINVAL for a short argsz', async (t) => {
  const rig = bootPseries(['-device', 'edu']);
  const { c, u, g } = owned(rig);
  const r = u.getInfo();
  t.equal(r.ret, 0);
  t.same(r.info, { flags: VFIO_IOMMU_SPAPR_INFO_DDW, dma32WindowStart: 0, dma32WindowSize: 0x40000000, ddw: { pgsizes: 0x1211000n, maxDynamicWindowsSupported: 2, levels: 1 } });
  const short = u.getInfo(16);
  t.equal(short.ret, 0);
  t.equal(short.info.ddw.pgsizes, 0n, 'with argsz 16 the ddw part is not copied');
  t.equal(u.getInfo(12).ret, -EINVAL);
  c.unsetContainer(g);
  t.equal(u.getInfo().ret, -EINVAL, 'the last group left: the container has no IOMMU driver any more');
});

t.test('MAP/UNMAP errors (ref A9): EPERM before REGISTER_MEMORY, EINVAL flags and alignment, ENXIO outside every window', async (t) => {
  const rig = bootPseries(['-device', 'edu']);
  const { u, buf, claim, setIommu } = owned(rig);
  t.same([claim, setIommu], [0, 0]);
  t.equal(u.mapDma(0x10000n, buf.vaddr, 0x1000n, RW), -EPERM, 'not enabled yet');
  t.equal(u.registerMemory(buf.vaddr + 1n, 0x1000n), -EINVAL, 'unaligned registration');
  t.equal(u.registerMemory(0x1000n, 0x1000n), -EFAULT, 'memory the process does not have');
  t.equal(u.registerMemory(buf.vaddr, 0x100000n, 1), -EINVAL, 'flags must be 0');
  t.equal(u.registerMemory(buf.vaddr, 0x100000n), 0);
  t.equal(u.registerMemory(buf.vaddr, 0x100000n), -EBUSY, 'the same region twice');
  t.equal(u.registerMemory(buf.vaddr + 0x1000n, 0x1000n), -EINVAL, 'an overlapping region');
  t.equal(u.mapDma(0x10000n, buf.vaddr, 0x1000n, 4), -EINVAL, 'unknown flag');
  t.equal(u.mapDma(0x10000n, buf.vaddr, 0x1000n, 0), -EINVAL, 'neither READ nor WRITE');
  t.equal(u.mapDma(0x10000n, buf.vaddr, 0x1000n, RW, 16), -EINVAL, 'argsz below the structure');
  t.equal(u.mapDma(0x10000n, buf.vaddr + 0x800n, 0x1000n, RW), -EINVAL, 'vaddr not page aligned');
  t.equal(u.mapDma(0x10000n, buf.vaddr, 0x800n, RW), -EINVAL, 'size not page aligned');
  t.equal(u.mapDma(0x80000000n, buf.vaddr, 0x1000n, RW), -ENXIO, 'beyond the 1 GiB default window');
  t.equal(u.mapDma(0x10000n, 0x1000n, 0x1000n, RW), -EINVAL, 'vaddr outside the preregistered memory');
  t.equal(u.mapDma(0x10000n, buf.vaddr, 0x2000n, VFIO_DMA_MAP_FLAG_WRITE), 0);
  const t0 = rig.board.phbDma.tables[0]!;
  t.equal(t0.get(0x10000n).tce & 3n, 2n, 'WRITE only: the TCE is WO (DMA_FROM_DEVICE)');
  t.equal(u.mapDma(0x10000n, buf.vaddr + 0x4000n, 0x1000n, VFIO_DMA_MAP_FLAG_READ), 0, 'an existing TCE is exchanged');
  t.equal(t0.get(0x10000n).tce, BigInt(buf.paddr + 0x4000) | 1n);
  t.equal(u.unregisterMemory(buf.vaddr, 0x100000n), -EBUSY, 'TCEs still use the region');
  t.equal(u.unmapDma(0x10000n, 0x1000n, 1), -EINVAL, 'UNMAP flags must be 0');
  t.equal(u.unmapDma(0x80000000n, 0x1000n), -ENXIO);
  t.equal(u.unmapDma(0x10000n, 0x800n), -EINVAL);
  t.equal(u.unmapDma(0x10000n, 0x2000n), 0);
  t.equal(t0.validCount(), 0);
  t.equal(u.unregisterMemory(buf.vaddr, 0x100000n), 0);
  t.equal(u.unregisterMemory(buf.vaddr, 0x100000n), -ENOENT);
});

t.test('TCE_CREATE / TCE_REMOVE: the default window is created lazily at 0, a second one at dma64_win_addr, no third (ENOSPC)', async (t) => {
  const rig = bootPseries(['-device', 'edu,dma_mask=0xffffffffffffffff', '-global', `spapr-pci-host-bridge.dma64_win_addr=0x${DDW_START.toString(16)}`]);
  const { c, u, buf } = owned(rig);
  t.equal(u.registerMemory(buf.vaddr, 0x100000n), 0);
  t.equal(u.createWindow(13, 1n << 28n).ret, -EINVAL, 'page size not offered');
  t.equal(u.createWindow(16, 3n << 27n).ret, -EINVAL, 'not a power of two');
  t.equal(u.createWindow(16, 1n << 28n, 2).ret, -EINVAL, 'pSeries tables have one level');
  const w = u.createWindow(16, 1n << 28n);
  t.equal(w.ret, 0);
  t.equal(w.start, DDW_START, 'start_addr: the absolute bus address of the new window');
  t.equal(c.tables[0]!.busStart, 0n, 'the pending default window came first, at 0');
  t.equal(u.createWindow(16, 1n << 28n).ret, -ENOSPC);
  t.equal(u.mapDma(DDW_START + 0x10000n, buf.vaddr, 0x10000n, RW), 0);
  const t1 = rig.board.phbDma.tables[1]!;
  t.equal(t1.liobn, 0x80000001);
  t.equal(t1.get(DDW_START + 0x10000n).tce, BigInt(buf.paddr) | 3n);
  rig.k.port.writeBytes(buf.paddr, Uint8Array.from([5, 6, 7, 8]));
  eduDma(rig.k, eduOf(rig.k), Number(DDW_START) + 0x10000, 4, false);
  eduDma(rig.k, eduOf(rig.k), Number(DDW_START) + 0x10800, 4, true);
  const back = new Uint8Array(4);
  rig.k.port.readBytes(buf.paddr + 0x800, back);
  t.same([...back], [5, 6, 7, 8], 'a round trip through the 64-bit window');
  t.equal(rig.oracle.violationCount, 0, 'a DMA through the 64-bit window is what the user mapped');
  t.equal(u.removeWindow(0x5000_0000_0000n), -EINVAL, 'no such window');
  t.equal(u.removeWindow(w.start, 1), -EINVAL, 'flags must be 0');
  t.equal(u.removeWindow(w.start), 0);
  t.equal(rig.board.phbDma.staleRemovals.length, 0, 'the window was empty when the hypervisor removed it');
  t.notOk(t1.enabled);
  const v1 = vfioUser(rig.k);
  t.equal(v1.c.setIommu(VFIO_SPAPR_TCE_IOMMU), -22, 'SET_IOMMU needs a group first');
});

t.test('v1 is refused on a table group with take/release ops; TCE_CREATE is v2-only', async (t) => {
  const rig = bootPseries(['-device', 'edu']);
  const dev = eduOf(rig.k);
  rig.k.drivers.unbind(dev);
  const { c, u } = vfioUser(rig.k);
  t.equal(c.setContainer(rig.k.iommu.groupOf(dev)!), 0);
  t.equal(c.setIommu(VFIO_SPAPR_TCE_IOMMU), -EPERM);
  t.equal(u.createWindow(16, 1n << 28n).ret, -EINVAL, 'no IOMMU driver attached');
  const v2 = owned(bootPseries(['-device', 'edu']));
  v2.c.v2 = false;
  t.equal(v2.u.createWindow(16, 1n << 28n).ret, -ENOTTY);
});

/** A live TCE in a 64-bit window, then the window goes (TCE_REMOVE) or the group leaves (detach). */
function liveWindowRemoved(regress: string[], how: 'remove' | 'detach') {
  const rig = bootPseries(['-device', 'edu', '-global', `spapr-pci-host-bridge.dma64_win_addr=0x${DDW_START.toString(16)}`], { regress });
  const o = owned(rig);
  o.u.registerMemory(o.buf.vaddr, 0x100000n);
  const w = o.u.createWindow(16, 1n << 28n);
  o.u.mapDma(w.start, o.buf.vaddr, 0x20000n, RW);
  o.u.mapDma(0x10000n, o.buf.vaddr, 0x1000n, RW);
  const ret = how === 'remove' ? o.u.removeWindow(w.start) : o.c.unsetContainer(o.g);
  return { rig, ret, failedHcalls: rig.k.log.grep(/plpar_tce|H_PARAMETER/).length };
}

for (const how of ['remove', 'detach'] as const) {
  t.test(`${how} with live TCEs: the TCEs are cleared before unset_window (4ba2fdff2eb1)`, async (t) => {
    const { rig, ret } = liveWindowRemoved([], how);
    t.equal(ret, 0);
    t.same(rig.board.phbDma.staleRemovals, [], 'every window the hypervisor removed was empty');
    t.match(rig.board.tce.info(), /windows removed with valid TCEs: none/);
    t.equal(rig.oracle.violationCount, 0);
  });

  t.test(`${how} with live TCEs under --regress seed004: the hypervisor sees the window removed while it still translates`, async (t) => {
    const { rig, ret } = liveWindowRemoved(['seed004'], how);
    t.equal(ret, 0, 'VFIO does not notice');
    const stale = rig.board.phbDma.staleRemovals;
    t.ok(stale.some((s) => s.liobn === 0x80000001 && s.valid === 2), 'LIOBN 0x80000001 removed with its 2 TCEs');
    if (how === 'detach') t.ok(stale.some((s) => s.liobn === 0x80000000 && s.valid === 1), 'and the default window with its TCE');
    t.ok(rig.m.log.grep(/window removed with 2 valid TCEs; PAPR expects the OS to clear them first/).length > 0);
    t.match(rig.board.tce.info(), /windows removed with valid TCEs: .*LIOBN 0x80000001 \(2\)/);
  });
}
