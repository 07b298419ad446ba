import t from 'tap';
import { IOMMU_RO } from '../../src/memory/index.js';
import {
  ACCESS_HANG, CHUNK, CTX_FMT_VTD_SL, PoolError, TranslationPool, VTD_FR_READ, type CoherenceMode,
} from '../../src/iommu/index.js';
import { machine } from '../helpers/iommu-machine.js';

const IOVA = 0x8000_0000;

/** Two workers that have both cached IOVA -> 0x40_0000. */
async function cachedEverywhere(mode: CoherenceMode) {
  const m = machine({ mode });
  const slpt = m.tables.attach(0, 0x18, 1);
  m.tables.map(slpt, IOVA, 0x40_0000);
  m.tables.map(slpt, IOVA + 0x1000, 0x41_0000);
  m.coherence.setContext(1, { format: CTX_FMT_VTD_SL, root: slpt, params: [4, 48, 48, 0] });
  const pool = await TranslationPool.start({ workers: 2, ram: m.ram, coherence: m.coherence });
  const n = 4 * CHUNK;
  const iovas = new Float64Array(new SharedArrayBuffer(n * 8)).fill(IOVA + 8);
  const out = new Float64Array(new SharedArrayBuffer(n * 8));
  const run = async () => {
    out.fill(0);
    await pool.translate(1, IOMMU_RO, iovas, out);
    return new Set(out);
  };
  t.same(await run(), new Set([0x40_0008]));
  t.ok(pool.iotlbs.every((x) => x.entries === 1), 'each worker has its own cached copy');
  return { ...m, slpt, pool, run };
}

for (const mode of ['shootdown', 'epoch'] as const) {
  t.test(`${mode}: after invalidate + quiesce, no worker uses the removed entry`, async (t) => {
    const c = await cachedEverywhere(mode);
    t.teardown(() => c.pool.close());
    c.tables.unmap(c.slpt, IOVA);
    t.same(await c.run(), new Set([0x40_0008]), 'before the invalidation the cached entry may be used');
    c.coherence.invalidateRange(1, IOVA, 0x1000);
    t.same(await c.coherence.quiesce(), { ok: true, fenced: [] });
    t.same(await c.run(), new Set([-VTD_FR_READ]), 'after completion every worker faults');
    const kept = c.pool.iotlbs.map((x) => x.entries);
    t.same(kept, [0, 0], `${mode}: the entry is gone from every worker IOTLB`);
  });
}

t.test('shootdown is precise (other entries survive in the workers); epoch drops them all', async (t) => {
  for (const mode of ['shootdown', 'epoch'] as const) {
    const c = await cachedEverywhere(mode);
    const n = 4 * CHUNK;
    const other = new Float64Array(new SharedArrayBuffer(n * 8)).fill(IOVA + 0x1000);
    const out = new Float64Array(new SharedArrayBuffer(n * 8));
    await c.pool.translate(1, IOMMU_RO, other, out);
    const misses = () => c.pool.iotlbs.reduce((a, x) => a + x.misses, 0);
    const before = misses();
    c.coherence.invalidateRange(1, IOVA, 0x1000);
    t.ok(c.coherence.quiesceSync().ok, `${mode}: a blocking quiesce (for synchronous register writes) completes`);
    await c.pool.translate(1, IOMMU_RO, other, out);
    t.equal(misses() - before, mode === 'shootdown' ? 0 : 2, `${mode}: misses on the page that was not invalidated`);
    t.same(new Set(out), new Set([0x41_0000]));
    await c.pool.close();
  }
});

t.test('a worker that never acknowledges is fenced at the deadline and replaced', async (t) => {
  const c = await cachedEverywhere('shootdown');
  t.teardown(() => c.pool.close());
  const hung = c.pool.drill(0, ACCESS_HANG);
  await new Promise((r) => setTimeout(r, 50));
  c.tables.unmap(c.slpt, IOVA);
  c.coherence.invalidateRange(1, IOVA, 0x1000);
  const t0 = performance.now();
  const q = await c.coherence.quiesce(200);
  t.equal(q.ok, false);
  t.equal(q.fenced.length, 1);
  t.ok(performance.now() - t0 < 5000, 'the wait is bounded');
  await t.rejects(hung, PoolError);
  t.same(await c.run(), new Set([-VTD_FR_READ]), 'the replacement starts clean');
  t.equal(c.pool.replacements, 1);
  t.match(c.pool.errors.join('\n'), /fenced/);
});
