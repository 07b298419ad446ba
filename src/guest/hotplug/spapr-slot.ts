import type { GuestDevice } from '../device.js';
import { EBUSY, EIO, ENODEV } from '../errno.js';
import type { FdtNode } from '../fw/fdt/fdt.js';
import type { GuestKernel } from '../kernel.js';
import { pciEnableAcs } from '../pci-core/acs.js';
import { assignBusBars } from '../pci-core/bus-bars.js';
import type { PciFunction } from '../pci-core/device.js';
import { scanSingle } from '../pci-core/enumerate.js';
import { pseriesDlparAdd, pseriesDlparRemove } from '../spapr/dlpar.js';
import { dlparConfigureConnector } from './spapr-cc.js';
import { pciStopAndRemoveFunction } from './remove-function.js';
import { DR_ENTITY_PRESENT, DR_INDICATOR, ISOLATE, ISOLATION_STATE, LED_OFF, LED_ON, UNISOLATE, type DrcRtas } from './spapr-drc.js';

/**
 * A PCI connector's state as the guest keeps it: empty, configured (a
 * device is in the guest), a removal the machine asked for and nobody
 * acknowledged yet, or a removal waiting for a VFIO user to let go.
 */
export type SpaprDrcState = 'empty' | 'configured' | 'removal-pending' | 'removal-blocked';

/** One PCI DRC of the PHB: a function's connector (QEMU gives every devfn its own). */
export class SpaprDrcSlot {
  state: SpaprDrcState;
  /** The device's node below the PHB while configured (from the boot tree or configure-connector). */
  node: FdtNode | undefined;
  /** The last failure of an add or a removal, for reports. */
  lastError: string | undefined;

  constructor(readonly index: number, readonly name: string, readonly busNumber: number, readonly devfn: number, state: SpaprDrcState) {
    this.state = state;
  }
  /** The function's address, as Linux names it ("0000:00:03.0"). */
  get bdf(): string {
    const h = (v: number, w: number): string => v.toString(16).padStart(w, '0');
    return `0000:${h(this.busNumber, 2)}:${h(this.devfn >> 3, 2)}.${this.devfn & 7}`;
  }
  get hexIndex(): string {
    return `0x${this.index.toString(16).padStart(8, '0')}`;
  }
}

/** What the slot operations need besides the kernel: the PHB node and its connectors' RTAS calls. */
export interface DlparContext {
  readonly k: GuestKernel;
  readonly phb: FdtNode;
  readonly rtas: DrcRtas;
}

function drmgr(ctx: DlparContext, text: string, err = false): void {
  if (err) ctx.k.log.err('drmgr', text);
  else ctx.k.log.info('drmgr', text);
}

/** The functions of the connector that the guest has (one: the connector's devfn). */
export function slotFunctions(k: GuestKernel, slot: SpaprDrcSlot): PciFunction[] {
  const bus = k.pci?.buses.find((b) => b.number === slot.busNumber);
  return bus ? bus.devices.filter((f) => f.devfn === slot.devfn) : [];
}

function detachNode(ctx: DlparContext, slot: SpaprDrcSlot): void {
  const n = slot.node;
  if (!n) return;
  const i = ctx.phb.children.indexOf(n);
  if (i >= 0) ctx.phb.children.splice(i, 1);
  slot.node = undefined;
}

/**
 * `drmgr -c pci -a -s INDEX` (powerpc-utils drslot_chrp_pci.c do_add /
 * add_work) and the kernel's rpadlpar_io dlpar_add_slot: the connector
 * must sense a device; it is unisolated; configure-connector gives the
 * device's node, attached below the PHB (of_attach_node); the function is
 * scanned through the RTAS config accessor, its BARs assigned from the
 * PHB's windows, and it is added (IOMMU group with the PE's table, driver
 * bind); the DR indicator goes on. Returns 0 or a negative errno; a
 * failure after unisolate isolates the connector again.
 */
export function dlparAddSlot(ctx: DlparContext, slot: SpaprDrcSlot): number {
  const { k, rtas } = ctx;
  const sense = rtas.entitySense(slot.index);
  if (sense.status !== 0 || sense.state !== DR_ENTITY_PRESENT) {
    slot.lastError = sense.status !== 0 ? `get-sensor-state(dr-entity-sense) failed: ${sense.status}` : 'the slot is empty';
    drmgr(ctx, `${slot.name}: ${slot.lastError}`, true);
    return -ENODEV;
  }
  const uni = rtas.setIndicator(ISOLATION_STATE, slot.index, UNISOLATE);
  if (uni !== 0) {
    slot.lastError = `set-indicator(isolation-state, unisolate) failed: ${uni}`;
    drmgr(ctx, `${slot.name}: ${slot.lastError}`, true);
    return -EIO;
  }
  const undo = (why: string, ret: number): number => {
    slot.lastError = why;
    drmgr(ctx, `${slot.name}: ${why}`, true);
    detachNode(ctx, slot);
    const iso = rtas.setIndicator(ISOLATION_STATE, slot.index, ISOLATE);
    if (iso !== 0) drmgr(ctx, `${slot.name}: isolating again after the failed add: ${iso}`, true);
    return ret;
  };
  const cc = dlparConfigureConnector(k, rtas, slot.index, ctx.phb);
  if (!cc.ok) return undo(cc.error, -EIO);
  // of_attach_node for each new top-level node (QEMU gives one per function).
  for (const n of cc.value) ctx.phb.children.push(n);
  slot.node = cc.value[0];
  if (slot.node) k.log.info('OF', `${slot.node.path}: attached (${[...slot.node.props.keys()].length} properties)`);
  const bus = k.pci?.buses.find((b) => b.number === slot.busNumber);
  if (!k.pci || !bus) return undo('no PCI bus for the slot', -ENODEV);
  if (bus.devices.some((f) => f.devfn === slot.devfn)) return undo(`${slot.bdf} is already in the guest`, -EBUSY);
  const fn = scanSingle(k.pci.access, bus, slot.devfn, k.log);
  if (!fn) return undo(`unable to add bus ${slot.name}: no function answers at ${slot.bdf}`, -EIO);
  for (const f of assignBusBars(bus, [fn], k.firmware.windows, k.log)) k.firmware.errors.push(f);
  k.pci.functions.push(fn);
  if (k.acsRequested) pciEnableAcs(fn);
  const { dev, bind } = pseriesDlparAdd(k, fn);
  if (bind !== 0 && dev.driver === undefined) k.log.info(`pci ${fn.name}`, `no driver bound (${bind})`);
  k.drivers.retryDeferred();
  const led = rtas.setIndicator(DR_INDICATOR, slot.index, LED_ON);
  if (led !== 0) drmgr(ctx, `${slot.name}: set-indicator(dr-indicator, active) failed: ${led}`, true);
  slot.state = 'configured';
  slot.lastError = undefined;
  k.log.info('rpadlpar_io', `slot ${slot.name} added`);
  return 0;
}

/**
 * The devices of the slot that a VFIO user still holds. Linux's
 * vfio_unregister_group_dev (reached from the driver's remove) blocks
 * until the user closes the device, asking it through the request
 * channel every 10 s; the guest's users register none, so vfio-pci logs
 * that it is blocked until the user releases the device.
 */
export function vfioHolders(k: GuestKernel, slot: SpaprDrcSlot): GuestDevice[] {
  return slotFunctions(k, slot).map((fn) => k.devices.find((d) => d.pci === fn)).filter((d): d is GuestDevice => d !== undefined && k.vfio.get(d) !== undefined);
}

/**
 * `drmgr -c pci -r -s INDEX` (do_remove) and rpadlpar_io
 * dlpar_remove_slot: every function of the slot is stopped and removed
 * (driver removal, the lazy flush queue of its DMA domain drained so its
 * unmaps reach the IOMMU before it goes, the device leaves its IOMMU group
 * and the kernel), the node is detached (of_detach_node), then the
 * connector is isolated (the machine lets the device go here) and the DR
 * indicator turned off. Callers check vfioHolders first. Returns 0, or
 * -EIO when isolate fails (the device is gone from the guest either way).
 */
export function dlparRemoveSlot(ctx: DlparContext, slot: SpaprDrcSlot): number {
  const { k, rtas } = ctx;
  for (const fn of slotFunctions(k, slot).reverse()) pciStopAndRemoveFunction(k, fn, (dev) => pseriesDlparRemove(k, dev));
  if (slot.node) k.log.info('OF', `${slot.node.path}: detached`);
  detachNode(ctx, slot);
  k.log.info('rpadlpar_io', `slot ${slot.name} removed`);
  slot.state = 'empty';
  const iso = rtas.setIndicator(ISOLATION_STATE, slot.index, ISOLATE);
  let ret = 0;
  if (iso !== 0) {
    slot.lastError = `isolate failed: RTAS status ${iso}`;
    k.log.err('rpaphp', `dlpar_remove_slot: failed to isolate ${slot.name} (${iso})`);
    ret = -EIO;
  } else slot.lastError = undefined;
  const led = rtas.setIndicator(DR_INDICATOR, slot.index, LED_OFF);
  if (led !== 0) drmgr(ctx, `${slot.name}: set-indicator(dr-indicator, inactive) failed: ${led}`, true);
  return ret;
}
