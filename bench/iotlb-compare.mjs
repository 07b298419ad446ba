#!/usr/bin/env node
// Runs the standard IOTLB workload (shared/bench/IOTLB-WORKLOAD.md) on the
// native anchors (bench/anchors: qemu_like, a QEMU-style GLib hash IOTLB;
// native_flat, a flat set-associative array, the limit) and on
// `viommu bench iotlb`, in alternation on the same parameters, and prints
// the ratios against the targets of issue 5. Each program runs in its own
// process; a round runs every program once per scenario; the figure kept is
// the median over the rounds.
//
//   node bench/iotlb-compare.mjs [--rounds N] [--ops N] [--only TEXT]   (prints Markdown tables)
//   --only keeps the scenarios whose name contains TEXT (e.g. --only workers).
//
// Needs `npm run build` (dist/viommu.js). The anchors are built with make if
// cc and GLib (pkg-config glib-2.0) are present; otherwise only viommu runs.
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { ANCHORS_DIR as anchors, VIOMMU_JS as viommu, buildAnchors, median, numberFlag as flag, runRounds, stringFlag } from './harness.mjs';

const rounds = flag('rounds', 5);
const ops = flag('ops', 20_000_000);
const only = stringFlag('only', '');

const CAPACITY = 4096;
const allScenarios = [
  { name: 'hit path (ws 1024, random)', pages: 65536, ws: 1024, pattern: 'random', workers: [0] },
  { name: 'miss-heavy (ws 65536, random)', pages: 65536, ws: 65536, pattern: 'random', workers: [0] },
  { name: 'sequential (ws 1024, seq)', pages: 65536, ws: 1024, pattern: 'seq', workers: [0] },
  { name: 'workers, hit path (ws 1024)', pages: 65536, ws: 1024, pattern: 'random', workers: [1, 2], noAnchors: true },
  { name: 'workers, miss-heavy (ws 65536)', pages: 65536, ws: 65536, pattern: 'random', workers: [1, 2], noAnchors: true },
];
const scenarios = allScenarios.filter((s) => s.name.includes(only));

function programs(s, withAnchors) {
  const p = [];
  const common = [String(s.pages), String(s.ws), String(ops), s.pattern];
  if (withAnchors && !s.noAnchors) {
    p.push({ key: 'qemu_like', cmd: join(anchors, 'qemu_like'), argv: [...common, '1024'] });
    p.push({ key: 'native_flat', cmd: join(anchors, 'native_flat'), argv: [...common, String(CAPACITY)] });
  }
  for (const w of s.workers) {
    p.push({
      key: `viommu_w${w}`, cmd: process.execPath,
      argv: [viommu, 'bench', 'iotlb', '--json', '--pages', String(s.pages), '--ws', String(s.ws), '--ops', String(ops),
        '--pattern', s.pattern, '--workers', String(w), '--capacity', String(CAPACITY)],
    });
  }
  return p;
}

function main() {
  if (!existsSync(viommu)) throw new Error('dist/viommu.js is missing: run `npm run build` first');
  const withAnchors = buildAnchors();
  const loadBefore = loadavg()[0];
  const samples = runRounds(rounds, scenarios, (s) => programs(s, withAnchors));
  const med = (s, key) => median(samples.get(`${s.name}|${key}`)?.tps ?? [NaN]);
  const best = (s, key) => Math.max(...(samples.get(`${s.name}|${key}`)?.tps ?? [NaN]));
  const lines = [];
  const say = (l) => lines.push(l);
  say(`IOTLB workload iotlb-std/1, ops ${ops}, ${rounds} rounds (median), ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}),`);
  say(`node ${process.version}; viommu IOTLB ${CAPACITY} entries 4-way FIFO per thread; native_flat ${CAPACITY} entries; qemu_like 1024.`);
  say(`1-minute load average before/after: ${loadBefore.toFixed(2)} / ${loadavg()[0].toFixed(2)} (other work on the machine competes for the 2 cores).`);
  say('');
  say('| scenario | program | translations/s (median) | min | max | hits | misses | checksum |');
  say('|---|---|---:|---:|---:|---:|---:|---:|');
  for (const [k, v] of samples) {
    const [name, key] = k.split('|');
    const m = (x) => (x / 1e6).toFixed(1) + ' M';
    say(`| ${name} | ${key} | ${m(median(v.tps))} | ${m(Math.min(...v.tps))} | ${m(Math.max(...v.tps))} | ${v.hits} | ${v.misses} | ${v.checksum} |`);
  }
  say('');
  const [hit, miss, , wHit, wMiss] = allScenarios;
  const ratio = (s, a, b, t = s) => [med(s, a) / med(t, b), best(s, a) / best(t, b)];
  const targets = [
    withAnchors && ['hit path: viommu / qemu_like', ratio(hit, 'viommu_w0', 'qemu_like'), 1.5],
    withAnchors && ['hit path: viommu / native_flat', ratio(hit, 'viommu_w0', 'native_flat'), 0.25],
    withAnchors && ['miss-heavy: viommu / qemu_like', ratio(miss, 'viommu_w0', 'qemu_like'), 5],
    withAnchors && ['miss-heavy: viommu, 2 workers / qemu_like', ratio(wMiss, 'viommu_w2', 'qemu_like', miss), 5],
    ['hit path: 2 workers / 1 worker', ratio(wHit, 'viommu_w2', 'viommu_w1'), 1.7],
    ['miss-heavy: 2 workers / 1 worker', ratio(wMiss, 'viommu_w2', 'viommu_w1'), 1.7],
  ].filter((x) => x && !Number.isNaN(x[1][0]));
  say('| ratio | of medians | of bests | target | met (medians) |');
  say('|---|---:|---:|---:|---|');
  for (const [name, [m, b], goal] of targets) {
    say(`| ${name} | ${m.toFixed(2)}x | ${b.toFixed(2)}x | >= ${goal}x | ${m >= goal ? 'yes' : 'no'} |`);
  }
  console.log(lines.join('\n'));
}

main();
