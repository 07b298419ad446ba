import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runViommu } from '../../../src/cli/main.js';
import { PALETTE } from '../../../src/cli/report/frame.js';
import { CELL_STYLE } from '../../../src/cli/report/grid.js';
import { matrixReport, type MatrixReportInput } from '../../../src/cli/report/matrix-report.js';
import { findChromium, render } from '../../helpers/chromium.js';
import { countColour, countInk, decodePng } from '../../helpers/png.js';
import { checkXml, find } from './xml-check.js';

// Installing Debian's chromium on a fresh machine takes a minute or two.
t.setTimeout(600_000);

async function run(args: string[]) {
  let out = '';
  let err = '';
  const code = await runViommu(args, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

/** The <svg> elements of the DOM Chromium built, parsed, with their data marks. */
function svgsOf(dom: string) {
  return [...dom.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => {
    const x = checkXml(m[0]);
    const kind = x.root?.attrs['data-chart'] ?? '';
    const marks = kind === 'bar' ? find(x.all, 'rect', 'class', 'bar') : kind === 'line' ? find(x.all, 'circle', 'class', 'point') : find(x.all, 'g', 'class', 'cell');
    return { x, kind, marks };
  });
}

const chromium = findChromium();
const skip = 'skip' in chromium ? chromium.skip : false;
if (skip) t.comment(`headless Chromium report tests skipped: ${skip}`);
const dir = mkdtempSync(join(tmpdir(), 'viommu-chromium-report-'));

t.test('the bench report renders in headless Chromium with non-empty charts', { skip }, async (t) => {
  const file = join(dir, 'bench.html');
  const r = await run(['bench', 'iotlb', '--pages', '8192', '--ops', '40000', '--capacity', '1024', '--html', file]);
  t.equal(r.code, 0, r.err);
  const page = render((chromium as { path: string }).path, file, 1200, 2600);
  const svgs = svgsOf(page.dom);
  t.same(svgs.map((s) => s.kind), ['bar', 'bar', 'line', 'line'], 'throughput and hit rate by workers (bars) and by working set (lines)');
  for (const s of svgs) {
    t.same(s.x.problems, [], 'the DOM holds the chart intact');
    t.ok(s.marks.length >= 3, `${s.kind} chart has data marks (${s.marks.length})`);
  }
  for (const b of find(svgs[0]!.x.all, 'rect', 'class', 'bar')) t.ok(Number(b.attrs['height']) > 1 && Number(b.attrs['data-value']) > 0, 'a bar with height and value');
  const png = decodePng(page.png);
  t.equal(png.width, 1200);
  t.ok(countInk(png) > 20_000, `the screenshot is not blank (${countInk(png)} inked pixels)`);
  t.ok(countColour(png, PALETTE[0]!) > 5_000, 'the bars and lines are painted in the first series colour');
});

t.test('the matrix report renders as a coloured grid with messages on hover', { skip }, async (t) => {
  // A MatrixResult-shaped run (the `viommu matrix --html` test renders a real one once the matrix has landed).
  const counts = { dmaChecked: 0, dmaOk: 0, dmaFaults: 0, ops: 0, bytes: 0, mapEvents: 0, unmapEvents: 0, devIotlbEvents: 0, virtualNs: 0 };
  const cells: MatrixReportInput['cells'][number][] = [];
  for (const viommu of ['intel-iommu,caching-mode=off,device-iotlb=off', 'smmuv3,ats=off', 'virtio-iommu']) {
    for (const consumer of ['vhost-net', 'vfio', 'edu']) {
      const refused = consumer === 'vfio' && viommu !== 'virtio-iommu';
      const broken = consumer === 'vhost-net' && viommu === 'smmuv3,ats=off';
      cells.push({
        viommu, consumer, ats: false, scenario: 'steady', mode: 'fixed', status: refused ? 'refused' : broken ? 'broken' : 'works',
        ...(refused ? { message: `${viommu}: device requires iommu MAP notifier which is not currently supported` } : {}),
        ...(broken ? { broken: { details: ['stale translation after UNMAP'], oracleViolations: 2, hang: false, wrongData: 0 } } : {}),
        ...(!refused && !broken ? { notifierFlags: 'MAP|UNMAP' } : {}), counts,
      } as MatrixReportInput['cells'][number]);
    }
  }
  const file = join(dir, 'matrix.html');
  writeFileSync(file, matrixReport({ cells, totals: { cells: 9, works: 6, refused: 2, broken: 1 } }, 'viommu matrix --html matrix.html'));
  const page = render((chromium as { path: string }).path, file, 1200, 1000);
  const svgs = svgsOf(page.dom);
  t.equal(svgs.length, 1);
  const grid = svgs[0]!;
  t.equal(grid.kind, 'grid');
  t.same(grid.x.problems, []);
  t.equal(grid.marks.length, 9, 'a cell per combination');
  t.same(grid.marks.map((c) => c.attrs['data-state']).sort(), ['broken', 'refused', 'refused', 'works', 'works', 'works', 'works', 'works', 'works']);
  t.match(page.dom, /<title>intel-iommu,caching-mode=off,device-iotlb=off \(ATS off\) × vfio · steady: refused — intel-iommu,caching-mode=off,device-iotlb=off: device requires iommu MAP notifier/, 'the refusal message is the hover title');
  const png = decodePng(page.png);
  for (const s of ['works', 'refused', 'broken'] as const) t.ok(countColour(png, CELL_STYLE[s].fill, 6) > 1_000, `${s} cells are painted ${CELL_STYLE[s].fill}`);
});

t.test('viommu matrix --html renders: works and refused cells painted, refusal messages as hover titles', { skip }, async (t) => {
  const file = join(dir, 'matrix-run.html');
  const r = await run(['matrix', '--scenario', 'steady', '--mode', 'fixed', '--consumer', 'vhost-net', '--consumer', 'vfio',
    '--viommu', 'intel-iommu,caching-mode=off,device-iotlb=on', '--viommu', 'smmuv3,ats=off', '--html', file]);
  t.equal(r.code, 0, r.err);
  const page = render((chromium as { path: string }).path, file, 1200, 900);
  const svgs = svgsOf(page.dom);
  t.same(svgs.map((s) => s.kind), ['grid']);
  t.same(svgs[0]!.x.problems, []);
  t.equal(svgs[0]!.marks.length, 8, 'two vIOMMUs x two ATS settings x two consumers');
  t.match(page.dom, /<title>smmuv3,ats=off \(ATS off\) × vfio · steady: refused — [^<]*requires iommu MAP notifier/, 'the veto message on hover');
  const png = decodePng(page.png);
  for (const s of ['works', 'refused'] as const) t.ok(countColour(png, CELL_STYLE[s].fill, 6) > 1_000, `${s} cells are painted`);
});
