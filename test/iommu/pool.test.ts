import t from 'tap';
import { IOMMU_RO } from '../../src/memory/index.js';
import {
  ACCESS_CRASH, ACCESS_HANG, BENCH_DEFAULTS, PoolError, TranslationPool, benchMachine, workloadChecksum,
} from '../../src/iommu/index.js';

/** The standard workload's machine (VT-d tables in guest RAM) and its stream, miss-heavy. */
function workload(ops: number) {
  return benchMachine({ ...BENCH_DEFAULTS, ws: 65536, ops });
}

function sharedOut(n: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(n * 8)).fill(-1);
}

t.test('the pool translates what the calling thread translates', async (t) => {
  const m = workload(200_000);
  const inline = sharedOut(200_000);
  m.engine.translateBatch(m.ctx, IOMMU_RO, m.stream, 0, 200_000, inline);
  const pool = await TranslationPool.start({ workers: 2, ram: m.ram, coherence: m.coherence });
  t.teardown(() => pool.close());
  const out = sharedOut(200_000);
  t.same(await pool.translate(m.ctx, IOMMU_RO, m.stream, out), { faults: 0 });
  t.same(out, inline);
  const bad = new Float64Array(new SharedArrayBuffer(16)).fill(0x1234_5000);
  const r = await pool.translate(m.ctx, IOMMU_RO, bad, sharedOut(2));
  t.equal(r.faults, 2, 'unmapped IOVAs come back as faults, counted');
  t.equal(pool.iotlbs.reduce((a, x) => a + x.hits + x.misses, 0), 200_002, 'each worker counts in its own IOTLB');
  pool.releaseBuffer(bad.buffer as SharedArrayBuffer);
  const again = new Float64Array(new SharedArrayBuffer(8)).fill(0x1234_5000);
  t.same(await pool.translate(m.ctx, IOMMU_RO, again, sharedOut(1)), { faults: 1 }, 'buffers come and go');
});

t.test('a worker killed mid-batch: its pieces are retried, the batch completes, the worker is replaced', async (t) => {
  const ops = 4_000_000;
  const m = workload(ops);
  const pool = await TranslationPool.start({ workers: 2, ram: m.ram, coherence: m.coherence });
  t.teardown(() => pool.close());
  const out = sharedOut(ops);
  const running = pool.translate(m.ctx, IOMMU_RO, m.stream, out);
  await new Promise((r) => setTimeout(r, 20));
  await pool.terminateWorker(0);
  t.same(await running, { faults: 0 });
  t.equal(workloadChecksum(out, ops), workloadChecksum(referenceOut(m, ops), ops), 'every result is right');
  t.equal(pool.replacements, 1);
  t.ok(pool.retries >= 1, `retried ${pool.retries} piece(s)`);
  t.equal(pool.size, 2);
  const again = sharedOut(1000);
  t.same(await pool.translate(m.ctx, IOMMU_RO, m.stream.subarray(0, 1000), again.subarray(0, 1000)), { faults: 0 });
});

function referenceOut(m: ReturnType<typeof workload>, ops: number): Float64Array {
  const out = sharedOut(ops);
  m.engine.translateBatch(m.ctx, IOMMU_RO, m.stream, 0, ops, out);
  return out;
}

t.test('a worker that throws: that batch fails with an error, the others go on, the worker is replaced', async (t) => {
  const m = workload(100_000);
  const pool = await TranslationPool.start({ workers: 2, ram: m.ram, coherence: m.coherence });
  t.teardown(() => pool.close());
  await t.rejects(pool.drill(1, ACCESS_CRASH), PoolError);
  t.match(pool.errors.join('\n'), /injected translation-worker fault/);
  const out = sharedOut(100_000);
  t.same(await pool.translate(m.ctx, IOMMU_RO, m.stream, out), { faults: 0 });
  t.equal(pool.replacements, 1);
});

t.test('a hung worker is caught by the request deadline; no caller waits forever', async (t) => {
  const m = workload(10_000);
  const pool = await TranslationPool.start({ workers: 1, ram: m.ram, coherence: m.coherence, requestTimeoutMs: 300 });
  t.teardown(() => pool.close());
  const t0 = performance.now();
  await t.rejects(pool.drill(0, ACCESS_HANG), PoolError);
  t.ok(performance.now() - t0 < 10_000, 'bounded');
  t.match(pool.errors.join('\n'), /timed out/);
  const out = sharedOut(10_000);
  t.same(await pool.translate(m.ctx, IOMMU_RO, m.stream, out), { faults: 0 }, 'the replacement serves');
});
