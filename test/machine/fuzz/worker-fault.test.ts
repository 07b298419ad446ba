import t from 'tap';
import { FuzzRng } from '../../../src/machine/fuzz/rng.js';
import { IOMMU_RO } from '../../../src/memory/index.js';
import { ACCESS_CRASH, BENCH_DEFAULTS, PoolError, TranslationPool, benchMachine } from '../../../src/iommu/index.js';

// Worker faults under hostile input: the guest's second-level tables are
// scribbled over (loops to other table pages and to themselves, pointers
// outside RAM and past the address width, random bits) and the batch mixes
// mapped, unmapped and absurd IOVAs; a translation worker is then ended in
// the middle of it. The batch must settle (no deadlock), every result must
// equal what the calling thread computes for the same tables (nothing lost,
// nothing twice), and the pool must have replaced the worker.

const OPS = 1_500_000;
/** The bench machine's page-table pool (VtdGuestTables from 0x100000) and the pages it has used for this working set. */
const PT_BASE = 0x100000;
const PT_PAGES = 160;

function hostileMachine(seed: number) {
  const m = benchMachine({ ...BENCH_DEFAULTS, ws: 65536, ops: OPS });
  const rng = new FuzzRng(seed);
  const wild = [0x000f_ffff_f003, 0xffff_f003, 0xfee0_0003, 0x1000_0000_0003];
  for (let i = 0; i < 400; i++) {
    const a = PT_BASE + rng.below(PT_PAGES) * 4096 + rng.below(512) * 8;
    const c = rng.below(3);
    const lo = c === 0 ? (PT_BASE + rng.below(PT_PAGES) * 4096) | 3 : c === 1 ? rng.pick(wild) % 0x1_0000_0000 : rng.u32();
    const hi = c === 1 ? Math.floor(rng.pick(wild) / 0x1_0000_0000) : c === 2 ? rng.u32() & 0xfffff : 0;
    m.memory.write(a, 8, lo >>> 0, hi >>> 0);
  }
  // The stream: the workload's IOVAs, with every 7th replaced by something hostile.
  for (let k = 0; k < OPS; k += 7) {
    m.stream[k] = rng.pick([0, 2 ** 48 - 4096, 2 ** 52, 2 ** 53 - 1, 0x1234_5678, rng.u32() * 4096]);
  }
  return m;
}

function sharedOut(n: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(n * 8)).fill(-12345);
}

t.test('a translation worker ended mid-batch over hostile tables: settles, same results as inline, worker replaced', async (t) => {
  const m = hostileMachine(11);
  const inline = sharedOut(OPS);
  m.engine.translateBatch(m.ctx, IOMMU_RO, m.stream, 0, OPS, inline);
  const pool = await TranslationPool.start({ workers: 2, ram: m.ram, coherence: m.coherence, requestTimeoutMs: 60_000 });
  t.teardown(() => pool.close());
  const out = sharedOut(OPS);
  const running = pool.translate(m.ctx, IOMMU_RO, m.stream, out);
  await new Promise((r) => setTimeout(r, 10));
  await pool.terminateWorker(1);
  const r = await running;
  let faults = 0;
  let differ = 0;
  for (let k = 0; k < OPS; k++) {
    if (inline[k]! < 0) faults++;
    if (out[k] !== inline[k]) differ++;
  }
  t.equal(differ, 0, 'every element translated exactly once, as the calling thread translates it');
  t.equal(r.faults, faults, `the faults are counted once each (${faults})`);
  t.ok(faults > 0, 'the hostile input did fault');
  t.equal(pool.replacements, 1, 'the ended worker was replaced');
  t.comment(`pieces retried on the other worker: ${pool.retries}`);
  t.equal(pool.size, 2);
  const again = sharedOut(4096);
  const r2 = await pool.translate(m.ctx, IOMMU_RO, m.stream.subarray(0, 4096), again.subarray(0, 4096));
  t.same([...again], [...inline.subarray(0, 4096)], 'the replacement translates the same');
  t.equal(r2.faults, [...inline.subarray(0, 4096)].filter((v) => v < 0).length);
});

t.test('a worker that throws mid-batch: that batch fails with an error (no hang), the pool goes on', async (t) => {
  const m = hostileMachine(12);
  const pool = await TranslationPool.start({ workers: 2, ram: m.ram, coherence: m.coherence });
  t.teardown(() => pool.close());
  const out = sharedOut(100_000);
  const running = pool.translate(m.ctx, IOMMU_RO, m.stream.subarray(0, 100_000), out.subarray(0, 100_000));
  await t.rejects(pool.drill(0, ACCESS_CRASH), PoolError, 'the crash surfaces as a PoolError');
  await running;
  t.ok(pool.errors.length > 0, `the worker's error is reported: ${pool.errors[0] ?? ''}`);
  t.ok(out.subarray(0, 100_000).every((v) => v !== -12345), 'the concurrent batch completed every element');
  t.equal(pool.size, 2);
});

t.test('both workers ended during one batch: it completes on their replacements or fails with PoolError, never hangs', async (t) => {
  const m = hostileMachine(13);
  const pool = await TranslationPool.start({ workers: 2, ram: m.ram, coherence: m.coherence });
  t.teardown(() => pool.close());
  const out = sharedOut(OPS);
  const running = pool.translate(m.ctx, IOMMU_RO, m.stream, out).then(() => 'done', (e: unknown) => (e instanceof PoolError ? 'lost' : `other: ${String(e)}`));
  await new Promise((r) => setTimeout(r, 10));
  await Promise.all([pool.terminateWorker(0), pool.terminateWorker(1)]);
  const how = await running;
  t.ok(how === 'done' || how === 'lost', `the batch settled: ${how}`);
  t.ok(pool.replacements >= 2, 'both were replaced');
});
