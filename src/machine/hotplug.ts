import { ConfigError } from '../base/config-error.js';
import { NS_PER_MS } from '../base/clock.js';
import type { PCIBus } from '../pci/bus.js';
import type { PCIDevice } from '../pci/device.js';
import { PCIeRootPort } from '../pci/root-port.js';
import type { DeviceSpec } from './config.js';
import type { AnyDevice } from './device-add.js';
import type { Machine } from './machine.js';
import { QmpError, genericError } from './qmp/errors.js';
import { isObject, type JsonObject } from './qmp/json.js';
import type { RawValue } from './properties.js';

/** pending_deleted_expires_ms: a request stays pending 5 s of virtual time (Linux pciehp's wait). */
const UNPLUG_PENDING_NS = 5000 * NS_PER_MS;

/** The root port whose slot holds `bus` (its secondary bus), if any: the bus's hot-plug handler. */
function slotPortOf(bus: PCIBus): PCIeRootPort | undefined {
  const p = bus.parentDev;
  return p instanceof PCIeRootPort ? p : undefined;
}

/**
 * QMP device_add and device_del with PCIe native hot-plug (QEMU
 * qdev_device_add, qdev_unplug, hw/pci/pcie.c). Hot-add goes only onto a
 * bus with a hot-plug handler (a root port's secondary bus); removal is a
 * request that completes when the guest powers the slot off, and then the
 * machine sends DEVICE_DELETED.
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
    const port = slotPortOf(bus);
    if (!port) throw genericError(`Bus '${bus.name}' does not support hotplugging`);
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
    const refused = port.slot.prePlugCheck();
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
    // device_set_realized resets a hot-plugged device, then the port signals it.
    this.m.mem.transaction(() => pci.reset());
    port.slot.hotPlugged(pci);
    this.m.log.info('pcieport', `${port.bdfString}: hot-add ${pci.typeName} at ${pci.bdfString}`);
  }

  /** qmp_device_del: by id or QOM path. */
  deviceDel(idOrPath: string): void {
    const dev = this.find(idOrPath);
    if (!dev) throw new QmpError('DeviceNotFound', `Device '${idOrPath}' not found`);
    if (!('bus' in dev) || !(dev as PCIDevice).cs) throw genericError("Bus 'main-system-bus' does not support hotplugging");
    const pci = dev as PCIDevice;
    const port = slotPortOf(pci.bus);
    if (!port) throw genericError(`Bus '${pci.bus.name}' does not support hotplugging`);
    const expires = this.pending.get(dev);
    if (expires !== undefined && expires > this.m.clock.now) {
      throw genericError(`Device ${dev.id ?? ''} is already in the process of unplug`);
    }
    this.pending.set(dev, this.m.clock.now + UNPLUG_PENDING_NS);
    const r = port.slot.unplugRequest(pci);
    if (r !== 'done' && r !== 'requested') {
      this.pending.delete(dev);
      throw genericError(r);
    }
    if (r === 'done') this.pending.delete(dev);
    this.m.log.info('pcieport', `${port.bdfString}: unplug request for ${pci.bdfString} (${r === 'done' ? 'slot off, removed' : 'attention button'})`);
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
