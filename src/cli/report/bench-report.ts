import type { IotlbBenchResult } from '../../iommu/index.js';
import { barChart, type BarSeries } from './bar-chart.js';
import { htmlPage, htmlTable, type ReportSection } from './html-page.js';
import { lineChart, type LineSeries } from './line-chart.js';

/** Result fields a sweep can vary, with their axis captions; sizes get a log2 axis. */
const DIMENSIONS: readonly { key: keyof IotlbBenchResult; caption: string; log2?: boolean }[] = [
  { key: 'workers', caption: 'translation workers (0: calling thread)' },
  { key: 'ws', caption: 'working set (4 KiB pages, log2)', log2: true },
  { key: 'pages', caption: 'mapped pages (log2)', log2: true },
  { key: 'iotlb_capacity', caption: 'IOTLB entries per thread (log2)', log2: true },
  { key: 'iotlb_ways', caption: 'IOTLB ways' },
  { key: 'iommu', caption: 'vIOMMU model' },
  { key: 'pattern', caption: 'access pattern' },
  { key: 'iotlb_policy', caption: 'replacement policy' },
  { key: 'coherence', caption: 'worker IOTLB coherence' },
  { key: 'ops', caption: 'translations per run' },
];

/** Hit rate in percent. */
export function hitRate(r: IotlbBenchResult): number {
  const n = r.hits + r.misses;
  return n > 0 ? (100 * r.hits) / n : 0;
}

const pct = (v: number) => `${Number(v.toFixed(1))}%`;
/** Sizes on log2 axes: exact powers of two (256, 16384), Mi above a million. */
const size = (v: number) => (v >= 1 << 20 ? `${v / (1 << 20)}Mi` : String(v));

/** The dimensions that take more than one value across the results. */
export function variedKeys(results: readonly IotlbBenchResult[]): typeof DIMENSIONS[number][] {
  return DIMENSIONS.filter((d) => new Set(results.map((r) => r[d.key])).size > 1);
}

interface Grouped {
  readonly name: string;
  readonly runs: IotlbBenchResult[];
}

/** Results grouped by the values of the other varied keys; groups varying in `key` only (>= 2 values) when there are any. */
function seriesAlong(results: readonly IotlbBenchResult[], key: keyof IotlbBenchResult, others: readonly (keyof IotlbBenchResult)[]): Grouped[] {
  const groups = new Map<string, IotlbBenchResult[]>();
  for (const r of results) {
    const name = others.map((k) => `${String(k)}=${String(r[k])}`).join(' ') || 'all runs';
    groups.set(name, [...(groups.get(name) ?? []), r]);
  }
  const all = [...groups].map(([name, runs]) => ({ name, runs }));
  const multi = all.filter((g) => new Set(g.runs.map((r) => r[key])).size > 1);
  return multi.length ? multi : all;
}

function chartsAlong(results: readonly IotlbBenchResult[], dim: typeof DIMENSIONS[number], others: readonly (keyof IotlbBenchResult)[]): ReportSection[] {
  const groups = seriesAlong(results, dim.key, others);
  const metrics = [
    { what: 'Throughput', yLabel: 'translations per second', value: (r: IotlbBenchResult) => r.translations_per_s, yMax: undefined, fmt: undefined },
    { what: 'IOTLB hit rate', yLabel: 'hits / translations (%)', value: hitRate, yMax: 100, fmt: pct },
  ];
  return metrics.map((m) => {
    const title = `${m.what} by ${dim.key === 'ws' ? 'working set' : dim.key}`;
    const numeric = groups.every((g) => g.runs.every((r) => typeof r[dim.key] === 'number'));
    if (numeric && dim.log2) {
      const series: LineSeries[] = groups.map((g) => ({ name: g.name, points: g.runs.map((r) => ({ x: r[dim.key] as number, y: m.value(r) })) }));
      return { heading: title, body: lineChart({ title, xLabel: dim.caption, yLabel: m.yLabel, series, xScale: 'log2', xFormat: size, ...(m.yMax ? { yMax: m.yMax } : {}), ...(m.fmt ? { yFormat: m.fmt } : {}) }) };
    }
    const cats = [...new Set(groups.flatMap((g) => g.runs.map((r) => r[dim.key])))]
      .sort((a, b) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b))));
    const series: BarSeries[] = groups.map((g) => ({ name: g.name, values: cats.map((c) => { const r = g.runs.find((x) => x[dim.key] === c); return r ? m.value(r) : null; }) }));
    return { heading: title, body: barChart({ title, xLabel: dim.caption, yLabel: m.yLabel, categories: cats.map(String), series, ...(m.yMax ? { yMax: m.yMax } : {}), ...(m.fmt ? { yFormat: m.fmt } : {}) }) };
  });
}

/**
 * The HTML report of a `bench iotlb` sweep: for each option the sweep
 * varied (workers, working set, ...), throughput and hit rate along it
 * (one series per combination of the other varied options), then a table
 * of every run.
 */
export function benchReport(results: readonly IotlbBenchResult[], commandLine: string): string {
  const varied = variedKeys(results);
  const dims = varied.length ? varied : DIMENSIONS.slice(0, 1);
  const sections: ReportSection[] = [];
  for (const d of dims) sections.push(...chartsAlong(results, d, varied.filter((o) => o.key !== d.key).map((o) => o.key)));
  const first = results[0];
  const rows = results.map((r) => [r.iommu, r.workers, r.ws, r.pages, r.ops, Number(r.seconds.toFixed(3)),
    Number((r.translations_per_s / 1e6).toFixed(2)), Number(hitRate(r).toFixed(2)), r.misses, r.evictions, r.faults]);
  sections.push({
    heading: 'All runs',
    body: htmlTable(['iommu', 'workers', 'ws', 'pages', 'ops', 'seconds', 'M translations/s', 'hit rate %', 'misses', 'evictions', 'faults'], rows),
  });
  const meta = [
    `Command: ${commandLine}`,
    ...(first ? [`Workload ${first.workload}, ${first.pattern} pattern, seed 0x${first.seed.toString(16)}; IOTLB ${first.iotlb_capacity} entries per thread, ${first.iotlb_ways}-way ${first.iotlb_policy}.`] : []),
    `${results.length} runs. Throughput is wall-clock translations per second on this host; hit rates are the IOTLB's own counters.`,
  ];
  return htmlPage('viommu bench iotlb', meta, sections);
}
