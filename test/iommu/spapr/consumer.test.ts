import t from 'tap';
import {
  IOMMU_NOTIFIER_DEVIOTLB_UNMAP, IOMMU_NOTIFIER_IOTLB_EVENTS, IOMMU_NOTIFIER_MAP, IOMMU_NOTIFIER_UNMAP, iommuNotifierInit,
  iommuRegionOf, type IOMMUNotifier,
} from '../../../src/iommu/index.js';
import { IommuRegion, MEMTXATTRS_UNSPECIFIED, type MemoryRegionSection } from '../../../src/memory/index.js';
import { pseries } from './helpers.js';

const BUID = [0x08000000, 0x20000000];

/**
 * A VFIO-style consumer on pseries, as QEMU's vfio listener does it
 * (hw/vfio/listener.c + hw/vfio/spapr.c; ref qemu-core section 3): it
 * listens to the device's DMA address space (the PHB's); each IOMMU
 * section is a TCE window: first the host window is set up (here:
 * recorded), then MAP|UNMAP is registered over the section and replayed.
 * The shadow is keyed by bus address (iova + the section's offset in the
 * address space).
 */
function vfioConsumer(as: Parameters<ReturnType<typeof pseries>['m']['mem']['registerListener']>[0], m: ReturnType<typeof pseries>['m'], label: (n: IOMMUNotifier) => void) {
  const shadow = new Map<bigint, bigint>();
  const windows: string[] = [];
  const notifiers = new Map<string, { n: IOMMUNotifier; mr: ReturnType<typeof iommuRegionOf> }>();
  m.mem.registerListener(as, {
    name: 'vfio',
    regionAdd(s: MemoryRegionSection) {
      if (!(s.mr instanceof IommuRegion)) return;
      const off = s.offsetWithinAddressSpace - s.offsetWithinRegion;
      windows.push(`+${s.mr.name} @0x${s.offsetWithinAddressSpace.toString(16)} size 0x${s.size.toString(16)}`);
      const mr = iommuRegionOf(s.mr);
      const n = iommuNotifierInit((_n, e) => {
        if (e.perm) shadow.set(e.iova + off, e.translatedAddr);
        else for (let a = e.iova; a <= e.iova + e.addrMask; a += 4096n) shadow.delete(a + off);
      }, IOMMU_NOTIFIER_IOTLB_EVENTS, s.offsetWithinRegion, s.offsetWithinRegion + s.size - 1n, mr.attrsToIndex(MEMTXATTRS_UNSPECIFIED));
      const err = mr.registerNotifier(n);
      if (err) throw new Error(`vfio: ${err.message}`);
      label(n);
      mr.replay(n);
      notifiers.set(s.mr.name, { n, mr });
    },
    regionDel(s: MemoryRegionSection) {
      const e = notifiers.get(s.mr.name);
      if (!e) return;
      windows.push(`-${s.mr.name}`);
      e.mr.unregisterNotifier(e.n);
      notifiers.delete(s.mr.name);
    },
  });
  return { shadow, windows };
}

t.test('a VFIO-style consumer shadows every TCE window: region_add -> window -> MAP|UNMAP -> replay; region_del unregisters', async (t) => {
  const { m, board } = pseries('-device', 'edu');
  const h = (op: number, ...a: bigint[]) => board.hcalls.call(op, a);
  const t0 = board.phbDma.tables[0]!;
  h(0x20, 0x80000000n, 0x2000n, 0xa000_0003n);
  const c = vfioConsumer(board.dmaAs, m, (n) => board.tce.label(n, 'vfio'));
  t.same(c.windows, ['+tce-iommu-80000000 @0x0 size 0x40000000'], 'the default window, found when the listener registered');
  t.same([...c.shadow], [[0x2000n, 0xa000_0000n]], 'replayed');
  t.equal(t0.needVfio, true);
  h(0x20, 0x80000000n, 0x3000n, 0xb000_0001n);
  t.equal(c.shadow.get(0x3000n), 0xb000_0000n, 'a MAP per H_PUT_TCE');
  h(0x138, 0x80000000n, 0x2000n, 0n, 2n);
  t.equal(c.shadow.size, 0, 'UNMAP per cleared page');
  t.same(board.rtas.callWithArrays(0x2027, [0, ...BUID, 16, 30], 4)[0], 0);
  t.same(c.windows.at(-1), '+tce-iommu-80000001 @0x800000000000000 size 0x40000000', 'a DDW appears as a new section');
  h(0x20, 0x80000001n, 0x0800_0000_0001_0000n, 0xc000_0003n);
  t.equal(c.shadow.get(0x0800_0000_0001_0000n), 0xc000_0000n, 'keyed by bus address: iova + the section offset');
  t.same(board.rtas.callWithArrays(0x2028, [0x80000001], 1), [0]);
  t.same(c.windows.at(-1), '-tce-iommu-80000001');
  t.equal(board.phbDma.tables[1]!.needVfio, false, 'the last notifier gone: the table no longer needs VFIO');
  t.match(board.tce.info(), /notifier: vfio UNMAP\|MAP \[0x0, 0x3fffffff\] idx 0/);
});

t.test('vhost\'s two-step on sPAPR: DEVIOTLB_UNMAP is vetoed with QEMU\'s text, UNMAP is accepted', async (t) => {
  const { board } = pseries('-device', 'edu');
  const mr = board.phbDma.tables[0]!.iommu;
  const tryFlags = (flags: number) => mr.registerNotifier(iommuNotifierInit(() => undefined, flags, 0n, 0x3fffffffn, 0));
  t.same(tryFlags(IOMMU_NOTIFIER_DEVIOTLB_UNMAP), { errno: -22, message: 'spart_tce does not support dev-iotlb yet' });
  t.equal(mr.iommuNotifyFlags, 0, 'the vetoed attempt left the flags alone (need-vfio not switched)');
  t.equal(board.phbDma.tables[0]!.needVfio, false);
  t.equal(tryFlags(IOMMU_NOTIFIER_UNMAP), null, 'the fallback');
  t.equal(board.phbDma.tables[0]!.needVfio, true, 'only the UNMAP registration flips need-vfio');
  t.equal(tryFlags(IOMMU_NOTIFIER_MAP | IOMMU_NOTIFIER_UNMAP), null, 'VFIO\'s IOTLB_EVENTS is accepted next to it');
});
