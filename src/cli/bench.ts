import { ConfigError, closest } from '../base/index.js';
import {
  BENCH_DEFAULTS, BENCH_IOMMUS, COHERENCE_MODES, IOTLB_POLICIES, runIotlbBench, type IotlbBenchOptions, type IotlbBenchResult, type WorkloadPattern,
} from '../iommu/index.js';
import type { CoherenceMode, IotlbPolicy } from '../iommu/index.js';
import { commandHelp, parseArgs, type CommandSpec } from './args.js';
import type { CliIo } from './io.js';
import { errorLines, UsageError } from './usage-error.js';
import { BENCH_VHOST_SPEC, runVhostBenchCli } from './bench-vhost-cli.js';
import { runIotlbSweep } from './bench-run-sweep.js';
import { traceFor, writeTraceFile } from './trace-file.js';

/** `viommu bench iotlb`: the standard IOTLB workload (iotlb-std/1). */
export const BENCH_IOTLB_SPEC: CommandSpec = {
  name: 'bench iotlb',
  summary: 'Run the standard IOTLB workload (iotlb-std/1) through a vIOMMU model and report translations per second.',
  flags: {
    pages: { type: 'int', arg: 'N', unsigned: true, help: 'IOVA pages mapped (4 KiB each)', default: BENCH_DEFAULTS.pages },
    ws: { type: 'int', arg: 'N', unsigned: true, help: 'pages the stream touches (<= pages)', default: BENCH_DEFAULTS.ws },
    ops: { type: 'int', arg: 'N', unsigned: true, help: 'translations in the timed stream', default: BENCH_DEFAULTS.ops },
    pattern: { type: 'string', help: 'access pattern', arg: ['random', 'seq'].join('|'), default: BENCH_DEFAULTS.pattern },
    seed: {
      type: 'int', arg: 'S', unsigned: true, help: 'PRNG seed (uint32, decimal or 0x...)',
      default: BENCH_DEFAULTS.seed, defaultText: `0x${BENCH_DEFAULTS.seed.toString(16).toUpperCase()}`,
    },
    workers: { type: 'int', arg: 'N', unsigned: true, help: 'translation workers (0: the calling thread)', default: BENCH_DEFAULTS.workers },
    iommu: { type: 'string', help: 'the vIOMMU model whose translate path is timed', arg: BENCH_IOMMUS.join('|'), default: BENCH_DEFAULTS.iommu },
    json: { type: 'bool', help: 'print one JSON object instead of a table' },
    capacity: { type: 'int', arg: 'N', unsigned: true, help: 'IOTLB entries per translating thread', default: BENCH_DEFAULTS.capacity },
    ways: { type: 'int', arg: 'N', unsigned: true, help: 'IOTLB associativity (1, 2, 4, 8, 16)', default: BENCH_DEFAULTS.ways },
    policy: { type: 'string', help: 'IOTLB replacement policy', arg: IOTLB_POLICIES.join('|'), default: BENCH_DEFAULTS.policy },
    coherence: { type: 'string', help: 'worker IOTLB coherence', arg: COHERENCE_MODES.join('|'), default: BENCH_DEFAULTS.coherence },
    sweep: {
      type: 'string', arg: 'K=V,V,...', repeatable: true,
      help: 'run once per value of option K (workers, ws, pages, ops, capacity, ways, iommu, pattern, policy, coherence); several sweeps run their cartesian product',
    },
    html: {
      type: 'string', arg: 'FILE',
      help: 'write an HTML report with SVG charts (throughput and hit rate along each swept option, a table of runs); without --sweep it runs workers=0,1,2 at --ws and ws=256,1024,4096,16384 at --workers',
    },
    trace: { type: 'string', arg: 'FILE.json', help: 'write a Chrome trace-event file (one run, --workers 0): IOTLB misses and fills per miss pass (Perfetto, chrome://tracing)' },
  },
  notes: 'The workload (shared/bench/IOTLB-WORKLOAD.md): guest page tables for --pages IOVA pages, then --ops\n'
    + 'translations of a stream over --ws of them, timed. Exits 1 if a translation faulted.\n'
    + 'A sweep prints one line per run (or a JSON array with --json) and shows a progress bar on stderr when it is a terminal.\n'
    + 'Recorded figures and the commands that produced them: bench/RESULTS.md.',
};

/** The benchmarks `viommu bench` runs, by name. */
export const BENCHMARKS: Readonly<Record<string, CommandSpec>> = { iotlb: BENCH_IOTLB_SPEC, vhost: BENCH_VHOST_SPEC };

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

/** Parses `bench iotlb` flags (--name value or --name=value). */
export function parseIotlbArgs(args: readonly string[]): IotlbCliArgs {
  const a = parseArgs(BENCH_IOTLB_SPEC, args);
  if (a.positional.length > 0 || a.rest.length > 0) throw new UsageError(`unexpected argument '${a.positional[0] ?? '--'}'`);
  const f = a.flags;
  const opts: IotlbBenchOptions = {
    pages: f['pages'] as number, ws: f['ws'] as number, ops: f['ops'] as number, pattern: f['pattern'] as WorkloadPattern,
    seed: f['seed'] as number, workers: f['workers'] as number, iommu: f['iommu'] as string, capacity: f['capacity'] as number,
    ways: f['ways'] as number, policy: f['policy'] as IotlbPolicy, coherence: f['coherence'] as CoherenceMode,
  };
  return {
    opts, json: f['json'] === true, help: a.help, sweeps: (f['sweep'] as string[] | undefined) ?? [],
    ...(f['html'] !== undefined ? { html: f['html'] as string } : {}),
    ...(f['trace'] !== undefined ? { trace: f['trace'] as string } : {}),
  };
}

/** `viommu bench --help`: the list of benchmarks. */
function benchHelp(): string {
  const names = Object.keys(BENCHMARKS);
  const w = Math.max(...names.map((n) => n.length));
  return [
    'usage: viommu bench <benchmark> [options]',
    '',
    'Runs a benchmark and prints its figures (a table, or JSON with --json).',
    '',
    'benchmarks:',
    ...names.map((n) => `  ${n.padEnd(w)}  ${BENCHMARKS[n]!.summary.split('\n')[0]}`),
    '',
    "Run 'viommu bench <benchmark> --help' for a benchmark's options.",
    '',
  ].join('\n');
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
    (what === undefined ? io.stderr : io.stdout).write(benchHelp());
    return what === undefined ? 2 : 0;
  }
  if (!BENCHMARKS[what]) {
    const near = closest(what, Object.keys(BENCHMARKS));
    throw new UsageError(`unknown benchmark '${what}'${near ? `; did you mean '${near}'?` : ''}`);
  }
  if (what === 'vhost') return runVhostBenchCli(rest, io);
  const cli = parseIotlbArgs(rest);
  const { opts, json, help } = cli;
  if (help) {
    io.stdout.write(commandHelp(BENCH_IOTLB_SPEC));
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
      io.stderr.write(errorLines('viommu bench iotlb', e));
      return 2;
    }
    throw e;
  }
}
