import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { BENCH_DEFAULTS, type IotlbBenchResult } from '../../../src/iommu/index.js';
import { defaultSweep, expandSweep, parseSweep } from '../../../src/cli/bench-sweep.js';
import { runViommu } from '../../../src/cli/main.js';
import { benchReport, hitRate } from '../../../src/cli/report/bench-report.js';
import { checkXml, find, textOf } from './xml-check.js';

async function run(args: string[]) {
  let out = '';
  let err = '';
  const code = await runViommu(args, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

function fake(workers: number, ws: number, tps: number, hits: number, misses: number): IotlbBenchResult {
  return {
    workload: 'iotlb-std/1', pages: 65536, ws, pattern: 'random', seed: 1, ops: hits + misses, seconds: 1, translations_per_s: tps,
    hits, misses, evictions: 0, faults: 0, checksum: 0, workers, iommu: 'vtd', iotlb_capacity: 4096, iotlb_ways: 4,
    iotlb_policy: 'fifo', iotlb_entries_used: 0, coherence: 'shootdown',
  };
}

/** The <svg> charts of a report, parsed. */
function charts(html: string) {
  return [...html.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => checkXml(m[0]));
}

t.test('--sweep parses keys and values, and suggests the right key', async (t) => {
  t.same(parseSweep('workers=0,1,2'), { key: 'workers', values: [0, 1, 2] });
  t.same(parseSweep('iommu=vtd,smmuv3'), { key: 'iommu', values: ['vtd', 'smmuv3'] });
  t.same(parseSweep('ws=0x100,256,1024').values, [256, 1024], 'duplicates dropped');
  t.throws(() => parseSweep('worker=1,2'), /cannot sweep 'worker'.*did you mean 'workers'/);
  t.throws(() => parseSweep('ws='), /give values/);
  t.throws(() => parseSweep('ws=1k'), /not a non-negative integer/);
  const runs = expandSweep(BENCH_DEFAULTS, [parseSweep('workers=0,1'), parseSweep('ws=256,512,1024')]);
  t.equal(runs.length, 6, 'cartesian product');
  t.same(runs.map((r) => [r.workers, r.ws]), [[0, 256], [0, 512], [0, 1024], [1, 256], [1, 512], [1, 1024]]);
  const d = defaultSweep({ ...BENCH_DEFAULTS, pages: 8192 });
  t.same(d.map((r) => [r.workers, r.ws]), [[0, 1024], [1, 1024], [2, 1024], [0, 256], [0, 4096]], 'built-in sweep, within --pages, shared point once');
});

t.test('the bench report charts throughput and hit rate along workers and working set', async (t) => {
  const results = [
    fake(0, 1024, 90e6, 999, 1), fake(1, 1024, 50e6, 999, 1), fake(2, 1024, 110e6, 998, 2),
    fake(0, 256, 140e6, 1000, 0), fake(0, 16384, 20e6, 270, 730),
  ];
  const html = benchReport(results, 'viommu bench iotlb --html r.html');
  const svgs = charts(html);
  t.equal(svgs.length, 4, 'throughput and hit rate, by workers and by working set');
  for (const s of svgs) t.same(s.problems, [], 'each chart is well-formed');
  const titles = svgs.map((s) => textOf(find(s.all, 'title')[0]!));
  t.same(titles, ['Throughput by workers', 'IOTLB hit rate by workers', 'Throughput by working set', 'IOTLB hit rate by working set']);
  const byWorkers = find(svgs[0]!.all, 'rect', 'class', 'bar');
  t.same(byWorkers.map((b) => Number(b.attrs['data-value'])), [90e6, 50e6, 110e6], 'the workers chart: the runs at the shared ws');
  const byWs = find(svgs[3]!.all, 'circle', 'class', 'point');
  t.same(byWs.map((p) => [Number(p.attrs['data-x']), Number(p.attrs['data-y'])]), [[256, 100], [1024, 99.9], [16384, 27]]);
  t.equal(hitRate(results[4]!), 27);
  t.match(html, /<td class="text">vtd<\/td><td>0<\/td><td>16384<\/td>/, 'the runs table');
});

t.test('viommu bench iotlb --sweep prints a line per run; --html writes the report', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'viommu-bench-html-'));
  const file = join(dir, 'bench.html');
  const r = await run(['bench', 'iotlb', '--pages', '4096', '--ops', '20000', '--sweep', 'ws=64,512,2048', '--capacity', '256', '--html', file]);
  t.equal(r.code, 0, r.err);
  t.equal(r.err, '', 'no progress bar when stderr is not a terminal');
  const lines = r.out.trim().split('\n');
  t.equal(lines.length, 4);
  t.match(lines[0]!, /^ws=64 +[\d.]+ M translations\/s +hit [\d.]+% +misses 64 +faults 0/);
  t.match(lines[3]!, `report: ${file}`);
  const svgs = charts(readFileSync(file, 'utf8'));
  t.equal(svgs.length, 2, 'throughput and hit rate by working set');
  const pts = find(svgs[1]!.all, 'circle', 'class', 'point');
  t.same(pts.map((p) => Number(p.attrs['data-x'])), [64, 512, 2048]);
  const rate = (ws: number) => Number(pts.find((p) => Number(p.attrs['data-x']) === ws)!.attrs['data-y']);
  t.ok(rate(64) > 99 && rate(2048) < 50, 'a working set beyond the 256-entry IOTLB misses');
  const j = await run(['bench', 'iotlb', '--pages', '1024', '--ops', '5000', '--sweep', 'workers=0', '--sweep', 'iommu=vtd,spapr', '--json']);
  t.equal(j.code, 0, j.err);
  t.same(JSON.parse(j.out).map((x: IotlbBenchResult) => x.iommu), ['vtd', 'spapr']);
  const bad = await run(['bench', 'iotlb', '--sweep', 'wokers=1']);
  t.equal(bad.code, 2);
  t.match(bad.err, /did you mean 'workers'/);
  const both = await run(['bench', 'iotlb', '--sweep', 'ws=1,2', '--trace', join(dir, 't.json')]);
  t.equal(both.code, 2);
  t.match(both.err, /--trace records one run/);
});
