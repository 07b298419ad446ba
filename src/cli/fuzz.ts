import { ConfigError } from '../base/config-error.js';
import type { TargetStats } from '../machine/fuzz/engine.js';
import { fuzzTargetNames, replayReproducer, runFuzz } from '../machine/fuzz/run.js';
import { commandHelp, parseArgs, type CommandSpec } from './args.js';
import type { CliIo } from './io.js';
import { UsageError } from './usage-error.js';

export const FUZZ_SPEC: CommandSpec = {
  name: 'fuzz',
  summary: 'Fuzz the guest-facing surfaces (device registers, IOMMU tables and queues, virtio, hypercalls, firmware parsers, QMP/qtest) with seeded inputs.',
  flags: {
    target: { type: 'string', arg: 'NAME|all', help: 'what to fuzz', default: 'all' },
    seconds: { type: 'number', arg: 'N', help: 'wall-time budget per target', default: 10 },
    inputs: { type: 'int', arg: 'N', help: 'stop each target after N inputs (deterministic runs)' },
    seed: { type: 'int', arg: 'S', help: 'seed of the input generator', default: 1 },
    json: { type: 'bool', help: 'print the results as JSON' },
    replay: { type: 'string', arg: 'FILE', help: 'rerun a reproducer file and report whether it still fails' },
    out: { type: 'string', arg: 'DIR', help: 'where reproducers of new failures are written', default: 'fuzz-out' },
  },
  notes: 'Targets: ' + fuzzTargetNames().join(', ') + '.\nExits 1 if a failure was found (or, with --replay, if the reproducer still fails).',
};

function line(s: Readonly<TargetStats>): string {
  const rate = s.seconds > 0 ? (s.inputs / s.seconds).toFixed(1) : '-';
  return `${s.target.padEnd(14)} seed ${s.seed}  ${s.inputs} inputs in ${s.seconds.toFixed(1)} s (${rate}/s)  corpus ${s.corpus}  features ${s.features}  failures ${s.failures.length}`;
}

/** `viommu fuzz`. */
export async function runFuzzCommand(argv: string[], io: CliIo): Promise<number> {
  const a = parseArgs(FUZZ_SPEC, argv);
  if (a.help) {
    io.stdout.write(commandHelp(FUZZ_SPEC));
    return 0;
  }
  try {
    const replay = a.flags['replay'] as string | undefined;
    if (replay !== undefined) {
      const r = await replayReproducer(replay);
      const f = r.outcome.failure;
      if (a.flags['json']) io.stdout.write(`${JSON.stringify({ target: r.target, expected: r.expected, failure: f ?? null }, null, 2)}\n`);
      else io.stdout.write(f ? `FAIL ${r.target}: ${f.kind}: ${f.message}\n` : `ok ${r.target}: no failure (was: ${r.expected})\n`);
      return f ? 1 : 0;
    }
    const tty = io.stdout.isTTY === true && !a.flags['json'];
    const stats = await runFuzz({
      target: a.flags['target'] as string,
      seed: a.flags['seed'] as number,
      seconds: a.flags['seconds'] as number,
      ...(a.flags['inputs'] !== undefined ? { maxInputs: a.flags['inputs'] as number } : {}),
      outDir: a.flags['out'] as string,
      onProgress: tty ? (s, i, n) => io.stdout.write(`\r[${i + 1}/${n}] ${line(s)}\x1b[K`) : undefined,
      onFailure: (f, path) => {
        if (tty) io.stdout.write('\n');
        io.stderr.write(`viommu fuzz: ${f.target}: ${f.failure.kind}: ${f.failure.message}\n  reproducer (${f.input.ops.length} ops, from ${f.originalOps}): ${path ?? '(not saved)'}\n`);
      },
    });
    if (tty) io.stdout.write('\r\x1b[K');
    if (a.flags['json']) {
      io.stdout.write(`${JSON.stringify(stats.map((s) => ({ ...s, failures: s.failures.map((f) => ({ kind: f.failure.kind, message: f.failure.message, ops: f.input.ops.length })) })), null, 2)}\n`);
    } else {
      for (const s of stats) io.stdout.write(`${line(s)}\n`);
    }
    return stats.some((s) => s.failures.length > 0) ? 1 : 0;
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message);
    throw e;
  }
}
