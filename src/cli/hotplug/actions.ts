import { closest } from '../../base/suggest.js';
import type { Xorshift32 } from '../../base/prng.js';
import type { GuestDevice } from '../../guest/device.js';
import type { PciehpSlot } from '../../guest/hotplug/pciehp.js';
import type { SpaprDrcSlot } from '../../guest/hotplug/spapr-slot.js';
import type { GuestKernel } from '../../guest/kernel.js';
import type { Machine } from '../../machine/machine.js';
import type { PCIDevice } from '../../pci/device.js';

/** One parameter of a guest action, as a script writes it. */
export interface ActionParam {
  readonly type: 'string' | 'integer' | 'boolean';
  readonly required?: boolean;
  readonly choices?: readonly string[];
  readonly help: string;
}

/** A device named by a script: its QEMU id (or BDF) resolved on both sides. */
export interface DeviceRef {
  readonly ref: string;
  /** The machine's PCI function, when the device exists there. */
  readonly machine: PCIDevice | undefined;
  /** The guest's device at the same BDF, when the guest has one. */
  readonly guest: GuestDevice | undefined;
  /** "0000:01:00.0" as the guest names it. */
  readonly bdf: string | undefined;
}

/** A slot the guest's hot-plug driver runs: a PCIe slot (pciehp) or an sPAPR DRC (drmgr / rpadlpar_io). */
export type HotplugSlot = { readonly kind: 'pciehp'; readonly slot: PciehpSlot } | { readonly kind: 'spapr'; readonly slot: SpaprDrcSlot };

/** What an action can reach: the machine, the guest kernel, the run's PRNG and name resolution. */
export interface ActionContext {
  readonly machine: Machine;
  readonly kernel: GuestKernel;
  readonly rng: Xorshift32;
  /** A device by QEMU id ("e1") or guest BDF ("0000:01:00.0", "01:00.0"). */
  device(ref: string): DeviceRef;
  /**
   * A hot-plug slot: a PCIe port by QEMU id ("rp1") or BDF; on pseries a DRC
   * by name ("C24"), index ("0x40000018"), or its device's id or BDF. An
   * error text when there is none.
   */
  slot(ref: string): HotplugSlot | string;
}

/** An action's outcome: a failed one becomes a failing test point. */
export interface ActionResult {
  readonly ok: boolean;
  /** What happened, in a few words ("2 transfers, 8192 bytes, data checked"). */
  readonly detail: string;
  /** What was expected, for a failure ("a pending unplug request on Slot(0)"). */
  readonly expected?: string;
}

export type ActionArgs = Readonly<Record<string, string | number | boolean>>;

/** A guest action a script can run: {"guest": NAME, ...args}. */
export interface GuestAction {
  readonly name: string;
  readonly summary: string;
  readonly params: Readonly<Record<string, ActionParam>>;
  run(ctx: ActionContext, args: ActionArgs): ActionResult;
}

/**
 * The guest actions a run knows, by name. Built-in actions are in
 * guest-actions.ts; `traffic`, `bind-vfio` and `unbind-vfio` start as
 * placeholders that fail with "not available yet" until the work that
 * provides them registers a real action under the same name.
 */
export class GuestActions {
  private readonly byName = new Map<string, GuestAction>();

  constructor(actions: readonly GuestAction[] = []) {
    for (const a of actions) this.register(a);
  }

  /** Adds an action, replacing one of the same name (a provider replacing its placeholder). */
  register(a: GuestAction): void {
    this.byName.set(a.name, a);
  }
  get(name: string): GuestAction | undefined {
    return this.byName.get(name);
  }
  names(): string[] {
    return [...this.byName.keys()];
  }

  /** An error text for an unknown action, with a did-you-mean. */
  unknown(name: string): string {
    const near = closest(name, this.names());
    return `unknown guest action '${name}'${near ? `; did you mean '${near}'?` : ''} (known: ${this.names().join(', ')})`;
  }
}

/**
 * An extension point: the action's name and parameters are fixed (so
 * scripts are checked now), and running it fails clearly until its
 * provider registers the real action under the same name.
 */
export function pendingAction(name: string, summary: string, params: Readonly<Record<string, ActionParam>>, providedBy: string): GuestAction {
  return {
    name,
    summary: `${summary} (not available yet: ${providedBy})`,
    params,
    run: () => ({
      ok: false,
      detail: `guest action '${name}' is not available yet: no provider is registered (it comes with ${providedBy})`,
      expected: `a registered '${name}' provider`,
    }),
  };
}
