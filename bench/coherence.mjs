#!/usr/bin/env node
// Cost of IOTLB coherence with translation workers (DESIGN "Shared IOTLB"):
// 2 workers translate the standard workload's stream (ws 1024, hit path)
// while the main thread, acting as the vIOMMU, invalidates a few pages every
// `--period` ms and waits for completion (quiesce), as a guest in strict
// mode forces on every unmap. Compares 'shootdown' (each worker replays the
// op on its own IOTLB) with 'epoch' (each worker drops its whole IOTLB on
// any change), and no invalidations at all. Reports throughput, misses and
// quiesce latency.
//
//   npm run build && node bench/coherence.mjs [--ops N] [--period MS] [--pages-per-inval N] [--rounds N]
import { BENCH_DEFAULTS, TranslationPool, benchMachine, IOVA_BASE_PAGE } from '../dist/index.js';
import { numberFlag as flag } from './harness.mjs';

const ops = flag('ops', 40_000_000);
const period = flag('period', 1);
const perInval = flag('pages-per-inval', 4);
const rounds = flag('rounds', 3);

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? NaN;

async function once(mode, invalidate) {
  const m = benchMachine({ ...BENCH_DEFAULTS, ops, coherence: mode });
  const pool = await TranslationPool.start({ workers: 2, ram: m.ram, coherence: m.coherence });
  const out = new Float64Array(new SharedArrayBuffer(ops * 8)).fill(-1);
  await pool.translate(m.ctx, 1, m.stream.subarray(0, 1 << 20), out.subarray(0, 1 << 20)); // warm the JIT
  for (const t of pool.iotlbs) t.counters.fill(0);
  const lat = [];
  let done = false;
  let k = 0;
  const t0 = performance.now();
  const run = pool.translate(m.ctx, 1, m.stream, out).finally(() => (done = true));
  while (invalidate && !done) {
    await new Promise((r) => setTimeout(r, period));
    if (done) break;
    for (let i = 0; i < perInval; i++) {
      const page = IOVA_BASE_PAGE + ((k++ * 7919) % BENCH_DEFAULTS.ws);
      m.coherence.invalidateRange(m.ctx, page * 4096, 4096); // the page stays mapped: results stay valid
    }
    const q0 = performance.now();
    const q = await m.coherence.quiesce();
    lat.push(performance.now() - q0);
    if (!q.ok) throw new Error(`quiesce failed: ${JSON.stringify(q)}`);
  }
  const { faults } = await run;
  const seconds = (performance.now() - t0) / 1000;
  const misses = pool.iotlbs.reduce((a, t) => a + t.misses, 0);
  await pool.close();
  if (faults) throw new Error(`${faults} faults`);
  return { tps: ops / seconds, misses, quiesces: lat.length, p50: pct(lat, 0.5), p99: pct(lat, 0.99) };
}

const rows = [];
for (let r = 0; r < rounds; r++) {
  for (const [name, mode, inv] of [['no invalidations', 'shootdown', false], ['shootdown', 'shootdown', true], ['epoch', 'epoch', true]]) {
    const x = await once(mode, inv);
    rows.push({ name, ...x });
    process.stderr.write(`round ${r + 1}: ${name} ${(x.tps / 1e6).toFixed(1)} M/s\n`);
  }
}
console.log(`2 workers, ops ${ops}, ws 1024 random; every ${period} ms the vIOMMU invalidates ${perInval} pages, then quiesces.`);
console.log(`Median of ${rounds} rounds.\n`);
console.log('| coherence | translations/s | IOTLB misses | quiesces | quiesce p50 | quiesce p99 |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const name of ['no invalidations', 'shootdown', 'epoch']) {
  const rs = rows.filter((r) => r.name === name);
  const med = (f) => pct(rs.map(f), 0.5);
  console.log(`| ${name} | ${(med((r) => r.tps) / 1e6).toFixed(1)} M | ${med((r) => r.misses)} | ${med((r) => r.quiesces)} | `
    + `${rs[0].quiesces ? med((r) => r.p50).toFixed(3) + ' ms' : '-'} | ${rs[0].quiesces ? med((r) => r.p99).toFixed(3) + ' ms' : '-'} |`);
}
