import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runViommu } from '../../../src/cli/main.js';
import type { MatrixResult } from '../../../src/cli/matrix/types.js';
import { cellMessage } from '../../../src/cli/report/matrix-report.js';
import { checkXml, find, textOf } from './xml-check.js';

async function run(args: string[]) {
  let out = '';
  let err = '';
  const code = await runViommu(args, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

const SLICE = ['--scenario', 'steady', '--mode', 'fixed', '--consumer', 'vhost-net', '--consumer', 'vfio', '--consumer', 'edu',
  '--viommu', 'intel-iommu,caching-mode=off,device-iotlb=on', '--viommu', 'smmuv3,ats=off', '--viommu', 'virtio-iommu'];

t.test('viommu matrix --html: a grid cell per matrix cell, state and message as in the result', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'viommu-matrix-html-'));
  const file = join(dir, 'matrix.html');
  const r = await run(['matrix', ...SLICE, '--json', '--html', file]);
  t.equal(r.code, 0, r.err);
  const result = JSON.parse(r.out) as MatrixResult;
  const html = readFileSync(file, 'utf8');
  const svgs = [...html.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => checkXml(m[0]));
  t.equal(svgs.length, 1, 'one grid: one mode');
  t.same(svgs[0]!.problems, []);
  const cells = find(svgs[0]!.all, 'g', 'class', 'cell');
  t.equal(cells.length, result.cells.length);
  t.ok(result.cells.some((c) => c.status === 'refused') && result.cells.some((c) => c.status === 'works'), 'the slice has both states');
  for (const c of result.cells) {
    const g = cells.find((e) => e.attrs['data-row'] === `${c.viommu} (ATS ${c.ats ? 'on' : 'off'})` && e.attrs['data-column'] === `${c.consumer} · ${c.scenario}`);
    t.equal(g?.attrs['data-state'], c.status, `${c.key}: ${c.status}`);
    const title = textOf(find(g!.children, 'title')[0]!);
    if (c.status === 'refused') t.ok(c.message && title.includes(c.message), `${c.key}: the refusal message on hover`);
    t.equal(title.endsWith(cellMessage(c)), true);
  }
  t.match(html, `${result.totals.cells} cells: ${result.totals.works} works, ${result.totals.refused} refused, ${result.totals.broken} broken`);
  t.equal(r.err.includes('\r'), false, 'no progress bar when stderr is not a terminal');
});
