import t from 'tap';
import { ChromeTrace } from '../../src/base/index.js';
import { IOMMU_NOTIFIER_MAP, IOMMU_NOTIFIER_UNMAP, IommuMemoryRegion, iommuNotifierInit } from '../../src/iommu/index.js';
import { IOMMU_NONE, IOMMU_RW, MemorySystem } from '../../src/memory/index.js';
import { checkTrace, trackNames } from '../helpers/trace-check.js';

t.test('notifier deliveries are traced on the region\'s track, with the consumer\'s work inside', async (t) => {
  const sys = new MemorySystem();
  const region = new IommuMemoryRegion(sys, 'vtd-00.03.0', 1n << 64n);
  let now = 0;
  const inner = { group: 'vhost', track: 'vhost-net0' };
  const n = iommuNotifierInit(() => sys.tracer.instant(inner, 'vhost', 'IOTLB msg'), IOMMU_NOTIFIER_MAP | IOMMU_NOTIFIER_UNMAP, 0x1000n, 0x1fffn, 0);
  const other = iommuNotifierInit(() => {}, IOMMU_NOTIFIER_UNMAP, 0x8000n, 0x8fffn, 0);
  t.equal(region.registerNotifier(n), null);
  t.equal(region.registerNotifier(other), null);
  region.notify(0, { type: IOMMU_NOTIFIER_MAP, entry: { targetAs: null, iova: 0x1000n, translatedAddr: 0x5000n, addrMask: 0xfffn, perm: IOMMU_RW } });
  const trace = new ChromeTrace();
  sys.tracer.attach(trace, () => now);
  now = 3000;
  region.notify(0, { type: IOMMU_NOTIFIER_MAP, entry: { targetAs: null, iova: 0x1000n, translatedAddr: 0x5000n, addrMask: 0xfffn, perm: IOMMU_RW } });
  now = 4000;
  region.notify(0, { type: IOMMU_NOTIFIER_UNMAP, entry: { targetAs: null, iova: 0n, translatedAddr: 0n, addrMask: 0xffffffffn, perm: IOMMU_NONE } });
  const f = trace.toJSON();
  t.same(checkTrace(f), []);
  const evs = f.traceEvents.filter((e) => e.ph !== 'M');
  t.same(evs.map((e) => `${e.ph} ${e.name} ${e.ts}`), [
    'B notify MAP 3', 'i IOTLB msg 3', 'E notify MAP 3',
    // the UNMAP reaches both notifiers (newest first), cropped to each range
    'B notify UNMAP 4', 'E notify UNMAP 4', 'B notify UNMAP 4', 'i IOTLB msg 4', 'E notify UNMAP 4',
  ], 'no events before the tracer was attached');
  t.same(evs[0]!.args, { iova: '0x1000', size: '0x1000', perm: IOMMU_RW, flags: IOMMU_NOTIFIER_MAP | IOMMU_NOTIFIER_UNMAP });
  t.same(evs[3]!.args, { iova: '0x8000', size: '0x1000', perm: IOMMU_NONE, flags: IOMMU_NOTIFIER_UNMAP });
  t.equal(trackNames(f).get(`${evs[0]!.pid}/${evs[0]!.tid}`), 'vtd-00.03.0');
  t.equal(trackNames(f).get(String(evs[0]!.pid)), 'vIOMMU notifiers');
});
