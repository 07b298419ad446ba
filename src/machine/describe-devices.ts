import type { PCIDevice } from '../pci/device.js';
import { PCI_DEVICE_ID, PCI_REVISION_ID, PCI_SECONDARY_BUS, PCI_SUBORDINATE_BUS, PCI_VENDOR_ID } from '../pci/regs.js';
import type { BoardDeviceDescription } from './boards/board.js';
import type { SystemDevice } from './device-registry.js';
import { isFirmwareIommuSource, type FirmwareIommu } from './firmware/description.js';

/**
 * A PCI function as firmware finds it: identity read from its config space
 * (vendor, device, class code at 0x09..0x0b, PCI 3.0 section 6.2.1) and, for
 * bridges, the bus numbers programmed now (type 1 header 0x19/0x1a).
 */
export function describePciDevice(d: PCIDevice): BoardDeviceDescription {
  const cs = d.cs;
  return {
    ...(d.id !== undefined ? { id: d.id } : {}),
    driver: d.typeName, bus: d.bus.name, rootBus: d.bus.root.name, bdf: d.bdfString, busNumber: d.bus.number, devfn: d.devfn,
    vendorId: cs.get16(PCI_VENDOR_ID), deviceId: cs.get16(PCI_DEVICE_ID), classCode: cs.get32(PCI_REVISION_ID) >>> 8,
    ...(d.isBridge ? { bridge: { secondary: cs.get8(PCI_SECONDARY_BUS), subordinate: cs.get8(PCI_SUBORDINATE_BUS) } } : {}),
  };
}

/** The vIOMMUs devices report (system devices first, then PCI functions), as plain data. */
export function deviceIommus(system: readonly SystemDevice[], pci: readonly PCIDevice[]): FirmwareIommu[] {
  const out: FirmwareIommu[] = [];
  for (const d of [...system, ...pci]) if (isFirmwareIommuSource(d)) out.push(d.firmwareIommu());
  return out;
}
