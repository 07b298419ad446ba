import { BAR_UNMAPPED, barIs64, barIsIo, barIsPrefetch } from '../../pci/bar.js';
import { PCIBridge } from '../../pci/bridge.js';
import type { PCIBus } from '../../pci/bus.js';
import type { PCIDevice } from '../../pci/device.js';
import {
  PCI_CLASS_DEVICE, PCI_INTERRUPT_LINE, PCI_INTERRUPT_PIN, PCI_PRIMARY_BUS, PCI_SECONDARY_BUS, PCI_SUBORDINATE_BUS,
  PCI_SUBSYSTEM_ID, PCI_SUBSYSTEM_VENDOR_ID, PCI_HEADER_TYPE, PCI_HEADER_TYPE_NORMAL,
} from '../../pci/regs.js';
import type { JsonObject, JsonValue } from '../qmp/json.js';
import { CLASS_DESC } from './info-pci.js';

const U64 = (1n << 64n) - 1n;

/** A bigint that is exact in JSON: a number when safe, else the bigint itself. */
function num(v: bigint): number | bigint {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** qmp_query_pci_regions: PciMemoryRegion per BAR. */
function regions(d: PCIDevice): JsonValue[] {
  const out: JsonValue[] = [];
  d.ioRegions.forEach((r, i) => {
    if (!r) return;
    const address = num(r.addr === BAR_UNMAPPED ? U64 : r.addr);
    if (barIsIo(r)) out.push({ bar: i, type: 'io', address, size: num(r.size) });
    else out.push({ bar: i, type: 'memory', address, size: num(r.size), prefetch: barIsPrefetch(r), mem_type_64: barIs64(r) });
  });
  return out;
}

/** qmp_query_pci_bridge: PciBridgeInfo. */
function bridgeInfo(d: PCIBridge): JsonObject {
  const cs = d.cs;
  const range = (w: 'io' | 'mem' | 'pref'): JsonObject => {
    const x = d.window(w);
    return { base: num(x.base), limit: num(x.limit) };
  };
  const info: JsonObject = {
    bus: {
      number: cs.get8(PCI_PRIMARY_BUS), secondary: cs.get8(PCI_SECONDARY_BUS), subordinate: cs.get8(PCI_SUBORDINATE_BUS),
      io_range: range('io'), memory_range: range('mem'), prefetchable_range: range('pref'),
    },
  };
  const sec = cs.get8(PCI_SECONDARY_BUS);
  if (sec !== 0) {
    const child = d.bus.findBus(sec);
    if (child) info['devices'] = devices(child);
  }
  return info;
}

/** qmp_query_pci_device: PciDeviceInfo (qapi/pci.json). */
function deviceInfo(d: PCIDevice): JsonObject {
  const cs = d.cs;
  const cls = cs.get16(PCI_CLASS_DEVICE);
  const classInfo: JsonObject = { class: cls };
  if (CLASS_DESC[cls] !== undefined) classInfo['desc'] = CLASS_DESC[cls]!;
  const id: JsonObject = { device: cs.get16(2), vendor: cs.get16(0) };
  if ((cs.get8(PCI_HEADER_TYPE) & 0x7f) === PCI_HEADER_TYPE_NORMAL) {
    id['subsystem'] = cs.get16(PCI_SUBSYSTEM_ID);
    id['subsystem-vendor'] = cs.get16(PCI_SUBSYSTEM_VENDOR_ID);
  }
  const pin = cs.get8(PCI_INTERRUPT_PIN);
  const info: JsonObject = {
    bus: d.bus.number, slot: d.devfn >> 3, function: d.devfn & 7, class_info: classInfo, id,
  };
  if (pin) info['irq'] = cs.get8(PCI_INTERRUPT_LINE);
  info['irq_pin'] = pin;
  info['qdev_id'] = d.id ?? '';
  if (d instanceof PCIBridge) info['pci_bridge'] = bridgeInfo(d);
  info['regions'] = regions(d);
  return info;
}

function devices(bus: PCIBus): JsonValue[] {
  return bus.devices.filter((d): d is PCIDevice => d !== undefined).map(deviceInfo);
}

/** query-pci: one PciInfo per root bus. */
export function queryPci(roots: readonly PCIBus[]): JsonValue {
  return roots.map((r) => ({ bus: r.number, devices: devices(r) }));
}
