#!/usr/bin/env node
// Worker scaling of the translation pool on the standard IOTLB workload: one
// worker against two, alternating, for the hit path (ws 1024) and the
// miss-heavy case (ws 65536). Besides wall-clock throughput it records the
// CPU time the process used during the timed part (process.cpuUsage covers
// every thread), so that scaling can be told apart from CPU contention on a
// shared machine: ops per CPU-second staying flat from 1 to 2 workers means
// the workers do not slow each other down (no shared lines, no locks), and
// wall-clock scaling is then bounded by the cores actually free.
//
//   npm run build && node bench/worker-scaling.mjs [--ops N] [--rounds N]
import { loadavg } from 'node:os';
import { BENCH_DEFAULTS, TranslationPool, benchMachine } from '../dist/index.js';
import { numberFlag as flag } from './harness.mjs';

const ops = flag('ops', 20_000_000);
const rounds = flag('rounds', 5);

async function once(ws, workers) {
  const m = benchMachine({ ...BENCH_DEFAULTS, ws, ops });
  const pool = await TranslationPool.start({ workers, ram: m.ram, coherence: m.coherence });
  const out = new Float64Array(new SharedArrayBuffer(ops * 8)).fill(-1);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const { faults } = await pool.translate(m.ctx, 1, m.stream, out);
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  await pool.close();
  if (faults) throw new Error(`${faults} faults`);
  const cpu = (c.user + c.system) / 1e6;
  return { tps: ops / wall, perCpu: ops / cpu, cores: cpu / wall };
}

const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const load0 = loadavg()[0];
const rows = [];
for (let r = 0; r < rounds; r++) {
  for (const ws of [1024, 65536]) for (const w of [1, 2]) rows.push({ ws, w, ...(await once(ws, w)) });
  process.stderr.write(`round ${r + 1}/${rounds}\n`);
}
console.log(`ops ${ops}, ${rounds} rounds (median); 1-minute load average before/after ${load0.toFixed(2)} / ${loadavg()[0].toFixed(2)}.\n`);
console.log('| ws | workers | translations/s | per CPU-second | CPU cores busy |');
console.log('|---:|---:|---:|---:|---:|');
const stat = {};
for (const ws of [1024, 65536]) {
  for (const w of [1, 2]) {
    const rs = rows.filter((x) => x.ws === ws && x.w === w);
    stat[`${ws}/${w}`] = { tps: med(rs.map((x) => x.tps)), best: Math.max(...rs.map((x) => x.tps)), perCpu: med(rs.map((x) => x.perCpu)) };
    console.log(`| ${ws} | ${w} | ${(stat[`${ws}/${w}`].tps / 1e6).toFixed(1)} M (best ${(stat[`${ws}/${w}`].best / 1e6).toFixed(1)} M) | `
      + `${(stat[`${ws}/${w}`].perCpu / 1e6).toFixed(1)} M | ${med(rs.map((x) => x.cores)).toFixed(2)} |`);
  }
}
console.log('');
for (const ws of [1024, 65536]) {
  const a = stat[`${ws}/1`];
  const b = stat[`${ws}/2`];
  console.log(`ws ${ws}: 2 workers / 1 worker = ${(b.tps / a.tps).toFixed(2)}x (medians), ${(b.best / a.best).toFixed(2)}x (bests); `
    + `per-CPU efficiency ${(b.perCpu / a.perCpu).toFixed(2)}x`);
}
