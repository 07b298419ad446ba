#!/usr/bin/env node
// `viommu bench iotlb --iommu smmuv3` (the SMMUv3 model: STE/CD and queues
// programmed through its registers, 4-level stage-1 tables in guest RAM)
// against `--iommu vtd` (the VT-d model: root/context tables and QI through
// its registers, second-level tables in guest RAM) and the native anchors
// (bench/anchors: qemu_like, native_flat), in alternation on the same
// parameters; one process per run; the median over the rounds is kept.
//
//   npm run build && nice -n -10 node bench/smmuv3-compare.mjs [--rounds N] [--ops N]
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { ANCHORS_DIR as anchors, VIOMMU_JS as viommu, buildAnchors, median, numberFlag as flag, runJson as run } from './harness.mjs';

const rounds = flag('rounds', 5);
const ops = flag('ops', 20_000_000);
const haveAnchors = buildAnchors();

const scenarios = [
  { name: 'hit path (ws 1024, random)', pages: 65536, ws: 1024, pattern: 'random' },
  { name: 'miss-heavy (ws 65536, random)', pages: 65536, ws: 65536, pattern: 'random' },
  { name: 'sequential (ws 1024, seq)', pages: 65536, ws: 1024, pattern: 'seq' },
];

function programs(s) {
  const common = [String(s.pages), String(s.ws), String(ops), s.pattern];
  const v = (iommu, workers) => ({
    key: `${iommu}${workers ? ` w${workers}` : ''}`, cmd: process.execPath,
    argv: [viommu, 'bench', 'iotlb', '--json', '--iommu', iommu, '--pages', String(s.pages), '--ws', String(s.ws), '--ops', String(ops),
      '--pattern', s.pattern, '--workers', String(workers)],
  });
  const p = [v('smmuv3', 0), v('vtd', 0), v('smmuv3', 2)];
  if (haveAnchors) {
    p.push({ key: 'qemu_like', cmd: join(anchors, 'qemu_like'), argv: [...common, '1024'] });
    p.push({ key: 'native_flat', cmd: join(anchors, 'native_flat'), argv: [...common, '4096'] });
  }
  return p;
}

const results = new Map();
const loads = [];
for (let r = 0; r < rounds; r++) {
  loads.push(loadavg()[0]);
  for (const s of scenarios) {
    for (const p of programs(s)) {
      const out = run(p.cmd, p.argv);
      const k = `${s.name}|${p.key}`;
      if (!results.has(k)) results.set(k, []);
      results.get(k).push(out);
    }
  }
}

console.log(`rounds ${rounds}, ops ${ops}, load average at round starts: ${loads.map((l) => l.toFixed(2)).join(', ')}\n`);
console.log('| scenario | program | translations/s (median) | min | max | hits | misses | checksum |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|');
for (const s of scenarios) {
  for (const p of programs(s)) {
    const rs = results.get(`${s.name}|${p.key}`);
    const tps = rs.map((o) => o.translations_per_s);
    const f = (x) => `${(x / 1e6).toFixed(1)} M`;
    console.log(`| ${s.name} | ${p.key} | ${f(median(tps))} | ${f(Math.min(...tps))} | ${f(Math.max(...tps))} | ${rs[0].hits} | ${rs[0].misses} | ${rs[0].checksum} |`);
  }
}
// Ratios: the median over rounds of the ratio within a round (programs of one round run back to back, so a
// load change between rounds cancels out better than in a ratio of medians).
const ratio = (s, a, b) => {
  const xs = results.get(`${s.name}|${a}`);
  const ys = results.get(`${s.name}|${b}`);
  if (!xs || !ys) return '-';
  return `${median(xs.map((x, i) => x.translations_per_s / ys[i].translations_per_s)).toFixed(2)}x`;
};
console.log('\n| scenario | smmuv3 / vtd | smmuv3 / qemu_like | smmuv3 / native_flat | smmuv3 2 workers / 1 thread |');
console.log('|---|---:|---:|---:|---:|');
for (const s of scenarios) {
  console.log(`| ${s.name} | ${ratio(s, 'smmuv3', 'vtd')} | ${ratio(s, 'smmuv3', 'qemu_like')} | ${ratio(s, 'smmuv3', 'native_flat')} | ${ratio(s, 'smmuv3 w2', 'smmuv3')} |`);
}
console.log('\n| scenario | vtd / qemu_like | vtd / native_flat |');
console.log('|---|---:|---:|');
for (const s of scenarios) {
  console.log(`| ${s.name} | ${ratio(s, 'vtd', 'qemu_like')} | ${ratio(s, 'vtd', 'native_flat')} |`);
}
