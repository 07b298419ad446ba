import t from 'tap';
import { barChart } from '../../../src/cli/report/bar-chart.js';
import { CELL_STYLE, gridChart } from '../../../src/cli/report/grid.js';
import { htmlPage, htmlTable } from '../../../src/cli/report/html-page.js';
import { lineChart } from '../../../src/cli/report/line-chart.js';
import { formatSi, linearScale, log2Scale, niceStep } from '../../../src/cli/report/scale.js';
import { el, esc } from '../../../src/cli/report/svg.js';
import { checkXml, find, textOf } from './xml-check.js';

t.test('the XML checker itself rejects what it should', async (t) => {
  t.same(checkXml('<a x="1"><b/>t &amp; u</a>').problems, []);
  t.not(checkXml('<a><b></a>').problems.length, 0, 'bad nesting');
  t.not(checkXml('<a>x < y</a>').problems.length, 0, 'stray <');
  t.not(checkXml('<a>x & y</a>').problems.length, 0, 'bare &');
  t.not(checkXml('<a x="1" x="2"/>').problems.length, 0, 'repeated attribute');
});

t.test('escaping: labels with markup characters stay text', async (t) => {
  t.equal(esc(`<a href="x">&'`), '&lt;a href=&quot;x&quot;&gt;&amp;&#39;');
  const x = checkXml(el('g', { 'data-x': 'a"<b' }, el('text', {}, esc('1 < 2 & "q"'))));
  t.same(x.problems, []);
  t.equal(x.root!.attrs['data-x'], 'a"<b');
  t.equal(textOf(x.root!), '1 < 2 & "q"');
});

t.test('scales: nice ticks from zero, log2 ticks at powers of two', async (t) => {
  t.equal(niceStep(100, 5), 20);
  t.equal(niceStep(7, 5), 2);
  t.equal(niceStep(0.3, 3), 0.1);
  const y = linearScale(0, 93.5e6, 300, 40);
  t.same(y.ticks, [0, 2e7, 4e7, 6e7, 8e7, 1e8]);
  t.equal(y.at(0), 300, 'zero at the bottom');
  t.equal(y.at(1e8), 40, 'the top tick at the top');
  t.equal(y.at(5e7), 170);
  const x = log2Scale(256, 16384, 0, 600);
  t.same(x.ticks, [256, 512, 1024, 2048, 4096, 8192, 16384]);
  t.equal(x.at(256), 0);
  t.equal(x.at(16384), 600);
  t.equal(x.at(2048), 300, 'geometric middle in the middle');
  t.equal(formatSi(93_500_000), '93.5M');
  t.equal(formatSi(64_000), '64k');
  t.equal(formatSi(1.5e9), '1.5G');
});

t.test('bar chart: one bar per value, heights proportional, axes, labels and legend', async (t) => {
  const svg = barChart({
    title: 'Throughput by workers', xLabel: 'workers', yLabel: 'translations/s', categories: ['0', '1', '2'],
    series: [{ name: 'ws=1024', values: [100, 50, null] }, { name: 'ws=<4096>', values: [80, 40, 20] }],
  });
  const x = checkXml(svg);
  t.same(x.problems, [], 'well-formed');
  t.equal(x.root!.name, 'svg');
  t.equal(x.root!.attrs['data-chart'], 'bar');
  const bars = find(x.all, 'rect', 'class', 'bar');
  t.equal(bars.length, 5, 'null values draw no bar');
  const h = (s: string, c: string) => Number(bars.find((b) => b.attrs['data-series'] === s && b.attrs['data-category'] === c)!.attrs['height']);
  t.ok(Math.abs(h('ws=1024', '0') - 2 * h('ws=1024', '1')) < 0.02, 'height proportional to value');
  t.ok(Math.abs(h('ws=1024', '0') / h('ws=<4096>', '0') - 100 / 80) < 0.01);
  const texts = find(x.all, 'text').map(textOf);
  for (const s of ['Throughput by workers', 'workers', 'translations/s', '0', '1', '2', 'ws=1024', 'ws=<4096>', '100']) t.ok(texts.includes(s), `label ${s}`);
  t.equal(find(x.all, 'g', 'class', 'legend-item').length, 2);
  t.match(textOf(bars[0]!), /ws=1024, 0: 100/, 'hover title');
});

t.test('line chart: a polyline and a marker per point, sorted by x, on a log2 axis', async (t) => {
  const svg = lineChart({
    title: 'Hit rate', xLabel: 'ws', yLabel: '%', xScale: 'log2', yMax: 100,
    series: [{ name: 'workers=0', points: [{ x: 4096, y: 99.8 }, { x: 256, y: 100 }, { x: 16384, y: 27 }] }],
  });
  const x = checkXml(svg);
  t.same(x.problems, []);
  t.equal(x.root!.attrs['data-chart'], 'line');
  const pts = find(x.all, 'circle', 'class', 'point');
  t.equal(pts.length, 3);
  const line = find(x.all, 'polyline')[0]!;
  const xs = line.attrs['points']!.split(' ').map((p) => Number(p.split(',')[0]));
  t.same([...xs].sort((a, b) => a - b), xs, 'points in x order');
  const cy = (v: string) => Number(pts.find((p) => p.attrs['data-x'] === v)!.attrs['cy']);
  t.ok(cy('16384') > cy('256'), 'a lower value is lower on the chart');
  t.ok(find(x.all, 'text').map(textOf).includes('100'), 'y axis to yMax');
});

t.test('grid: a cell per (row, column), coloured by state, message in the hover title', async (t) => {
  const svg = gridChart({
    title: 'vIOMMU x consumer', rows: ['intel-iommu', 'arm-smmuv3'], columns: ['vhost', 'vfio'], rowLabel: 'vIOMMU', columnLabel: 'consumer',
    cells: [
      { row: 'intel-iommu', column: 'vhost', state: 'works' },
      { row: 'intel-iommu', column: 'vfio', state: 'refused', message: 'VT-d: device requires caching-mode=on for "MAP" <notifier>' },
      { row: 'arm-smmuv3', column: 'vhost', state: 'broken', message: 'oracle: 3 violations' },
    ],
  });
  const x = checkXml(svg);
  t.same(x.problems, []);
  t.equal(x.root!.attrs['data-chart'], 'grid');
  const cells = find(x.all, 'g', 'class', 'cell');
  t.equal(cells.length, 4);
  const cell = (r: string, c: string) => cells.find((e) => e.attrs['data-row'] === r && e.attrs['data-column'] === c)!;
  t.equal(cell('intel-iommu', 'vfio').attrs['data-state'], 'refused');
  t.equal(find(cell('intel-iommu', 'vfio').children, 'rect')[0]!.attrs['fill'], CELL_STYLE.refused.fill);
  t.match(textOf(find(cell('intel-iommu', 'vfio').children, 'title')[0]!), 'requires caching-mode=on for "MAP" <notifier>');
  t.equal(cell('arm-smmuv3', 'vfio').attrs['data-state'], 'missing', 'a cell that was not run');
  const legend = find(x.all, 'g', 'class', 'legend-item').map(textOf);
  t.same(legend, ['works (1)', 'refused (1)', 'broken (1)']);
});

t.test('the HTML page is self-contained and well-formed', async (t) => {
  const page = htmlPage('Report <1>', ['meta & more'], [
    { heading: 'Chart', body: barChart({ title: 't', xLabel: 'x', yLabel: 'y', categories: ['a'], series: [{ name: 's', values: [1] }] }) },
    { heading: 'Table', body: htmlTable(['name', 'n'], [['a<b', 1]]) },
  ]);
  t.notMatch(page, /<script|src=|href=/, 'no script, no external resource');
  const body = page.slice(page.indexOf('<body>'), page.indexOf('</body>') + 7);
  t.same(checkXml(body).problems, []);
  t.match(page, /<title>Report &lt;1&gt;<\/title>/);
  t.match(page, /<td class="text">a&lt;b<\/td><td>1<\/td>/);
});
