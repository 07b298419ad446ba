import { ConfigError } from '../../base/config-error.js';
import { bootGuestKernel, type BootOptions } from '../../guest/boot.js';
import type { GuestDevice } from '../../guest/device.js';
import type { DmaDirection } from '../../guest/dma-ops.js';
import type { GuestKernel } from '../../guest/kernel.js';
import { DmaOracle } from '../../guest/oracle/oracle.js';
import type { GuestPort } from '../../guest/port.js';
import { reportFailed } from '../../guest/report/report.js';
import { MEMTX_OK } from '../../memory/attrs.js';
import { vhostNetOf } from '../../vhost/api.js';
import { installDmaTap } from '../dma-tap.js';
import { loadMachineConfig } from '../load-config.js';
import { Machine } from '../machine.js';
import type { Failure, FuzzInput, Op, RunOutcome } from './types.js';

/** Virtual time one op may take (a 'wait' op asks for at most this much). */
export const OP_VIRTUAL_NS = 200_000_000;
/** Virtual time the boot, the ops and the canary reboot may take together, beyond OP_VIRTUAL_NS per op. */
const RUN_VIRTUAL_NS = 60e9;
/** The canary after the reset, and the short workload of the setup boot. */
const CANARY_WORKLOAD = [{ name: 'edu-dma', params: { iterations: 2 } }] as const;
const SETUP_WORKLOAD = [{ name: 'edu-dma', params: { iterations: 1 } }] as const;

/** What a machine target's ops run against. */
export interface MachineContext {
  readonly machine: Machine;
  readonly port: GuestPort;
  /** The booted synthetic guest (its page allocator gives scratch buffers). */
  readonly kernel: GuestKernel;
  /** Records a feature (coverage feedback). */
  feature(f: string): void;
  /** Live DMA API mappings the ops made (guest 'map' ops). */
  readonly mappings: { dev: GuestDevice; paddr: number; iova: number; size: number; dir: DmaDirection }[];
}

export interface MachineTargetHooks<S> {
  /** Learns the layout the ops refer to (queue bases, table pages, BARs) after the guest booted. */
  setup(ctx: MachineContext): S;
  exec(ctx: MachineContext, state: S, op: Op): void;
  /** Boot options of the setup boot (default: edu-dma, one round trip). */
  readonly boot?: BootOptions;
  /**
   * Op kinds that keep the guest's view of its mappings true (DMA API use, device DMA, waits): an
   * input made only of these must also satisfy the DMA oracle while it runs, not only after reset.
   */
  readonly guestOps?: ReadonlySet<string>;
  /**
   * Runs before the first boot (firmware blobs the guest will parse); with it the first boot may
   * fail (the guest reports what it could not use) but must not throw.
   */
  readonly prepare?: (machine: Machine, ops: readonly Op[], feature: (f: string) => void) => void;
  /** The canary's workloads after the reset (default: edu-dma, two round trips). */
  readonly canary?: BootOptions['workloads'];
  /** Skip the reset + reboot canary (targets that never touch the machine). */
  readonly noCanary?: boolean;
}

/** Thrown by a target's op when one of its own oracles objects (resource caps, server health). */
export class OracleFailure extends Error {
  constructor(readonly failure: Failure) {
    super(failure.message);
  }
}

/** Log text as a feature: numbers blanked, so a new message (not a new address) counts. */
export function logFeature(source: string, text: string): string {
  return `log:${source.replace(/[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.\d/g, 'BDF')}:${text.replace(/0x[0-9a-f]+|\d+/gi, 'N').slice(0, 120)}`;
}

/**
 * Runs an input on a fresh machine (variant.args are QEMU options): boots
 * the synthetic guest (so the vIOMMU is programmed and its tables are in
 * RAM), runs the ops with the oracles armed, then resets the machine and
 * boots the guest again with the canary edu DMA workload and a fresh DMA
 * oracle: the canary must succeed and the oracle must see no violation.
 *
 * Oracles: an exception from any op (caught by the engine), RAM bounds
 * (every DMA that completes lands in a region of system memory, at an exact
 * address), the virtual-time bound, and the canary reboot.
 */
export function runMachineInput<S>(input: FuzzInput, hooks: MachineTargetHooks<S>): RunOutcome {
  let machine: Machine | undefined;
  try {
    return runOnFreshMachine(input, hooks, (m) => (machine = m));
  } finally {
    // Threads a machine started (vhost workers) end with the run.
    for (const d of machine?.pciDevices() ?? []) vhostNetOf(d)?.close();
  }
}

function runOnFreshMachine<S>(input: FuzzInput, hooks: MachineTargetHooks<S>, made: (m: Machine) => void): RunOutcome {
  const features = new Set<string>();
  let machine: Machine;
  try {
    machine = Machine.create(loadMachineConfig(['--', ...input.variant.args]));
    made(machine);
  } catch (e) {
    if (e instanceof ConfigError) throw new Error(`fuzz variant ${input.variant.name} does not build: ${e.message}`);
    throw e;
  }
  const port = machine.guestPort();
  const boot = (options: BootOptions) => {
    const oracle = new DmaOracle(() => port.now(), port.log);
    installDmaTap(machine, oracle);
    armRamBounds(machine);
    return bootGuestKernel(port, { ...options, oracle });
  };
  if (hooks.prepare) {
    hooks.prepare(machine, input.ops, (f) => void features.add(f));
    let booted: ReturnType<typeof boot>;
    try {
      booted = boot(hooks.boot ?? { workloads: SETUP_WORKLOAD });
    } catch (e) {
      if (e instanceof OracleFailure) return { features, failure: e.failure };
      throw e;
    }
    for (const err of booted.report.firmware.errors) features.add(logFeature('fw', err));
    for (const l of machine.log.lines) features.add(logFeature(l.source, l.text));
    return { features };
  }
  const first = boot(hooks.boot ?? { workloads: SETUP_WORKLOAD });
  if (reportFailed(first.report)) throw new Error(`fuzz variant ${input.variant.name}: the guest does not boot clean before any op`);
  const ctx: MachineContext = { machine, port, kernel: first.kernel, feature: (f) => void features.add(f), mappings: [] };
  const logStart = machine.log.lines.length;
  const t0 = machine.clock.now;
  const bound = t0 + RUN_VIRTUAL_NS + input.ops.length * OP_VIRTUAL_NS;
  try {
    const state = hooks.setup(ctx);
    input.ops.forEach((op, i) => {
      try {
        hooks.exec(ctx, state, op);
      } catch (e) {
        if (e instanceof OracleFailure) throw new OracleFailure({ ...e.failure, op: i });
        const err = e instanceof Error ? e : new Error(String(e));
        const at = err.stack?.split('\n').slice(1, 3).map((l) => l.trim()).join(' ') ?? '';
        throw new OracleFailure({ kind: 'exception', message: `op ${i} (${op.k}): ${err.name}: ${err.message} ${at}`, op: i });
      }
      if (machine.clock.now > bound) throw new OracleFailure({ kind: 'virtual-time', message: `virtual clock at ${machine.clock.now} ns after op ${i}`, op: i });
    });
    if (input.ops.every((op) => hooks.guestOps?.has(op.k)) && first.kernel.oracle.violations.length > 0) {
      throw new OracleFailure({ kind: 'dma-oracle', message: `guest-only ops: ${first.kernel.oracle.violations[0]!.message}` });
    }
    for (let i = logStart; i < machine.log.lines.length; i++) features.add(logFeature(machine.log.lines[i]!.source, machine.log.lines[i]!.text));
    if (!hooks.noCanary) {
      machine.reset();
      const again = boot({ workloads: hooks.canary ?? CANARY_WORKLOAD });
      const r = again.report;
      if (r.oracle.violations > 0) {
        throw new OracleFailure({ kind: 'dma-oracle', message: `after reset: ${r.oracle.violations} DMA oracle violation(s): ${again.kernel.oracle.violations[0]?.message ?? ''}` });
      }
      if (reportFailed(r)) {
        const w = r.workloads.find((x) => !x.ok);
        throw new OracleFailure({ kind: 'canary', message: `after reset the canary ${w?.name ?? ''} fails: ${w?.errors[0] ?? 'no workload result'}` });
      }
      if (machine.clock.now > bound) throw new OracleFailure({ kind: 'virtual-time', message: `virtual clock at ${machine.clock.now} ns after the canary` });
    }
  } catch (e) {
    if (e instanceof OracleFailure) return { features, failure: e.failure };
    throw e;
  }
  return { features };
}

/**
 * The RAM-bounds oracle: wraps every PCI function's DMA observer so that a
 * DMA that completes must land at an exact address inside a region of
 * system memory (not past 2^53, not in a hole).
 */
function armRamBounds(machine: Machine): void {
  for (const dev of machine.pciDevices()) {
    const as = dev.busMaster.as;
    const inner = as.observer;
    as.observer = (addr, len, isWrite, result, target, targetAddr) => {
      inner?.(addr, len, isWrite, result, target, targetAddr);
      if (result !== MEMTX_OK || !target) return;
      const ok = Number.isSafeInteger(targetAddr) && targetAddr >= 0 && target.view.lookup(targetAddr) !== undefined;
      if (!ok) {
        throw new OracleFailure({ kind: 'ram-bounds', message: `${dev.bdfString} ${dev.typeName}: a DMA of ${len} bytes at iova ${String(addr)} completed at ${targetAddr}, outside system memory` });
      }
    };
  }
}
