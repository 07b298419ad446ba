import t from 'tap';
import { VirtualClock } from '../../src/base/clock.js';
import { GuestClock } from '../../src/guest/clock.js';
import { dmaBitMask } from '../../src/guest/device.js';
import { IommuDmaOps } from '../../src/guest/dma/dma-iommu.js';
import { DEFAULT_FQ } from '../../src/guest/dma/flush-queue.js';
import { IovaDomain } from '../../src/guest/dma/iova.js';
import { IOMMU_DOMAIN_DMA } from '../../src/guest/iommu-core/domain-types.js';
import { coreSetup } from './fake/soft-iommu.js';

const LIMIT28 = Math.floor(dmaBitMask(28) / 4096);

t.test('top-down below the limit, aligned to the size rounded up to a power of two', async (t) => {
  const d = new IovaDomain(4096, 1);
  t.equal(d.alloc(1, LIMIT28), LIMIT28, 'the highest page under a 28-bit mask');
  t.equal(d.alloc(2, LIMIT28), LIMIT28 - 3);
  t.equal(d.alloc(3, LIMIT28), LIMIT28 - 7, 'three pages aligned to four');
  t.equal(d.free(LIMIT28 - 3), 2);
  t.equal(d.alloc(1, LIMIT28), LIMIT28 - 1, 'the highest free gap is used again');
  t.ok(d.allocated.every((r) => r.hi <= LIMIT28));
});

t.test('masks, reservations, start pfn and exhaustion', async (t) => {
  const d = new IovaDomain(4096, 1);
  d.reserve(LIMIT28 - 99, LIMIT28);
  t.equal(d.alloc(1, LIMIT28), LIMIT28 - 100, 'reserved ranges are skipped');
  t.equal(d.alloc(4, 7), 4, 'a tiny limit');
  t.equal(d.alloc(4, 7), 0, 'nothing left under it: pfn 0 is never handed out');
  const small = new IovaDomain(4096, 1);
  t.equal(small.alloc(1, 1), 1);
  t.equal(small.alloc(1, 1), 0);
  t.equal(small.free(12345), 0, 'freeing what was never allocated');
  const r = new IovaDomain(4096, 1);
  r.reserve(10, 20);
  r.reserve(21, 30);
  t.equal(r.allocated.length, 1, 'touching reservations merge');
  t.throws(() => {
    const x = new IovaDomain(4096, 1);
    x.alloc(1, 100);
    x.reserve(90, 110);
  }, /overlaps an allocated IOVA range/);
});

t.test('allocFast rounds small sizes to a power of two, large ones not', async (t) => {
  const d = new IovaDomain(4096, 1);
  const a = d.allocFast(3, 0xfffff);
  t.equal(d.find(a)!.hi - a + 1, 4);
  const b = d.allocFast(40, 0xfffff);
  t.equal(d.find(b)!.hi - b + 1, 40);
  t.equal(b % 64, 0, 'aligned to 64 pages');
});

t.test('the IOMMU DMA path tries 32-bit IOVAs first for PCI devices, then uses the full mask (SAC workaround)', async (t) => {
  const s = coreSetup({ defaultDomainType: IOMMU_DOMAIN_DMA });
  s.core.registerInstance(s.drv.instance);
  const dev = s.dev('virtio');
  s.core.addDevice(dev);
  const clock = new VirtualClock();
  const holes: { start: number; size: number }[] = [];
  const ops = new IommuDmaOps(s.core, new GuestClock({ now: () => clock.now, advance: (n) => clock.step(n) }), DEFAULT_FQ, () => holes);
  dev.dmaMask = dmaBitMask(40);
  const first = ops.map(dev, 0x12_3000, 100, 'to-device');
  t.ok(first < 2 ** 32 && first > 2 ** 31, `first IOVA 0x${first.toString(16)} is just below 4 GiB`);
  t.equal(first % 4096, 0);
  const off = ops.map(dev, 0x12_3abc, 16, 'to-device');
  t.equal(off % 4096, 0xabc, 'the in-page offset is kept');
  const dom = s.core.groupOf(dev)!.defaultDomain!;
  const cookie = ops.cookieOf(dom)!;
  cookie.iovad.reserve(1, Math.floor((2 ** 32 - 1) / 4096) - 2);
  const high = ops.map(dev, 0x12_3000, 4096, 'to-device');
  t.ok(high >= 2 ** 32 && high < 2 ** 40, 'when 32-bit space is gone it falls back to 40-bit IOVAs');
  t.ok(s.log.grep(/Using 40-bit DMA addresses/).length === 1);
  dev.dmaMask = dmaBitMask(28);
  const low = ops.map(s.dev('mf0'), 0x5000, 4096, 'from-device');
  t.equal(low, -1, 'a device with no group has no IOMMU DMA');
  t.equal(s.drv.calls.filter((c) => c === 'sync').length, 0, 'no unmap yet, no invalidation');
  ops.unmap(dev, first, 100, 'to-device');
  t.equal(s.drv.calls.filter((c) => c === 'sync').length, 1, 'strict: the unmap synced at once');
  t.equal(dom.type, IOMMU_DOMAIN_DMA);
});
