import type { GuestDevice } from '../../guest/device.js';
import type { PCIDevice } from '../../pci/device.js';
import type { ActionContext } from '../hotplug/actions.js';
import type { ViommuSpec } from './axes.js';
import type { MatrixMode, MatrixScenarioId } from './types.js';

/** The cell a consumer is asked about. */
export interface ConsumerCell {
  readonly viommu: ViommuSpec;
  readonly ats: boolean;
  readonly scenario: MatrixScenarioId;
  readonly mode: MatrixMode;
}

/** The consumer device of a scenario step: the guest's device and the machine's function. */
export interface ConsumerDevice {
  readonly guest: GuestDevice;
  readonly machine: PCIDevice | undefined;
}

/** What a piece of a scenario did. `refused` is a configuration or guest refusal (not a failure of the DMA path). */
export interface TrafficResult {
  readonly ops: number;
  readonly bytes: number;
  /** Transfers whose data came back different, or that the guest expected to work and did not. */
  readonly wrongData: number;
  /** The device never finished an operation within its time-out. */
  readonly hang: boolean;
  readonly errors: readonly string[];
  readonly refused?: string;
  readonly notes?: readonly string[];
}

/** How a consumer device follows its vIOMMU: the notifier flags it registered and the events it got. */
export interface NotifierUse {
  /** "MAP|UNMAP", "UNMAP", "DEVIOTLB_UNMAP", or "none (...)" for a consumer that translates per access. */
  readonly flags: string;
  readonly map: number;
  readonly unmap: number;
  readonly devIotlb: number;
}

/**
 * A DMA consumer as a plug-in of `viommu matrix`: how to create the
 * device for a cell, and what it does in each scenario. The matrix builds
 * the machine (vIOMMU, slots), boots the guest with the DMA oracle, plugs
 * and unplugs the device, and judges the cell; the consumer only moves
 * data and reports. Add one by appending to CONSUMERS (consumers.ts) or
 * passing `consumers` to runMatrix.
 */
export interface MatrixConsumer {
  readonly id: string;
  readonly summary: string;
  /** Whether the consumer has cells in a mode (default: every mode but the vhost fallback switch). */
  appliesTo?(mode: MatrixMode): boolean;
  /** The -device driver and properties (QEMU names) for a cell, without id and bus. */
  device(cell: ConsumerCell): { readonly driver: string; readonly props: Readonly<Record<string, string>> };
  /** A fixed working set, `ops` operations through it. */
  steady(a: ActionContext, dev: ConsumerDevice, ops: number, cell: ConsumerCell): TrafficResult;
  /** Map, use, unmap per operation, with a stray access after each unmap where the device can make one. */
  churn(a: ActionContext, dev: ConsumerDevice, ops: number, cell: ConsumerCell): TrafficResult;
  /** Hand the device to a guest VFIO user and back, then use it with the host driver again. */
  bindUnbind(a: ActionContext, dev: ConsumerDevice, cell: ConsumerCell): TrafficResult;
  /** The machine device's notifier use, for the cell's report. */
  notifierUse(m: PCIDevice, cell: ConsumerCell): NotifierUse | undefined;
}

/** The default: every mode except the vhost-only fallback switch. */
export function consumerApplies(c: MatrixConsumer, mode: MatrixMode): boolean {
  return c.appliesTo ? c.appliesTo(mode) : mode !== 'x-vhost-iotlb-fallback=off';
}
