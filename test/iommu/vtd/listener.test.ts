import t from 'tap';
import { IommuRegion, type MemoryRegionSection } from '../../../src/memory/index.js';
import {
  IOMMU_NOTIFIER_UNMAP, iommuNotifierInit, iommuRegionOf, registerIommuNotifier, unregisterIommuNotifier, type IOMMUNotifier,
} from '../../../src/iommu/index.js';
import { R, SRTP, vtdMachine } from './helpers.js';

// How a DMA consumer (vhost, vfio: issue 11) follows a device behind VT-d, as
// QEMU's vhost_iommu_region_add does: a memory listener on the device's DMA
// address space; each IOMMU section that appears gets a notifier over its
// range (offset_within_region .. + size - 1), removed again in region_del.
// Turning translation on or off switches the vtd-SS.F-dmar region in and out.

t.test('a listener on the device\'s DMA address space registers notifiers on the dmar sections and gets PSIs', async (t) => {
  const v = vtdMachine();
  const dma = v.edu.busMaster.dmaAddressSpace!;
  t.equal(dma.name, 'vtd-root');
  const notifiers = new Map<MemoryRegionSection['mr'], IOMMUNotifier[]>();
  const got: [bigint, bigint][] = [];
  const log: string[] = [];
  v.m.mem.registerListener(dma, {
    name: 'vhost-iommu',
    regionAdd: (s) => {
      if (!(s.mr instanceof IommuRegion)) return;
      log.push(`add ${s.mr.name} @0x${s.offsetWithinAddressSpace.toString(16)}`);
      const n = iommuNotifierInit((_n, e) => got.push([e.iova, e.addrMask]), IOMMU_NOTIFIER_UNMAP,
        s.offsetWithinRegion, s.offsetWithinRegion + s.size - 1n, 0);
      t.equal(registerIommuNotifier(s.mr, n), null);
      notifiers.set(s.mr, [...(notifiers.get(s.mr) ?? []), n]);
    },
    regionDel: (s) => {
      if (!(s.mr instanceof IommuRegion)) return;
      log.push(`del ${s.mr.name} @0x${s.offsetWithinAddressSpace.toString(16)}`);
      const list = notifiers.get(s.mr) ?? [];
      const n = list.find((x) => x.start === s.offsetWithinRegion);
      if (n) unregisterIommuNotifier(s.mr, n);
      notifiers.set(s.mr, list.filter((x) => x !== n));
    },
  });
  t.same(log, [], 'DMAR off: no IOMMU section');
  const s = v.bringUp({ did: 4 });
  t.same(log, ['add vtd-01.0-dmar @0x0', 'add vtd-01.0-dmar @0xfef00000'], 'TE on: the dmar region, around vtd-ir');
  const region = iommuRegionOf(v.das().iommu.mr);
  t.equal(region.registeredNotifiers.length, 2);
  v.qiOn();
  v.map(s, 3, 0x1000, 0x300000);
  got.length = 0;
  v.submit(v.psi(4, 0x1000, 0), v.waitDesc());
  t.same(got, [[0x1000n, 0xfffn]], 'the PSI reaches the consumer');
  v.w32(R.GCMD, SRTP);
  t.same(log.slice(2), ['del vtd-01.0-dmar @0x0', 'del vtd-01.0-dmar @0xfef00000'], 'TE off: region_del, the consumer unregisters');
  t.equal(region.registeredNotifiers.length, 0);
  t.same(v.vtd.withNotifiers, []);
});
