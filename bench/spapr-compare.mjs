#!/usr/bin/env node
// The standard IOTLB workload (shared/bench/IOTLB-WORKLOAD.md) through the
// sPAPR TCE model (`viommu bench iotlb --iommu spapr`: a DDW made with
// ibm,create-pe-dma-window, TCEs written with H_PUT_TCE_INDIRECT), next to
// the VT-d model and the native anchors, in alternation, same method as
// iotlb-compare.mjs: one process per run, a round runs every program once
// per scenario, the median over the rounds is kept.
//
//   node bench/spapr-compare.mjs [--rounds N] [--ops N]   (prints Markdown tables)
//
// Needs `npm run build`; the anchors are built with make when cc and GLib exist.
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { ANCHORS_DIR as anchors, VIOMMU_JS as viommu, buildAnchors, median, numberFlag as flag, runRounds } from './harness.mjs';

const rounds = flag('rounds', 5);
const ops = flag('ops', 20_000_000);
const CAPACITY = 4096;

const scenarios = [
  { name: 'hit path (ws 1024, random)', ws: 1024, pattern: 'random', workers: [0] },
  { name: 'miss-heavy (ws 65536, random)', ws: 65536, pattern: 'random', workers: [0] },
  { name: 'sequential (ws 1024, seq)', ws: 1024, pattern: 'seq', workers: [0] },
  { name: 'workers, miss-heavy (ws 65536)', ws: 65536, pattern: 'random', workers: [1, 2], noAnchors: true, noVtd: true },
];

function programs(s, withAnchors) {
  const common = ['65536', String(s.ws), String(ops), s.pattern];
  const p = [];
  if (withAnchors && !s.noAnchors) {
    p.push({ key: 'qemu_like', cmd: join(anchors, 'qemu_like'), argv: [...common, '1024'] });
    p.push({ key: 'native_flat', cmd: join(anchors, 'native_flat'), argv: [...common, String(CAPACITY)] });
  }
  for (const iommu of s.noVtd ? ['spapr'] : ['vtd', 'spapr']) {
    for (const w of s.workers) {
      p.push({
        key: `viommu ${iommu}${s.workers.length > 1 || w ? ` w${w}` : ''}`, cmd: process.execPath,
        argv: [viommu, 'bench', 'iotlb', '--json', '--iommu', iommu, '--ws', String(s.ws), '--ops', String(ops), '--pattern', s.pattern,
          '--workers', String(w), '--capacity', String(CAPACITY)],
      });
    }
  }
  return p;
}

function main() {
  if (!existsSync(viommu)) throw new Error('dist/viommu.js is missing: run `npm run build` first');
  const withAnchors = buildAnchors();
  const load0 = loadavg()[0];
  const samples = runRounds(rounds, scenarios, (s) => programs(s, withAnchors));
  const med = (s, key) => median(samples.get(`${s.name}|${key}`)?.tps ?? [NaN]);
  const m = (x) => (x / 1e6).toFixed(1) + ' M';
  const out = [
    `iotlb-std/1, ops ${ops}, ${rounds} rounds (median), ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), node ${process.version};`,
    `viommu IOTLB ${CAPACITY} entries 4-way FIFO per thread. 1-minute load average before/after: ${load0.toFixed(2)} / ${loadavg()[0].toFixed(2)}.`,
    '',
    '| scenario | program | translations/s (median) | min | max | hits | misses | checksum |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [k, v] of samples) {
    const [name, key] = k.split('|');
    out.push(`| ${name} | ${key} | ${m(median(v.tps))} | ${m(Math.min(...v.tps))} | ${m(Math.max(...v.tps))} | ${v.hits} | ${v.misses} | ${v.checksum} |`);
  }
  out.push('', '| ratio (medians) | value |', '|---|---:|');
  for (const s of scenarios.slice(0, 3)) {
    out.push(`| ${s.name}: spapr / vtd | ${(med(s, 'viommu spapr') / med(s, 'viommu vtd')).toFixed(2)}x |`);
    if (withAnchors) {
      out.push(`| ${s.name}: spapr / qemu_like | ${(med(s, 'viommu spapr') / med(s, 'qemu_like')).toFixed(2)}x |`);
      out.push(`| ${s.name}: spapr / native_flat | ${(med(s, 'viommu spapr') / med(s, 'native_flat')).toFixed(2)}x |`);
    }
  }
  const w = scenarios[3];
  out.push(`| ${w.name}: spapr 2 workers / 1 worker | ${(med(w, 'viommu spapr w2') / med(w, 'viommu spapr w1')).toFixed(2)}x |`);
  console.log(out.join('\n'));
}

main();
