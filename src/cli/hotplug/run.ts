import { ConfigError } from '../../base/config-error.js';
import type { TraceSink } from '../../base/trace.js';
import { parseCmdline } from '../../machine/cmdline.js';
import type { MachineConfig } from '../../machine/config.js';
import { Machine } from '../../machine/machine.js';
import type { GuestAction } from './actions.js';
import { defaultGuestActions } from './providers.js';
import { ScriptRunner, type StepRecord } from './runner.js';
import { parseScript, ScriptError } from './script.js';
import { HotplugSession } from './session.js';

/** The machine a script runs on when neither --machine nor its header names one: q35 with two empty root ports. */
export const DEFAULT_HOTPLUG_MACHINE = '-M q35 -nodefaults -device pcie-root-port,id=rp1,chassis=1,addr=3 -device pcie-root-port,id=rp2,chassis=2,addr=4';

/** Options of {@link runHotplugScript}: the machine (instead of the header's), the seed, guest actions. */
export interface HotplugRunOptions {
  /** A machine that overrides the script's header (--machine), and how it was given. */
  readonly machine?: { readonly config: MachineConfig; readonly text: string };
  /** The run's seed (--seed); else the header's, else 1. */
  readonly seed?: number;
  /** More guest actions (providers registered programmatically). */
  readonly actions?: readonly GuestAction[];
  /** Records the run on the machine's virtual time (--trace): boot, DMA, invalidations, notifiers, every step. */
  readonly trace?: TraceSink;
}

/** The outcome of a hotplug script: one record per step, test points passed and failed. */
export interface HotplugRun {
  readonly script: string;
  readonly machine: string;
  readonly seed: number;
  readonly records: readonly StepRecord[];
  readonly tests: number;
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  /** The machine's and the guest's log, dmesg style. */
  readonly log: readonly string[];
}

/**
 * Parses and runs a hotplug script: builds the machine (options, header or
 * the default), boots the synthetic guest with the DMA oracle, negotiates
 * QMP, and runs every step. Throws ScriptError for a bad script (or a
 * machine its header describes badly); a failing step is a record.
 */
export function runHotplugScript(text: string, file: string, opts: HotplugRunOptions = {}): HotplugRun {
  const actions = defaultGuestActions(opts.actions ?? []);
  const script = parseScript(text, file, actions);
  const header = script.header;
  const seed = opts.seed ?? header?.seed ?? 1;
  const machine = opts.machine
    ?? (header?.machine ? { config: header.machine, text: header.machineText ?? '' } : { config: parseCmdline(DEFAULT_HOTPLUG_MACHINE.split(' ')).config, text: DEFAULT_HOTPLUG_MACHINE });
  let m: Machine;
  try {
    m = Machine.create({ ...machine.config, seed });
    if (opts.trace) m.mem.tracer.attach(opts.trace, () => m.clock.now);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    if (opts.machine) throw new ScriptError('--machine', 0, '', e.messageWithHint);
    throw new ScriptError(file, header?.line ?? 0, 'machine', e.messageWithHint);
  }
  let session: HotplugSession;
  try {
    session = new HotplugSession(m, header?.boot ?? {}, seed);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    throw new ScriptError(file, header?.line ?? 0, 'boot', e.messageWithHint);
  }
  const records = new ScriptRunner(session, actions).run(script.steps);
  const tests = records.filter((r) => r.test);
  return {
    script: file, machine: machine.text, seed, records,
    tests: tests.length,
    passed: tests.filter((r) => r.outcome === 'pass').length,
    failed: tests.filter((r) => r.outcome === 'fail').length,
    skipped: records.filter((r) => r.outcome === 'skipped').length,
    log: session.logLines(),
  };
}
