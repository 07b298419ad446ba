import { bootGuestKernel } from '../../../guest/boot.js';
import { loadMachineConfig } from '../../load-config.js';
import { Machine } from '../../machine.js';
import { runMachineInput, type MachineContext, type MachineTargetHooks } from '../harness.js';
import { machineLayout, type MachineLayout } from '../layout.js';
import type { FuzzRng } from '../rng.js';
import type { FuzzTarget, Op, Variant } from '../types.js';
import { execRegisterOp, GUEST_OP_KINDS, mutateRegisterOp, randomGuestOp, randomRegisterOp } from './common.js';

export interface MachineTargetSpec<S> {
  readonly name: string;
  readonly summary: string;
  readonly variants: readonly Variant[];
  readonly maxOps?: number;
  /** Layout-specific ops (descriptors, table entries, hypercalls); undefined: a shared register op. */
  randomOp(rng: FuzzRng, layout: MachineLayout, variant: Variant): Op | undefined;
  mutateOp?(rng: FuzzRng, op: Op): Op | undefined;
  setup(ctx: MachineContext): S;
  /** Runs a target op; false when it is a shared one. */
  exec(ctx: MachineContext, state: S, op: Op): boolean;
  /** Boot options of the setup boot and the canary's workloads (harness defaults otherwise). */
  readonly boot?: MachineTargetHooks<S>['boot'];
  readonly canary?: MachineTargetHooks<S>['canary'];
  /** Which MMIO regions the shared register ops prefer (e.g. the vIOMMU's own). */
  readonly preferRegion?: (name: string) => boolean;
}

/**
 * A FuzzTarget over a machine: inputs run through runMachineInput (fresh
 * machine, guest boot, ops, reset + canary reboot). The layout of each
 * variant (regions, PCI functions) is learnt once from a booted machine so
 * that generated ops name real registers.
 */
export function machineTarget<S>(spec: MachineTargetSpec<S>): FuzzTarget {
  const layouts = new Map<string, MachineLayout>();
  const layoutOf = (v: Variant): MachineLayout => {
    let l = layouts.get(v.name);
    if (!l) {
      const m = Machine.create(loadMachineConfig(['--', ...v.args]));
      bootGuestKernel(m.guestPort(), { workloads: [] });
      l = machineLayout(m);
      layouts.set(v.name, l);
    }
    return l;
  };
  const randomOp = (rng: FuzzRng, v: Variant): Op => {
    const l = layoutOf(v);
    if (rng.chance(0.15)) return randomGuestOp(rng);
    if (rng.chance(0.6)) {
      const op = spec.randomOp(rng, l, v);
      if (op) return op;
    }
    return randomRegisterOp(rng, l, spec.preferRegion && rng.chance(0.7) ? spec.preferRegion : undefined);
  };
  const hooks: MachineTargetHooks<S> = {
    guestOps: GUEST_OP_KINDS,
    ...(spec.boot ? { boot: spec.boot } : {}),
    ...(spec.canary ? { canary: spec.canary } : {}),
    setup: (ctx) => spec.setup(ctx),
    exec: (ctx, state, op) => {
      if (!spec.exec(ctx, state, op) && !execRegisterOp(ctx, op)) ctx.feature(`unknown-op:${op.k}`);
    },
  };
  return {
    name: spec.name,
    summary: spec.summary,
    variants: spec.variants,
    maxOps: spec.maxOps ?? 64,
    generate: (rng, v) => Array.from({ length: 4 + rng.below(16) }, () => randomOp(rng, v)),
    randomOp,
    mutateOp: (rng, op, v) => (rng.chance(0.15) ? randomOp(rng, v) : spec.mutateOp?.(rng, op) ?? mutateRegisterOp(rng, op) ?? randomOp(rng, v)),
    run: (input) => runMachineInput(input, hooks),
  };
}
