import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { commandHelp, parseArgs, type CommandSpec } from '../args.js';
import type { CliIo } from '../io.js';
import { startProgress, type ProgressStream } from '../progress.js';
import { matrixReport } from '../report/matrix-report.js';
import { UsageError } from '../usage-error.js';
import { MODES, parseShard, SCENARIO_HELP, SCENARIOS, VIOMMUS } from './axes.js';
import { CONSUMERS } from './consumers.js';
import { compareExpected, expectedFrom, formatExpected, parseExpected } from './expected.js';
import { formatMarkdown, formatTable } from './format.js';
import { runMatrix, type RunMatrixOptions } from './run.js';
import type { MatrixConsumerId, MatrixMode, MatrixScenarioId, MatrixViommuId } from './types.js';

/** Where `viommu matrix` looks for the expected matrix when --expected is not given (the repository's checked-in file). */
export const DEFAULT_EXPECTED = 'test/cli/matrix/expected.json';

export const MATRIX_SPEC: CommandSpec = {
  name: 'matrix',
  summary: 'Run every vIOMMU x consumer x guest ATS x scenario combination (and the regression modes) and report each cell as works, refused or broken.',
  flags: {
    json: { type: 'bool', help: 'print the MatrixResult as JSON (no progress bar)' },
    md: { type: 'bool', help: 'print Markdown tables (no progress bar)' },
    shard: { type: 'string', arg: 'I/N', help: 'run only slice I of N (round-robin over the canonical cell order), for spreading over CI machines' },
    viommu: { type: 'string', arg: 'ID', help: 'only this vIOMMU column', repeatable: true, choices: VIOMMUS.map((v) => v.id) },
    consumer: { type: 'string', arg: 'ID', help: 'only this consumer', repeatable: true, choices: CONSUMERS.map((c) => c.id) },
    scenario: { type: 'string', arg: 'ID', help: 'only this scenario', repeatable: true, choices: SCENARIOS },
    mode: { type: 'string', arg: 'MODE', help: 'only this mode (fixed, or a regression column)', repeatable: true, choices: MODES },
    expected: { type: 'string', arg: 'FILE', help: `compare with an expected matrix (default: ${DEFAULT_EXPECTED} when it exists); exit 1 on a difference` },
    'write-expected': { type: 'string', arg: 'FILE', help: 'write the run as the expected matrix (after reviewing it)' },
    seed: { type: 'int', arg: 'N', help: 'seed of the guest workloads', default: 1 },
    html: { type: 'string', arg: 'FILE', help: 'also write an HTML report: a coloured grid per mode (works / refused / broken), the message of each cell on hover' },
  },
  notes: [
    'vIOMMUs: ' + VIOMMUS.map((v) => v.id).join('; '),
    'consumers: ' + CONSUMERS.map((c) => `${c.id} (${c.summary})`).join('; '),
    'scenarios:',
    ...SCENARIOS.map((s) => `  ${s.padEnd(13)} ${SCENARIO_HELP[s]}`),
    'modes: fixed; x-vhost-iotlb-fallback=off (vhost devices: a DEVIOTLB veto fails the device, seed 002);',
    '  seed000 and seed004 (--regress on the sPAPR column: the bind/unbind cells catch them).',
    'A cell is "works" (with the notifier flags in use), "refused" (with the message) or "broken"',
    '(DMA oracle violations, wrong data or failed steps, or a hang: the virtual-time bound exceeded).',
    'Exit status: with an expected matrix, 0 when the run matches it; without one, 0 unless a fixed-mode cell is broken.',
  ].join('\n'),
};


/** `viommu matrix`. */
export async function runMatrixCommand(argv: string[], io: CliIo): Promise<number> {
  const a = parseArgs(MATRIX_SPEC, argv);
  if (a.help) {
    io.stdout.write(commandHelp(MATRIX_SPEC));
    return 0;
  }
  if (a.positional.length) throw new UsageError(`matrix takes no positional arguments ('${a.positional[0]}')`);
  const json = a.flags['json'] === true;
  const md = a.flags['md'] === true;
  if (json && md) throw new UsageError('--json and --md exclude each other');
  let shard: { index: number; count: number } | undefined;
  if (typeof a.flags['shard'] === 'string') {
    const s = parseShard(a.flags['shard']);
    if (typeof s === 'string') throw new UsageError(`--shard: ${s}`);
    shard = s;
  }
  const list = <T>(name: string): T[] | undefined => a.flags[name] as T[] | undefined;
  // A bar with an estimate (src/cli/progress.ts) on whichever stream is a terminal, stderr first; none with --json / --md.
  const err = io.stderr as ProgressStream;
  const bar = startProgress({ label: '', total: 0, stream: err.isTTY === true ? err : io.stdout, quiet: json || md });
  const opts: RunMatrixOptions = {
    ...(shard ? { shard } : {}),
    ...(list<MatrixViommuId>('viommu') ? { viommus: list<MatrixViommuId>('viommu') } : {}),
    ...(list<MatrixConsumerId>('consumer') ? { consumers: list<MatrixConsumerId>('consumer') } : {}),
    ...(list<MatrixScenarioId>('scenario') ? { scenarios: list<MatrixScenarioId>('scenario') } : {}),
    ...(list<MatrixMode>('mode') ? { modes: list<MatrixMode>('mode') } : {}),
    seed: a.flags['seed'] as number,
    ...(bar.drawn ? { onCell: (d: number, n: number, c: { key: string }) => { bar.setTotal(n); bar.update(d, c.key); } } : {}),
  };
  const expFile = (a.flags['expected'] as string | undefined) ?? (existsSync(DEFAULT_EXPECTED) ? DEFAULT_EXPECTED : undefined);
  let expected;
  if (expFile) {
    try {
      expected = parseExpected(readFileSync(expFile, 'utf8'), expFile);
    } catch (e) {
      throw new UsageError(`--expected: ${(e as Error).message}`);
    }
  }
  const result = await runMatrix(opts);
  bar.done();
  const html = a.flags['html'] as string | undefined;
  if (html !== undefined) {
    try {
      writeFileSync(html, matrixReport(result, `viommu matrix ${argv.join(' ')}`));
    } catch (e) {
      throw new UsageError(`--html: cannot write ${html}: ${(e as Error).message}`);
    }
  }
  io.stdout.write(json ? `${JSON.stringify(result, null, 1)}\n` : md ? formatMarkdown(result) : formatTable(result));
  const out = a.flags['write-expected'] as string | undefined;
  if (out) {
    writeFileSync(out, formatExpected(expectedFrom(result)));
    io.stderr.write(`viommu matrix: wrote ${result.cells.length} cells to ${out}\n`);
  }
  if (expected && !out) {
    const filtered = shard || opts.viommus || opts.consumers || opts.scenarios || opts.modes;
    const diffs = compareExpected(result, expected, !filtered);
    if (diffs.length) {
      io.stderr.write(`viommu matrix: ${diffs.length} cell${diffs.length > 1 ? 's differ' : ' differs'} from ${expFile}:\n${diffs.map((d) => `  ${d}\n`).join('')}`);
      return 1;
    }
    io.stderr.write(`viommu matrix: ${result.cells.length} cells match ${expFile}\n`);
    return 0;
  }
  return result.cells.some((c) => c.mode === 'fixed' && c.status === 'broken') ? 1 : 0;
}
