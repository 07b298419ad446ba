import { CHART_HEIGHT, CHART_WIDTH, chartFrame, legend, plotArea, seriesColour } from './frame.js';
import { formatSi, linearScale } from './scale.js';
import { el, svgRoot, text } from './svg.js';

export interface BarSeries {
  readonly name: string;
  /** One value per category; null where the series has no value. */
  readonly values: readonly (number | null)[];
}

export interface BarChartInput {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly categories: readonly string[];
  readonly series: readonly BarSeries[];
  /** Tick and tooltip format of values (default: 1.5M, 64k). */
  readonly yFormat?: (v: number) => string;
  /** Fixed top of the y axis (e.g. 100 for percentages). */
  readonly yMax?: number;
  readonly width?: number;
  readonly height?: number;
}

/**
 * A grouped bar chart: one group per category along x, one bar per series
 * in each group (colour = series, legend at the top), y from zero. Each
 * bar carries its value in data-value and a hover title.
 */
export function barChart(c: BarChartInput): string {
  const width = c.width ?? CHART_WIDTH;
  const height = c.height ?? CHART_HEIGHT;
  const fmt = c.yFormat ?? formatSi;
  const lg = legend(c.series.map((s) => s.name), width);
  const p = plotArea(width, height, lg.rows);
  const values = c.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const y = linearScale(Math.min(0, ...values), c.yMax ?? Math.max(0, ...values), p.y0, p.y1);
  const groupW = (p.x1 - p.x0) / Math.max(1, c.categories.length);
  const barW = (groupW * 0.8) / Math.max(1, c.series.length);
  const bars: string[] = [];
  c.categories.forEach((cat, ci) => {
    c.series.forEach((s, si) => {
      const v = s.values[ci];
      if (v === null || v === undefined) return;
      const x = p.x0 + ci * groupW + groupW * 0.1 + si * barW;
      const top = y.at(Math.max(0, v));
      const bottom = y.at(Math.min(0, v));
      bars.push(el('rect', {
        x, y: top, width: Math.max(1, barW - 1), height: Math.max(0.5, bottom - top), fill: seriesColour(si),
        class: 'bar', 'data-series': s.name, 'data-category': cat, 'data-value': v,
      }, el('title', {}, text(`${s.name}, ${cat}: ${fmt(v)}`))));
    });
  });
  const xTicks = c.categories.map((cat, ci) => ({ at: p.x0 + (ci + 0.5) * groupW, label: cat }));
  return svgRoot(width, height, c.title, 'bar', [
    ...chartFrame({ width, title: c.title, xLabel: c.xLabel, yLabel: c.yLabel, plot: p, y, yFormat: fmt, xTicks }),
    lg.svg,
    el('g', { class: 'data' }, bars),
  ]);
}
