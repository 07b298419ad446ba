import { CHART_HEIGHT, CHART_WIDTH, chartFrame, legend, plotArea, seriesColour } from './frame.js';
import { formatSi, linearScale, log2Scale } from './scale.js';
import { el, num, svgRoot, text } from './svg.js';

export interface LinePoint {
  readonly x: number;
  readonly y: number;
}

export interface LineSeries {
  readonly name: string;
  readonly points: readonly LinePoint[];
}

export interface LineChartInput {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly LineSeries[];
  /** 'log2' for sizes (working sets, capacities); default linear. */
  readonly xScale?: 'linear' | 'log2';
  readonly xFormat?: (v: number) => string;
  readonly yFormat?: (v: number) => string;
  readonly yMax?: number;
  readonly width?: number;
  readonly height?: number;
}

/**
 * A line chart: one polyline with point markers per series (sorted by x),
 * legend at the top, y from zero. Each marker carries data-x/data-y and a
 * hover title.
 */
export function lineChart(c: LineChartInput): string {
  const width = c.width ?? CHART_WIDTH;
  const height = c.height ?? CHART_HEIGHT;
  const fy = c.yFormat ?? formatSi;
  const fx = c.xFormat ?? formatSi;
  const lg = legend(c.series.map((s) => s.name), width);
  const p = plotArea(width, height, lg.rows);
  const xs = c.series.flatMap((s) => s.points.map((q) => q.x));
  const ys = c.series.flatMap((s) => s.points.map((q) => q.y));
  const xMin = xs.length ? Math.min(...xs) : 0;
  const xMax = xs.length ? Math.max(...xs) : 1;
  const pad = 16;
  const x = c.xScale === 'log2'
    ? log2Scale(xMin, xMax, p.x0 + pad, p.x1 - pad)
    : linearScale(Math.min(0, xMin), xMax, p.x0 + pad, p.x1 - pad);
  const y = linearScale(Math.min(0, ...ys), c.yMax ?? Math.max(0, ...ys), p.y0, p.y1);
  const lines: string[] = [];
  c.series.forEach((s, si) => {
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    const colour = seriesColour(si);
    const marks = pts.map((q) => el('circle', {
      cx: x.at(q.x), cy: y.at(q.y), r: 3.5, fill: colour, class: 'point', 'data-series': s.name, 'data-x': q.x, 'data-y': q.y,
    }, el('title', {}, text(`${s.name}: ${fx(q.x)} -> ${fy(q.y)}`))));
    lines.push(el('g', { class: 'series', 'data-series': s.name }, [
      el('polyline', { points: pts.map((q) => `${num(x.at(q.x))},${num(y.at(q.y))}`).join(' '), fill: 'none', stroke: colour, 'stroke-width': 2, class: 'line' }),
      ...marks,
    ]));
  });
  const xTicks = x.ticks.map((v) => ({ at: x.at(v), label: fx(v) }));
  return svgRoot(width, height, c.title, 'line', [
    ...chartFrame({ width, title: c.title, xLabel: c.xLabel, yLabel: c.yLabel, plot: p, y, yFormat: fy, xTicks }),
    lg.svg,
    el('g', { class: 'data' }, lines),
  ]);
}
