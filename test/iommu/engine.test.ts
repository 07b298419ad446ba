import t from 'tap';
import { IOMMU_NONE, IOMMU_RO, IOMMU_RW, IOMMU_WO } from '../../src/memory/index.js';
import {
  CTX_FMT_IDENTITY, CTX_FMT_LPAE_S1, CTX_FMT_TCE, CTX_FMT_VTD_SL, LPAE_FAULT_TRANSLATION, TCE_FAULT_PERM, TCE_TABLE_BE,
  VTD_FR_READ, VTD_FR_WRITE, XLATE_NO_CONTEXT,
} from '../../src/iommu/index.js';
import { machine } from '../helpers/iommu-machine.js';

/** A VT-d domain (context 1) with its second-level table. */
function vtd(opts: { capacity?: number } = {}) {
  const m = machine(opts);
  const slpt = m.tables.attach(0, 0x18, 1);
  m.coherence.setContext(1, { format: CTX_FMT_VTD_SL, root: slpt, params: [4, 48, 48, 0] });
  return { ...m, slpt };
}

t.test('VT-d context: a miss walks and fills, the next access hits; single and batch paths agree', async (t) => {
  const m = vtd();
  for (let i = 0; i < 8; i++) m.tables.map(m.slpt, 0x1_0000_0000 + i * 4096, 0x20_0000 + i * 0x3000);
  t.equal(m.engine.translate(1, 0x1_0000_0123, IOMMU_RO), 0x20_0123);
  t.equal(m.engine.translate(1, 0x1_0000_0456, IOMMU_RO), 0x20_0456);
  t.same([m.engine.iotlb.hits, m.engine.iotlb.misses], [1, 1]);
  const iovas = new Float64Array(16).map((_, k) => 0x1_0000_0000 + (k % 8) * 4096 + k);
  const out = new Float64Array(16);
  t.equal(m.engine.translateBatch(1, IOMMU_RO, iovas, 0, 16, out), 0);
  t.same([...out], [...iovas].map((v, k) => 0x20_0000 + (k % 8) * 0x3000 + k));
  t.same([m.engine.iotlb.hits, m.engine.iotlb.misses], [1 + 9, 1 + 7], 'page 0 was cached; 7 new pages');
});

t.test('an unmap is seen only after the invalidation (IOTLB and walk cache)', async (t) => {
  const m = vtd();
  m.tables.map(m.slpt, 0x4000_0000, 0x30_0000);
  m.tables.map(m.slpt, 0x4000_1000, 0x31_0000);
  t.equal(m.engine.translate(1, 0x4000_0000, IOMMU_RO), 0x30_0000);
  m.tables.unmap(m.slpt, 0x4000_0000);
  t.equal(m.engine.translate(1, 0x4000_0000, IOMMU_RO), 0x30_0000, 'cached until invalidated (as the hardware may)');
  m.coherence.invalidateRange(1, 0x4000_0000, 4096);
  t.equal(m.engine.translate(1, 0x4000_0000, IOMMU_RO), -VTD_FR_READ);
  t.equal(m.engine.translate(1, 0x4000_1000, IOMMU_RO), 0x31_0000, 'its neighbour, through the walk cache');
  m.tables.map(m.slpt, 0x4000_2000, 0x32_0000);
  t.equal(m.engine.translate(1, 0x4000_2000, IOMMU_RO), 0x32_0000, 'not-present to present needs no invalidation');
  t.equal(m.engine.translate(1, 0x4000_0000, IOMMU_RO), -VTD_FR_READ, 'faults are not cached either way');
  m.tables.map(m.slpt, 0x4000_0000, 0x33_0000);
  t.equal(m.engine.translate(1, 0x4000_0000, IOMMU_RO), 0x33_0000);
});

t.test('a cached entry without the needed permission is re-walked', async (t) => {
  const m = vtd();
  m.tables.map(m.slpt, 0x5000, 0x40_0000, 1);
  t.equal(m.engine.translate(1, 0x5000, IOMMU_WO), -VTD_FR_WRITE);
  t.equal(m.engine.translate(1, 0x5000, IOMMU_RO), 0x40_0000);
  t.equal(m.engine.walk.perm, IOMMU_RO);
  m.tables.map(m.slpt, 0x5000, 0x40_0000, 3);
  t.equal(m.engine.translate(1, 0x5008, IOMMU_WO), 0x40_0008, 'the guest granted write: the walk sees it');
  t.equal(m.engine.iotlb.entries, 1, 'the stale read-only entry was replaced');
  t.equal(m.engine.translate(1, 0x5000, IOMMU_NONE), 0x40_0000);
  t.equal(m.engine.walk.perm, IOMMU_RW, 'IOMMU_NONE reports the permission');
});

t.test('a 2 MiB superpage is one IOTLB entry', async (t) => {
  const m = vtd();
  const v = m.ram;
  // Build a 2M leaf at level 2 by hand: map a 4K page to create the tables, then turn its PDE into a PS leaf.
  m.tables.map(m.slpt, 0x20_0000, 0x1000);
  const l3 = v.ld64le(m.slpt) ? (v.lo & ~0xfff) >>> 0 : -1;
  const l2 = v.ld64le(l3) ? (v.lo & ~0xfff) >>> 0 : -1;
  v.st64le(l2 + 8, 0x60_0000 | 0x83, 0);
  m.coherence.invalidateAll();
  const iovas = Float64Array.of(0x20_0000, 0x3f_fff0, 0x2a_bcde);
  const out = new Float64Array(3);
  m.engine.translateBatch(1, IOMMU_RO, iovas, 0, 3, out);
  t.same([...out], [0x60_0000, 0x7f_fff0, 0x6a_bcde]);
  t.same([m.engine.iotlb.misses, m.engine.iotlb.hits, m.engine.iotlb.entries], [1, 2, 1]);
  m.coherence.invalidateRange(1, 0x30_0000, 4096);
  t.equal(m.engine.iotlb.entries, 0, 'a 4K invalidation inside it removes it');
});

t.test('LPAE, TCE and identity contexts go through the same engine', async (t) => {
  const m = machine();
  const v = m.ram;
  // LPAE 4K granule, TSZ 25 (39-bit input, start level 1): L1 at 0x20_0000, L2 at 0x20_1000, L3 at 0x20_2000.
  v.st64le(0x20_0000, 0x20_1003, 0);
  v.st64le(0x20_1000, 0x20_2003, 0);
  v.st64le(0x20_2000 + 5 * 8, 0x70_0403, 0);
  v.st64le(0x20_2000 + 6 * 8, 0x71_0483, 0); // AP[2]: read-only
  m.coherence.setContext(2, { format: CTX_FMT_LPAE_S1, root: 0x20_0000, params: [12, 25, 40, 0] });
  t.equal(m.engine.translate(2, 0x5123, IOMMU_WO), 0x70_0123);
  t.equal(m.engine.translate(2, 0x6000, IOMMU_WO), -4, 'LPAE permission fault (through the walk cache)');
  t.equal(m.engine.translate(2, 0x6000, IOMMU_RO), 0x71_0000);
  t.equal(m.engine.translate(2, 0x7000, IOMMU_RO), -LPAE_FAULT_TRANSLATION);
  // TCE: a big-endian table of 16 entries at 0x30_0000.
  m.ramRegion.block.st64be(0x30_0000 + 3 * 8, 0x0055_5001, 0);
  m.coherence.setContext(3, { format: CTX_FMT_TCE, root: 0x30_0000, params: [16, 12, TCE_TABLE_BE] });
  t.equal(m.engine.translate(3, 0x3010, IOMMU_RO), 0x55_5010);
  t.equal(m.engine.translate(3, 0x3010, IOMMU_WO), -TCE_FAULT_PERM);
  m.coherence.setContext(4, { format: CTX_FMT_IDENTITY, root: 0, params: [] });
  t.equal(m.engine.translate(4, 0x1234_5678, IOMMU_WO), 0x1234_5678);
  t.equal(m.engine.translate(5, 0x1000, IOMMU_RO), -XLATE_NO_CONTEXT, 'a context never set');
  t.equal(m.engine.translate(1000, 0x1000, IOMMU_RO), -XLATE_NO_CONTEXT, 'an id outside the table');
  m.coherence.setContext(2, { format: CTX_FMT_TCE, root: 0x30_0000, params: [16, 12, TCE_TABLE_BE] });
  t.equal(m.engine.translate(2, 0x3010, IOMMU_RO), 0x55_5010, 'rewriting a context drops what was cached for it');
});

t.test('batch path: the walk cache serves misses, reports faults, and follows a replaced table after invalidation', async (t) => {
  const m = vtd();
  const base = 0x7000_0000;
  for (let i = 0; i < 4; i++) m.tables.map(m.slpt, base + i * 4096, 0x50_0000 + i * 4096);
  const iovas = Float64Array.of(base, base + 0x1008, base + 0x2010, base + 0x5000);
  const out = new Float64Array(4);
  t.equal(m.engine.translateBatch(1, IOMMU_RO, iovas, 0, 4, out), 1);
  t.same([...out], [0x50_0000, 0x50_1008, 0x50_2010, -VTD_FR_READ], 'the unmapped page faults with its VT-d reason');
  // The guest points the 2 MiB region at a new last-level table (a PDE change), then invalidates the range.
  const v = m.ram;
  const l3 = v.ld64le(m.slpt + (Math.floor(base / 2 ** 39) % 512) * 8) ? (v.lo & ~0xfff) >>> 0 : -1;
  const l2 = v.ld64le(l3 + (Math.floor(base / 2 ** 30) % 512) * 8) ? (v.lo & ~0xfff) >>> 0 : -1;
  const pde = l2 + (Math.floor(base / 2 ** 21) % 512) * 8;
  const newTable = 0x7f_0000;
  for (let i = 0; i < 8; i++) v.st64le(newTable + i * 8, 0x60_0000 + i * 4096 + 3, 0);
  v.st64le(pde, newTable | 3, 0);
  m.coherence.invalidateRange(1, base, 0x20_0000);
  m.engine.translateBatch(1, IOMMU_RO, iovas, 0, 4, out);
  t.same([...out], [0x60_0000, 0x60_1008, 0x60_2010, 0x60_5000], 'every page now comes from the new table');
});
