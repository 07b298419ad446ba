import { readFileSync } from 'node:fs';
import { ConfigError } from '../base/config-error.js';
import { loadMachineConfig } from '../machine/load-config.js';
import { commandHelp, parseArgs, type CommandSpec } from './args.js';
import { splitArgs } from './hotplug/header.js';
import { defaultGuestActions } from './hotplug/providers.js';
import { formatJson, formatTap } from './hotplug/report.js';
import { DEFAULT_HOTPLUG_MACHINE, runHotplugScript } from './hotplug/run.js';
import { ScriptError } from './hotplug/script.js';
import type { CliIo } from './io.js';
import { TRACE_FLAG, traceFor, writeTraceFile } from './trace-file.js';
import { UsageError } from './usage-error.js';

function actionList(): string {
  const a = defaultGuestActions();
  return a.names().map((n) => `  ${n.padEnd(14)} ${a.get(n)!.summary}`).join('\n');
}

export const HOTPLUG_SPEC: CommandSpec = {
  name: 'hotplug',
  summary: 'Run a scripted hotplug / bind-unbind test (JSON lines) against a booted machine and print TAP.',
  positional: 'SCRIPT.jsonl',
  flags: {
    machine: { type: 'string', arg: 'CONFIG', help: 'the machine: a JSON config file, or QEMU options in one argument ("-M virt -device ..."); overrides the script header' },
    json: { type: 'bool', help: 'print a machine-readable log of every step instead of TAP' },
    seed: { type: 'int', arg: 'N', help: 'seed of the machine, the guest and the script\'s DMA data (default: the header\'s, else 1)' },
    log: { type: 'bool', help: 'also print the machine and guest log' },
    trace: TRACE_FLAG,
  },
  notes: [
    'Each line is one JSON object: an optional header {"machine": "-M q35 ..." | {...}, "boot": {...}},',
    'then steps: {"execute": ..., "arguments": ...} (QMP), {"expect": {"return"|"error"|"event"|"log": ...}, "within": "6s"},',
    '{"expect_none": {"event": ...}, "within": "6s"}, {"guest": ACTION, ...}, {"wait": "100ms"},',
    '{"assert": {"hmp": "info pci", "match": RE} | {"oracle": {"violations": 0}} | {"device": ID, "present": B} | {"log": RE}}.',
    `Default machine: ${DEFAULT_HOTPLUG_MACHINE}`,
    'Guest actions:',
    actionList(),
    'Exit status: 0 when every test point passes, 1 when one fails, 2 for a bad script or command line.',
  ].join('\n'),
};

/** `viommu hotplug SCRIPT`: run a hotplug script, print TAP (or --json). */
export async function runHotplug(argv: string[], io: CliIo): Promise<number> {
  const a = parseArgs(HOTPLUG_SPEC, argv);
  if (a.help) {
    io.stdout.write(commandHelp(HOTPLUG_SPEC));
    return 0;
  }
  const [file, ...more] = a.positional;
  if (file === undefined) throw new UsageError('hotplug: give a script (viommu hotplug SCRIPT.jsonl)');
  if (more.length) throw new UsageError(`hotplug: unexpected argument '${more[0]}' (one script at a time)`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`hotplug: cannot read ${file}: ${(e as Error).message}`);
  }
  let machine: { config: ReturnType<typeof loadMachineConfig>; text: string } | undefined;
  const m = a.flags['machine'] as string | undefined;
  if (m !== undefined) {
    try {
      const args = m.trim().startsWith('-') ? ['--', ...splitArgs(m)] : [m];
      machine = { config: loadMachineConfig(args), text: m };
    } catch (e) {
      if (e instanceof ConfigError) throw UsageError.fromConfig(e, 'hotplug: --machine: ');
      throw e;
    }
  }
  const traceFile = a.flags['trace'] as string | undefined;
  const trace = traceFor(traceFile);
  try {
    const run = runHotplugScript(text, file, {
      ...(trace ? { trace } : {}),
      ...(machine ? { machine } : {}),
      ...(a.flags['seed'] !== undefined ? { seed: a.flags['seed'] as number } : {}),
    });
    const withLog = a.flags['log'] === true;
    io.stdout.write(a.flags['json'] ? formatJson(run, withLog) : formatTap(run, withLog));
    if (trace && traceFile !== undefined) writeTraceFile(traceFile, trace, (m) => io.stderr.write(`viommu: ${m}\n`));
    return run.failed > 0 ? 1 : 0;
  } catch (e) {
    if (e instanceof ScriptError) throw new UsageError(`hotplug: ${e.message}`);
    throw e;
  }
}
