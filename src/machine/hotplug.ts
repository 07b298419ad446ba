import { ConfigError } from '../base/config-error.js';
import { NS_PER_MS } from '../base/clock.js';
import type { PCIBus } from '../pci/bus.js';
import type { PCIDevice } from '../pci/device.js';
import { PCIeRootPort } from '../pci/root-port.js';
import type { DeviceSpec } from './config.js';
import type { AnyDevice } from './device-add.js';
import type { Machine } from './machine.js';
import type { PciHotplugHandler } from './boards/board.js';
import { QmpError, genericError } from './qmp/errors.js';
import { isObject, type JsonObject } from './qmp/json.js';
import { parsePciDevfn, type RawValue } from './properties.js';

/** pending_deleted_expires_ms: a request stays pending 5 s of virtual time (Linux pciehp's wait). */
const UNPLUG_PENDING_NS = 5000 * NS_PER_MS;

/** The PCIe slot of the root port whose secondary bus is `bus`, as a hot-plug handler (hw/pci/pcie.c). */
function pcieSlotHandler(port: PCIeRootPort): PciHotplugHandler {
  return {
    tag: 'pcieport',
    where: port.bdfString,
    pendingDeletedEvent: true,
    prePlug: () => port.slot.prePlugCheck(),
    plugged: (dev) => {
      port.slot.hotPlugged(dev);
      return undefined;
    },
    unplugRequest: (dev) => port.slot.unplugRequest(dev),
  };
}

/** `addr` as the PCI address property reads it (a devfn number, or "S[.F]"); undefined when absent or malformed (realize reports it). */
function devfnOf(addr: RawValue | undefined): number | undefined {
  if (typeof addr === 'number') return Number.isInteger(addr) && addr >= 0 && addr < 256 ? addr : undefined;
  return typeof addr === 'string' ? parsePciDevfn(addr) : undefined;
}

/**
 * QMP device_add and device_del (QEMU qdev_device_add, qdev_unplug) on
 * buses with a hot-plug handler: a PCIe root port's secondary bus (native
 * hot-plug, hw/pci/pcie.c) or the pseries PHB's root bus (DRCs,
 * hw/ppc/spapr_pci.c). Removal is a request that completes when the guest
 * powers the slot off or isolates the DRC; then DEVICE_DELETED.
 */
export class HotplugController {
  private readonly pending = new Map<AnyDevice, number>();

  constructor(private readonly m: Machine) {}

  /** qmp_device_add. */
  deviceAdd(args: JsonObject): void {
    const driver = args['driver'];
    if (typeof driver !== 'string') throw genericError("Parameter 'driver' is missing");
    const type = this.m.registry.get(driver);
    if (!type) throw genericError(`'${driver}' is not a valid device model name`);
    const busName = args['bus'];
    let bus: PCIBus | undefined;
    if (type.bus === 'pci') {
      bus = busName === undefined ? this.m.rootBus : this.m.findPciBus(String(busName));
      if (!bus) throw genericError(`Bus '${String(busName)}' not found`);
    } else {
      throw genericError(busName === undefined ? `Device '${driver}' can not be hotplugged on this machine` : `Bus '${String(busName)}' not found`);
    }
    const handler = this.handlerOf(bus);
    if (!handler) throw genericError(`Bus '${bus.name}' does not support hotplugging`);
    const id = args['id'];
    if (id !== undefined && this.m.devicesById.has(String(id))) throw genericError(`Duplicate device ID '${String(id)}'`);
    const props: Record<string, RawValue> = {};
    for (const [k, v] of Object.entries(args)) {
      if (k === 'driver') continue;
      if (isObject(v) || Array.isArray(v) || v === null || typeof v === 'bigint') {
        if (typeof v === 'bigint') props[k] = v.toString();
        else throw genericError(`Invalid parameter type for '${k}', expected: string`);
      } else props[k] = v;
    }
    const refused = handler.prePlug(devfnOf(props['addr']));
    const spec: DeviceSpec = { driver, props, origin: 'device_add', json: false };
    if (refused) {
      // Property mistakes are reported before the slot's refusal, as realize runs after them.
      this.m.registry.resolve(type, Object.fromEntries(Object.entries(props).filter(([k]) => k !== 'bus' && k !== 'id')));
      throw genericError(refused);
    }
    let dev: AnyDevice;
    try {
      dev = this.m.addDevice(spec);
    } catch (e) {
      if (e instanceof ConfigError) throw genericError(e.problem);
      if (e instanceof Error && e.name === 'PropError') throw genericError(e.message);
      throw e;
    }
    const pci = dev as PCIDevice;
    // device_set_realized resets a hot-plugged device, then the handler signals it.
    this.m.mem.transaction(() => pci.reset());
    const undo = handler.plugged(pci);
    if (undo) {
      // The add fails as a whole: the function never was, so no DEVICE_DELETED.
      this.m.qomPaths.delete(pci);
      pci.bus.unplug(pci);
      throw genericError(undo);
    }
    this.m.log.info(handler.tag, `${handler.where}: hot-add ${pci.typeName} at ${pci.bdfString}`);
  }

  /** The bus's hot-plug handler: a root port's slot, or one the board owns. */
  private handlerOf(bus: PCIBus): PciHotplugHandler | undefined {
    const p = bus.parentDev;
    if (p instanceof PCIeRootPort) return pcieSlotHandler(p);
    return this.m.board.pciHotplugHandler?.(bus);
  }

  /** qmp_device_del: by id or QOM path. */
  deviceDel(idOrPath: string): void {
    const dev = this.find(idOrPath);
    if (!dev) throw new QmpError('DeviceNotFound', `Device '${idOrPath}' not found`);
    if (!('bus' in dev) || !(dev as PCIDevice).cs) throw genericError("Bus 'main-system-bus' does not support hotplugging");
    const pci = dev as PCIDevice;
    const handler = this.handlerOf(pci.bus);
    if (!handler) throw genericError(`Bus '${pci.bus.name}' does not support hotplugging`);
    const expires = this.pending.get(dev);
    if (handler.pendingDeletedEvent && expires !== undefined && expires > this.m.clock.now) {
      throw genericError(`Device ${dev.id ?? ''} is already in the process of unplug`);
    }
    const r = handler.unplugRequest(pci);
    if (r !== 'done' && r !== 'requested') throw genericError(r);
    if (r === 'requested') this.pending.set(dev, this.m.clock.now + UNPLUG_PENDING_NS);
    else this.pending.delete(dev);
    const how = handler.tag === 'pcieport' ? (r === 'done' ? 'slot off, removed' : 'attention button') : (r === 'done' ? 'not configured by the guest, removed' : 'remove event');
    this.m.log.info(handler.tag, `${handler.where}: unplug request for ${pci.bdfString} (${how})`);
  }

  /** Whether a removal request is outstanding for the device. */
  isPending(dev: AnyDevice): boolean {
    return this.pending.has(dev) && this.m.devices.includes(dev);
  }

  private find(idOrPath: string): AnyDevice | undefined {
    const byId = this.m.devicesById.get(idOrPath);
    if (byId) return byId;
    for (const [d, p] of this.m.qomPaths) if (p === idOrPath) return d;
    return undefined;
  }
}
