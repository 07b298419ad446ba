import { ConfigError, closest } from '../base/index.js';
import {
  BENCH_DEFAULTS, runIotlbBench, type IotlbBenchOptions, type IotlbBenchResult, type WorkloadPattern,
} from '../iommu/index.js';
import type { CoherenceMode, IotlbPolicy } from '../iommu/index.js';
import { runIotlbSweep } from './bench-run-sweep.js';
import type { CliIo } from './io.js';
import { traceFor, writeTraceFile } from './trace-file.js';
import { UsageError } from './usage-error.js';
import { runVhostBenchCli } from './bench-vhost-cli.js';

const IOTLB_HELP = `usage: viommu bench iotlb [options]

Runs the standard IOTLB workload (iotlb-std/1, shared/bench/IOTLB-WORKLOAD.md):
guest page tables for --pages IOVA pages, then --ops translations of a stream
over --ws of them, timed.

  --pages N          IOVA pages mapped (4 KiB each)             [65536]
  --ws N             pages the stream touches (<= pages)        [1024]
  --ops N            translations in the timed stream           [20000000]
  --pattern P        random | seq                               [random]
  --seed S           PRNG seed (uint32, decimal or 0x...)       [0x9E3779B9]
  --workers N        translation workers (0: calling thread)    [0]
  --iommu M          vtd | smmuv3 | virtio-iommu | spapr        [vtd]
  --json             one JSON object instead of a table
  --capacity N       IOTLB entries per translating thread       [4096]
  --ways N           IOTLB associativity (1, 2, 4, 8, 16)       [4]
  --policy P         fifo | lru                                 [fifo]
  --coherence C      shootdown | epoch (worker IOTLB coherence) [shootdown]
  --sweep K=V,V,...  run once per value of option K (workers, ws, pages, ops,
                     capacity, ways, iommu, pattern, policy, coherence);
                     repeatable: several sweeps run their cartesian product
  --html FILE        write an HTML report with SVG charts (throughput and hit
                     rate along each swept option, a table of runs); without
                     --sweep it runs workers=0,1,2 at --ws and
                     ws=256,1024,4096,16384 at --workers
  --trace FILE.json  write a Chrome trace-event file (one run, --workers 0):
                     IOTLB misses and fills per miss pass (Perfetto, chrome://tracing)

A sweep prints one line per run (or a JSON array with --json) and shows a
progress bar on stderr when it is a terminal.
`;

const NUMERIC = ['pages', 'ws', 'ops', 'seed', 'workers', 'capacity', 'ways'] as const;
const STRINGS = ['pattern', 'iommu', 'policy', 'coherence'] as const;
const FILES = ['html', 'trace'] as const;
const FLAGS = [...NUMERIC, ...STRINGS, ...FILES, 'sweep', 'json', 'help'];

/** What `bench iotlb` was asked for besides the options of one run. */
export interface IotlbCliArgs {
  opts: IotlbBenchOptions;
  json: boolean;
  help: boolean;
  /** --sweep KEY=V,... in order. */
  sweeps: string[];
  html?: string;
  trace?: string;
}

function parseNumber(flag: string, v: string): number {
  const n = /^0x[0-9a-f]+$/i.test(v) ? parseInt(v, 16) : /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw new UsageError(`--${flag}: '${v}' is not a non-negative integer`);
  return n;
}

/** Parses `bench iotlb` flags (--name value or --name=value). */
export function parseIotlbArgs(args: readonly string[]): IotlbCliArgs {
  const o: Record<string, number | string> = { ...BENCH_DEFAULTS };
  let json = false;
  let help = false;
  const sweeps: string[] = [];
  const files: Partial<Record<(typeof FILES)[number], string>> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument '${a}'`);
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (name === 'json') json = true;
    else if (name === 'help') help = true;
    else if (name === 'sweep' || (FILES as readonly string[]).includes(name)) {
      const v = eq >= 0 ? a.slice(eq + 1) : args[++i];
      if (v === undefined) throw new UsageError(`--${name} needs a value`);
      if (name === 'sweep') sweeps.push(v);
      else files[name as (typeof FILES)[number]] = v;
    } else if ((NUMERIC as readonly string[]).includes(name) || (STRINGS as readonly string[]).includes(name)) {
      const v = eq >= 0 ? a.slice(eq + 1) : args[++i];
      if (v === undefined) throw new UsageError(`--${name} needs a value`);
      o[name] = (NUMERIC as readonly string[]).includes(name) ? parseNumber(name, v) : v;
    } else {
      const near = closest(name, FLAGS);
      throw new UsageError(`unknown option '--${name}'${near ? `; did you mean '--${near}'?` : ''}`);
    }
  }
  const opts: IotlbBenchOptions = {
    pages: o.pages as number, ws: o.ws as number, ops: o.ops as number, pattern: o.pattern as WorkloadPattern,
    seed: o.seed as number, workers: o.workers as number, iommu: o.iommu as string, capacity: o.capacity as number,
    ways: o.ways as number, policy: o.policy as IotlbPolicy, coherence: o.coherence as CoherenceMode,
  };
  return { opts, json, help, sweeps, ...files };
}

/** The readable form of a result. */
export function formatIotlbResult(r: IotlbBenchResult): string {
  const rows: [string, string][] = [
    ['iommu', r.iommu],
    ['pages / ws', `${r.pages} / ${r.ws} (${r.pattern}, seed 0x${r.seed.toString(16)})`],
    ['workers', `${r.workers}${r.workers ? ` (coherence: ${r.coherence})` : ''}`],
    ['ops', String(r.ops)],
    ['seconds', r.seconds.toFixed(3)],
    ['translations/s', `${(r.translations_per_s / 1e6).toFixed(1)} M`],
    ['hits / misses', `${r.hits} / ${r.misses} (evictions ${r.evictions}, faults ${r.faults})`],
    ['checksum', String(r.checksum)],
    ['IOTLB', `${r.iotlb_capacity} entries per thread (${r.iotlb_ways}-way, ${r.iotlb_policy}), ${r.iotlb_entries_used} in use`],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return [`viommu bench iotlb (${r.workload})`, ...rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`), ''].join('\n');
}

/** `viommu bench <workload>`; returns the exit status. */
export async function runBench(args: string[], io: CliIo): Promise<number> {
  const [what, ...rest] = args;
  if (what === undefined || what === '--help' || what === '-h') {
    io.stdout.write('usage: viommu bench iotlb|vhost [options]   (viommu bench iotlb --help, viommu bench vhost --help)\n');
    return what === undefined ? 2 : 0;
  }
  if (what === 'vhost') return runVhostBenchCli(rest, io);
  if (what !== 'iotlb') {
    const near = closest(what, ['iotlb', 'vhost']);
    throw new UsageError(`unknown benchmark '${what}'${near ? `; did you mean '${near}'?` : ''}`);
  }
  const cli = parseIotlbArgs(rest);
  const { opts, json, help } = cli;
  if (help) {
    io.stdout.write(IOTLB_HELP);
    return 0;
  }
  try {
    if (cli.sweeps.length || cli.html !== undefined) return await runIotlbSweep(cli, ['bench', 'iotlb', ...rest], io);
    const trace = traceFor(cli.trace);
    const r = await runIotlbBench(opts, trace);
    if (trace && cli.trace !== undefined) writeTraceFile(cli.trace, trace, (m) => io.stderr.write(`viommu bench iotlb: ${m}\n`));
    io.stdout.write(json ? `${JSON.stringify(r)}\n` : formatIotlbResult(r));
    return r.faults === 0 ? 0 : 1;
  } catch (e) {
    if (e instanceof ConfigError) {
      io.stderr.write(`viommu bench iotlb: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
