#!/usr/bin/env node
// Paired A/B of `runIotlbBench` between two builds (e.g. main's dist and a branch's dist), in one process:
// each round runs A and B back to back (alternating which goes first) and the figure is the median of the
// per-round ratios B/A, which cancels most of the load drift of a shared machine.
//
//   node bench/ab-builds.mjs /path/to/main/dist /path/to/branch/dist [vtd,smmuv3,spapr] [rounds] [ops] [ws]
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [distA, distB, iommuList = 'vtd,smmuv3,spapr', roundsText = '25', opsText = '4000000', wsText = '1024'] = process.argv.slice(2);
if (!distA || !distB) {
  console.error('usage: node bench/ab-builds.mjs DIST_A DIST_B [iommus] [rounds] [ops] [ws]');
  process.exit(2);
}
const A = await import(pathToFileURL(resolve(distA, 'index.js')).href);
const B = await import(pathToFileURL(resolve(distB, 'index.js')).href);
const rounds = Number(roundsText);
const med = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
for (const iommu of iommuList.split(',')) {
  const o = { ...A.BENCH_DEFAULTS, iommu, ops: Number(opsText), ws: Number(wsText) };
  const ratios = [];
  const best = { a: 0, b: 0 };
  for (let r = 0; r < rounds; r++) {
    const pair = r % 2 === 0 ? [A, B] : [B, A];
    const got = [];
    for (const M of pair) got.push((await M.runIotlbBench(o)).translations_per_s);
    const [a, b] = r % 2 === 0 ? got : [got[1], got[0]];
    ratios.push(b / a);
    best.a = Math.max(best.a, a);
    best.b = Math.max(best.b, b);
  }
  console.log(`${iommu}: B/A median of paired ratios ${med(ratios).toFixed(3)} (${rounds} rounds, ops ${o.ops}, ws ${o.ws}); best A ${(best.a / 1e6).toFixed(1)} M/s, best B ${(best.b / 1e6).toFixed(1)} M/s`);
}
