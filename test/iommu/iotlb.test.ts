import t from 'tap';
import { IOMMU_RO, IOMMU_RW } from '../../src/memory/index.js';
import { Iotlb, ConfigError } from '../../src/index.js';
import { iotlbLayout, CTR_EVICTIONS, CTR_HITS, CTR_MISSES } from '../../src/iommu/iotlb/layout.js';

const G = 2 ** 30;

t.test('insert and lookup, keyed by context and page', async (t) => {
  const tlb = Iotlb.create({ capacity: 64 });
  const s = tlb.insert(7, 0x1_2345_6789, 12, 0x9000, IOMMU_RW);
  t.equal(tlb.lookup(7, 0x1_2345_6000), s, 'any address in the page');
  t.equal(tlb.translated(s, 0x1_2345_6abc), 0x9abc);
  t.same([tlb.perm(s), tlb.shift(s)], [IOMMU_RW, 12]);
  t.equal(tlb.lookup(8, 0x1_2345_6789), -1, 'another context misses');
  t.equal(tlb.lookup(7, 0x1_2345_7000), -1, 'the next page misses');
  tlb.insert(7, 0x1_2345_6000, 12, 0xa000, IOMMU_RO);
  t.equal(tlb.entries, 1, 'the same key is replaced, not duplicated');
  t.equal(tlb.translated(tlb.lookup(7, 0x1_2345_6000), 0x1_2345_6004), 0xa004);
  t.equal(tlb.lookup(-5, 0), -1, 'negative int32 tags are ordinary tags');
  tlb.insert(-5, 0, 12, 0x3000, IOMMU_RO);
  t.not(tlb.lookup(-5, 0x10), -1);
});

t.test('page and block sizes: 2M, 1G, SMMU 16K/64K granules and their 32M/512M blocks', async (t) => {
  const tlb = Iotlb.create({ capacity: 256 });
  const cases: [number, number][] = [[21, 0x4000_0000], [30, 2 * G], [14, 0x8000_0000], [16, 0x9000_0000], [25, 0x1_0000_0000], [29, 0x2_0000_0000]];
  for (const [shift, out] of cases) {
    const iova = 0x100_0000_0000 + shift * 2 ** 32;
    tlb.insert(3, iova + 123, shift, out, IOMMU_RW);
    const last = iova + 2 ** shift - 1;
    const s = tlb.lookup(3, last);
    t.not(s, -1, `a 2^${shift} entry covers its last byte`);
    t.equal(tlb.translated(s, last), out + 2 ** shift - 1);
    t.equal(tlb.lookup(3, last + 1), -1, `and not the next byte`);
  }
  t.ok(tlb.hasLarge);
});

t.test('invalidation by range removes overlapping large pages; by context; of everything', async (t) => {
  const tlb = Iotlb.create({ capacity: 1024 });
  tlb.insert(1, 0x4000_0000, 21, 0x8000_0000, IOMMU_RW); // 2M at 1G
  tlb.insert(1, 0x4020_0000, 12, 0x9000, IOMMU_RW);
  tlb.insert(2, 0x4000_0000, 21, 0x8000_0000, IOMMU_RW);
  t.equal(tlb.invalidateRange(1, 0x4010_0000, 0x1000), 1, 'a 4K invalidation inside the 2M entry removes it');
  t.equal(tlb.lookup(1, 0x4000_0000), -1);
  t.not(tlb.lookup(1, 0x4020_0000), -1, 'the neighbour page stays');
  t.not(tlb.lookup(2, 0x4000_0000), -1, 'the other context stays');
  t.equal(tlb.invalidateRange(null, 0, 2 ** 64), 2, 'a full-range invalidation of any context');
  t.equal(tlb.entries, 0);
  for (let i = 0; i < 100; i++) tlb.insert(i % 3, i * 4096, 12, i * 4096, IOMMU_RW);
  t.equal(tlb.invalidateContext(1), 33);
  t.equal(tlb.entries, 67);
  t.equal(tlb.invalidateRange(0, 0, 0x10_0000), 34, 'the 34 pages of context 0 below 1M (i = 0, 3, .., 99)');
  tlb.invalidateAll();
  t.equal(tlb.entries, 0);
  t.equal(tlb.lookup(2, 2 * 4096), -1);
});

t.test('a full set evicts one entry by its policy; nothing else is lost', async (t) => {
  for (const policy of ['fifo', 'lru'] as const) {
    const tlb = Iotlb.create({ capacity: 4, ways: 4, policy }); // one set
    for (let i = 0; i < 4; i++) tlb.insert(1, i * 4096, 12, i * 4096, IOMMU_RW);
    t.equal(tlb.evictions, 0);
    tlb.touch(tlb.lookup(1, 0)); // page 0 is the most recently used
    tlb.insert(1, 9 * 4096, 12, 0, IOMMU_RW);
    t.equal(tlb.evictions, 1, `${policy}: one eviction`);
    t.equal(tlb.entries, 4, `${policy}: the set stays full`);
    const survivors = [0, 1, 2, 3].filter((i) => tlb.lookup(1, i * 4096) >= 0);
    t.same(survivors, policy === 'fifo' ? [1, 2, 3] : [0, 2, 3], `${policy}: the victim`);
  }
  const tlb = Iotlb.create({ capacity: 4, ways: 4 });
  for (let i = 0; i < 4; i++) tlb.insert(1, i * 4096, 12, 0, IOMMU_RW);
  tlb.invalidateRange(1, 2 * 4096, 4096);
  tlb.insert(1, 7 * 4096, 12, 0, IOMMU_RW);
  t.equal(tlb.evictions, 0, 'a freed way is filled before anything is evicted');
  t.same([0, 1, 3, 7].map((i) => tlb.lookup(1, i * 4096) >= 0), [true, true, true, true]);
});

t.test('shared arrays: another thread attaches to the same entries; counters on separate lines', async (t) => {
  const tlb = Iotlb.create({ capacity: 128 });
  tlb.insert(4, 0x5000, 12, 0x6000, IOMMU_RW);
  tlb.count(10, 3);
  const view = new Iotlb(tlb.descriptor());
  t.ok(view.sab instanceof SharedArrayBuffer);
  t.equal(view.translated(view.lookup(4, 0x5000), 0x5010), 0x6010);
  t.same([view.hits, view.misses], [10, 3]);
  const lines = [CTR_HITS, CTR_MISSES, CTR_EVICTIONS].map((i) => (iotlbLayout(32, 4).counters + i * 8) >> 6);
  t.equal(new Set(lines).size, 3, 'each counter on its own 64-byte line');
  t.throws(() => Iotlb.create({ ways: 3 }), ConfigError);
  t.throws(() => Iotlb.create({ policy: 'lfu' as 'lru' }), /did you mean 'lru'/);
});
