/** Chart scales: linear and base-2 logarithmic axes with "nice" ticks. */

export interface Scale {
  /** Data value to pixel coordinate. */
  at(v: number): number;
  /** Tick values, in data units, inside the domain. */
  readonly ticks: readonly number[];
  readonly min: number;
  readonly max: number;
}

/** The "nice" step (1, 2 or 5 times a power of ten) for about `count` intervals over [0, span]. */
export function niceStep(span: number, count: number): number {
  if (!(span > 0)) return 1;
  const raw = span / Math.max(1, count);
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/**
 * A linear scale from [min, max] (max rounded up to a nice tick; min 0
 * unless the data go below) onto [r0, r1] (r1 < r0 for a y axis).
 */
export function linearScale(dataMin: number, dataMax: number, r0: number, r1: number, count = 5): Scale {
  const lo = Math.min(0, dataMin);
  const hi = dataMax > lo ? dataMax : lo + 1;
  const step = niceStep(hi - lo, count);
  const min = Math.floor(lo / step) * step;
  const max = Math.ceil(hi / step) * step;
  const ticks: number[] = [];
  for (let i = 0, v = min; v <= max + step / 2; i++, v = min + i * step) ticks.push(Number(v.toPrecision(12)));
  return { min, max, ticks, at: (v) => r0 + ((v - min) / (max - min)) * (r1 - r0) };
}

/** A base-2 log scale over positive data (working-set sizes, cache capacities), ticks at powers of two. */
export function log2Scale(dataMin: number, dataMax: number, r0: number, r1: number): Scale {
  const lo = Math.floor(Math.log2(Math.max(1, dataMin)));
  let hi = Math.ceil(Math.log2(Math.max(1, dataMax)));
  if (hi <= lo) hi = lo + 1;
  const ticks: number[] = [];
  const every = Math.max(1, Math.ceil((hi - lo) / 8));
  for (let e = lo; e <= hi; e += every) ticks.push(2 ** e);
  return { min: 2 ** lo, max: 2 ** hi, ticks, at: (v) => r0 + ((Math.log2(Math.max(v, 2 ** lo)) - lo) / (hi - lo)) * (r1 - r0) };
}

/** Compact tick labels: 1.5G, 120M, 64k, 0.25. */
export function formatSi(v: number): string {
  const a = Math.abs(v);
  const f = (x: number, u: string) => `${Number(x.toPrecision(3))}${u}`;
  if (a >= 1e9) return f(v / 1e9, 'G');
  if (a >= 1e6) return f(v / 1e6, 'M');
  if (a >= 1e4) return f(v / 1e3, 'k');
  return String(Number(v.toPrecision(4)));
}
