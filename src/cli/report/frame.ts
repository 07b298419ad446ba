import { el, label } from './svg.js';
import type { Scale } from './scale.js';

/** Series colours (colour-blind-safe Okabe-Ito order). */
export const PALETTE: readonly string[] = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];

export function seriesColour(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}

/** The plot area of a chart, in pixels. */
export interface PlotArea {
  readonly x0: number;
  readonly x1: number;
  /** Bottom (y0 > y1: SVG y grows downwards). */
  readonly y0: number;
  readonly y1: number;
}

export const CHART_WIDTH = 680;
export const CHART_HEIGHT = 360;

/** The plot area for a chart with a legend of `legendRows` rows at the top. */
export function plotArea(width: number, height: number, legendRows: number): PlotArea {
  return { x0: 72, x1: width - 20, y0: height - 52, y1: 40 + legendRows * 16 };
}

export interface XTick {
  readonly at: number;
  readonly label: string;
}

export interface FrameOptions {
  readonly width: number;
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly plot: PlotArea;
  readonly y: Scale;
  readonly yFormat: (v: number) => string;
  readonly xTicks: readonly XTick[];
}

/** Title, horizontal grid lines, both axes with tick labels, and the axis titles. */
export function chartFrame(o: FrameOptions): string[] {
  const { plot: p } = o;
  const out: string[] = [label(o.width / 2, 20, o.title, { 'text-anchor': 'middle', 'font-size': 15, 'font-weight': 'bold', class: 'chart-title' })];
  const grid: string[] = [];
  for (const v of o.y.ticks) {
    const y = o.y.at(v);
    grid.push(el('line', { x1: p.x0, x2: p.x1, y1: y, y2: y, stroke: '#ddd' }));
    grid.push(label(p.x0 - 6, y + 4, o.yFormat(v), { 'text-anchor': 'end', class: 'y-tick' }));
  }
  for (const t of o.xTicks) {
    grid.push(el('line', { x1: t.at, x2: t.at, y1: p.y0, y2: p.y0 + 5, stroke: '#333' }));
    grid.push(label(t.at, p.y0 + 18, t.label, { 'text-anchor': 'middle', class: 'x-tick' }));
  }
  out.push(el('g', { class: 'grid' }, grid));
  out.push(el('g', { class: 'axes', stroke: '#333' }, [
    el('line', { x1: p.x0, x2: p.x1, y1: p.y0, y2: p.y0 }),
    el('line', { x1: p.x0, x2: p.x0, y1: p.y0, y2: p.y1 }),
  ]));
  out.push(label((p.x0 + p.x1) / 2, p.y0 + 40, o.xLabel, { 'text-anchor': 'middle', class: 'x-label' }));
  const ym = (p.y0 + p.y1) / 2;
  out.push(label(16, ym, o.yLabel, { 'text-anchor': 'middle', transform: `rotate(-90 16 ${ym})`, class: 'y-label' }));
  return out;
}

/** The legend: a swatch and a name per series, left to right, wrapping within the width. */
export function legend(names: readonly string[], width: number): { svg: string; rows: number } {
  const items: string[] = [];
  let x = 72;
  let row = 0;
  names.forEach((n, i) => {
    const w = 22 + n.length * 7 + 14;
    if (x + w > width - 20 && x > 72) {
      x = 72;
      row++;
    }
    const y = 34 + row * 16;
    items.push(el('g', { class: 'legend-item' }, [
      el('rect', { x, y: y - 9, width: 12, height: 10, fill: seriesColour(i) }),
      label(x + 16, y, n),
    ]));
    x += w;
  });
  return { svg: el('g', { class: 'legend' }, items), rows: names.length ? row + 1 : 0 };
}
