import { closest } from '../base/suggest.js';
import type { IotlbBenchOptions } from '../iommu/index.js';
import { UsageError } from './usage-error.js';

/** Options of `bench iotlb` that `--sweep KEY=V1,V2,...` can vary. */
export const SWEEP_NUMERIC = ['workers', 'ws', 'pages', 'ops', 'capacity', 'ways'] as const;
export const SWEEP_STRINGS = ['iommu', 'pattern', 'policy', 'coherence'] as const;
export type SweepKey = (typeof SWEEP_NUMERIC)[number] | (typeof SWEEP_STRINGS)[number];

/** One swept option and its values, in the order given. */
export interface SweepDim {
  readonly key: SweepKey;
  readonly values: readonly (number | string)[];
}

/** The sweep `--html` runs when no --sweep is given: workers at the chosen ws, and ws at the chosen workers. */
export const DEFAULT_SWEEP_WORKERS: readonly number[] = [0, 1, 2];
export const DEFAULT_SWEEP_WS: readonly number[] = [256, 1024, 4096, 16384];

/** Parses one `--sweep KEY=V1,V2,...`. */
export function parseSweep(spec: string): SweepDim {
  const eq = spec.indexOf('=');
  const key = eq < 0 ? spec : spec.slice(0, eq);
  const all: readonly string[] = [...SWEEP_NUMERIC, ...SWEEP_STRINGS];
  if (!all.includes(key)) {
    const near = closest(key, all);
    throw new UsageError(`--sweep: cannot sweep '${key}' (one of ${all.join(', ')})${near ? `; did you mean '${near}'?` : ''}`);
  }
  const parts = eq < 0 ? [] : spec.slice(eq + 1).split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (parts.length === 0) throw new UsageError(`--sweep ${key}: give values, e.g. --sweep ${key}=${key === 'iommu' ? 'vtd,smmuv3' : '0,1,2'}`);
  const numeric = (SWEEP_NUMERIC as readonly string[]).includes(key);
  const values = parts.map((p) => {
    if (!numeric) return p;
    const n = /^0x[0-9a-f]+$/i.test(p) ? parseInt(p, 16) : /^\d+$/.test(p) ? Number(p) : NaN;
    if (!Number.isSafeInteger(n)) throw new UsageError(`--sweep ${key}: '${p}' is not a non-negative integer`);
    return n;
  });
  return { key: key as SweepKey, values: [...new Set(values)] };
}

function withValue(o: IotlbBenchOptions, key: SweepKey, v: number | string): IotlbBenchOptions {
  return { ...o, [key]: v };
}

/** The runs of a sweep: the cartesian product of the dimensions over the base options (a key given twice: the last wins). */
export function expandSweep(base: IotlbBenchOptions, dims: readonly SweepDim[]): IotlbBenchOptions[] {
  let runs: IotlbBenchOptions[] = [base];
  const byKey = new Map(dims.map((d) => [d.key, d]));
  for (const d of byKey.values()) runs = runs.flatMap((r) => d.values.map((v) => withValue(r, d.key, v)));
  return runs;
}

/**
 * The built-in sweep of `--html` without `--sweep`: workers 0, 1, 2 at the
 * base working set, then working sets of 256, 1024, 4096 and 16384 pages
 * (those within --pages, plus the base ws) at the base worker count; the
 * shared point runs once.
 */
export function defaultSweep(base: IotlbBenchOptions): IotlbBenchOptions[] {
  const runs = DEFAULT_SWEEP_WORKERS.map((w) => ({ ...base, workers: w }));
  const wss = [...new Set([...DEFAULT_SWEEP_WS.filter((w) => w <= base.pages), base.ws])].sort((a, b) => a - b);
  for (const ws of wss) if (!runs.some((r) => r.workers === base.workers && r.ws === ws)) runs.push({ ...base, ws });
  return runs;
}

/** A short name of a run for progress notes: "workers=2 ws=1024". */
export function runName(o: IotlbBenchOptions, keys: readonly SweepKey[]): string {
  return keys.map((k) => `${k}=${String(o[k])}`).join(' ');
}
