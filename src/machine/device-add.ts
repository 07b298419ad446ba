import { ConfigError } from '../base/config-error.js';
import { PCIError } from '../pci/bus.js';
import type { PCIDevice } from '../pci/device.js';
import type { DeviceSpec } from './config.js';
import type { SystemDevice } from './device-registry.js';
import type { Machine } from './machine.js';
import { ID_ERROR, idWellFormed, PropError } from './properties.js';

export type AnyDevice = PCIDevice | SystemDevice;

/** The ConfigError for a device spec, named as the user wrote it. */
function specError(spec: DeviceSpec, prop: string | undefined, message: string, hint?: string): ConfigError {
  const field = spec.json && prop ? `${spec.origin}.${prop}` : spec.origin;
  return new ConfigError(field, message, undefined, hint);
}

/** Which property a PropError from a device's props is about, for JSON configs. */
function propOf(message: string): string | undefined {
  return /(?:Parameter|Property) '(?:[^'.]*\.)?([^']+)'/.exec(message)?.[1];
}

/**
 * qdev_device_add: find the driver, check id and bus, parse properties,
 * create the device, place it (PCI: the bus and devfn rules), register it
 * with the machine. The machine resets the device when it resets.
 */
export function addDevice(m: Machine, spec: DeviceSpec): AnyDevice {
  let type;
  try {
    type = m.registry.lookup(spec.driver);
  } catch (e) {
    if (e instanceof PropError) throw specError(spec, 'driver', e.message, e.hint);
    throw e;
  }
  const { bus: busName, id, ...given } = spec.props;
  const rest = { ...m.globalsFor(spec.driver), ...given };
  if (id !== undefined) {
    const s = String(id);
    if (!idWellFormed(s)) throw specError(spec, 'id', ID_ERROR);
    if (m.devicesById.has(s)) throw specError(spec, 'id', `Duplicate ID '${s}' for device`);
  }
  let props;
  try {
    props = m.registry.resolve(type, rest);
  } catch (e) {
    if (e instanceof PropError) throw specError(spec, propOf(e.message), e.message, e.hint);
    throw e;
  }
  let dev: AnyDevice;
  if (type.bus === 'pci') {
    const bus = busName === undefined ? m.rootBus : m.findPciBus(String(busName));
    if (!bus) throw specError(spec, 'bus', `Bus '${String(busName)}' not found`);
    let pci: PCIDevice;
    try {
      const msi = m.board.describe().interrupts.msi;
      pci = type.create(props, {
        boardName: m.boardName, pcieHotplug: m.pcieHotplug, iommuInfo: m.iommuInfo, coldPlug: !m.created,
        ...(msi ? { msiWindow: { base: msi.base, size: msi.size } } : {}),
      });
    } catch (e) {
      if (e instanceof PropError || e instanceof PCIError) throw specError(spec, undefined, e.message);
      throw e;
    }
    pci.id = id === undefined ? undefined : String(id);
    pci.multifunction = props.bool('multifunction');
    const addr = props.has('addr') ? props.num('addr') : -1;
    try {
      bus.plug(pci, addr < 0 ? undefined : addr);
    } catch (e) {
      if (e instanceof PropError || e instanceof PCIError) throw specError(spec, 'addr', e.message);
      throw e;
    }
    dev = pci;
  } else {
    if (busName !== undefined) throw specError(spec, 'bus', `Bus '${String(busName)}' not found`);
    try {
      dev = type.create(props, m);
    } catch (e) {
      if (e instanceof PropError) throw specError(spec, undefined, e.message);
      throw e;
    }
    dev.id = id === undefined ? undefined : String(id);
    m.systemDevices.push(dev);
  }
  m.devices.push(dev);
  if (dev.id !== undefined) m.devicesById.set(dev.id, dev);
  return dev;
}
