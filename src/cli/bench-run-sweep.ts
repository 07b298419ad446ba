import { writeFileSync } from 'node:fs';
import { ConfigError } from '../base/config-error.js';
import { checkBenchOptions, runIotlbBench, type IotlbBenchOptions, type IotlbBenchResult } from '../iommu/index.js';
import { defaultSweep, expandSweep, parseSweep, runName, type SweepKey } from './bench-sweep.js';
import type { CliIo } from './io.js';
import { startProgress, type ProgressStream } from './progress.js';
import { benchReport, hitRate } from './report/bench-report.js';
import { UsageError } from './usage-error.js';

/** What the sweep needs of the parsed `bench iotlb` arguments. */
export interface SweepRequest {
  readonly opts: IotlbBenchOptions;
  readonly json: boolean;
  readonly sweeps: readonly string[];
  readonly html?: string;
  readonly trace?: string;
}

/** The keys in which the runs differ, for run names. */
function differing(runs: readonly IotlbBenchOptions[]): SweepKey[] {
  const keys: SweepKey[] = ['iommu', 'workers', 'ws', 'pages', 'ops', 'capacity', 'ways', 'pattern', 'policy', 'coherence'];
  return keys.filter((k) => new Set(runs.map((r) => r[k])).size > 1);
}

/** One line per run: "workers=2 ws=1024  115.3 M/s  hit 99.99%  (0.174 s)". */
export function formatSweepLine(r: IotlbBenchResult, name: string): string {
  return `${name || r.iommu}  ${(r.translations_per_s / 1e6).toFixed(1)} M translations/s  hit ${hitRate(r).toFixed(2)}%  ` +
    `misses ${r.misses}  faults ${r.faults}  (${r.seconds.toFixed(3)} s)\n`;
}

/**
 * `bench iotlb --sweep ... [--html FILE]`: every run of the sweep (or the
 * built-in one for --html alone) in order, with a progress bar on a
 * terminal; one line per run (a JSON array with --json); the HTML report
 * when asked. Exit status 1 if any run faulted.
 */
export async function runIotlbSweep(req: SweepRequest, argv: readonly string[], io: CliIo): Promise<number> {
  if (req.trace !== undefined) throw new UsageError('--trace records one run; drop --sweep / --html');
  const dims = req.sweeps.map(parseSweep);
  const runs = dims.length ? expandSweep(req.opts, dims) : defaultSweep(req.opts);
  try {
    for (const r of runs) checkBenchOptions(r);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(`bench iotlb --sweep: ${e.message}`);
    throw e;
  }
  const keys = differing(runs);
  const bar = startProgress({ label: 'bench iotlb', total: runs.length, stream: io.stderr as ProgressStream, quiet: req.json });
  const results: IotlbBenchResult[] = [];
  for (const r of runs) {
    bar.update(results.length, runName(r, keys));
    results.push(await runIotlbBench(r));
  }
  bar.update(results.length);
  bar.done();
  if (req.json) io.stdout.write(`${JSON.stringify(results)}\n`);
  else results.forEach((r, i) => io.stdout.write(formatSweepLine(r, runName(runs[i]!, keys))));
  if (req.html !== undefined) {
    try {
      writeFileSync(req.html, benchReport(results, `viommu ${argv.join(' ')}`));
    } catch (e) {
      throw new UsageError(`--html: cannot write ${req.html}: ${(e as Error).message}`);
    }
    if (!req.json) io.stdout.write(`report: ${req.html}\n`);
  }
  return results.every((r) => r.faults === 0) ? 0 : 1;
}
