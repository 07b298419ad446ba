import { PCIBridgeDev } from '../../pci/pci-bridge-dev.js';
import type { PCIDeviceType } from '../device-registry.js';
import { PropError } from '../properties.js';

/**
 * `-device pci-bridge,chassis_nr=N` (QEMU pci_bridge_dev.c). viommu models
 * no SHPC controller: shpc defaults to off and shpc=on is refused, and msi
 * (which QEMU only offers with SHPC) has no effect.
 */
export const pciBridgeType: PCIDeviceType = {
  driver: 'pci-bridge',
  desc: 'Standard PCI Bridge',
  bus: 'pci',
  props: [
    { name: 'chassis_nr', type: { kind: 'uint', bits: 8 }, default: 0n },
    { name: 'shpc', type: { kind: 'bool' }, default: false, desc: 'on/off (viommu: off only)' },
    { name: 'msi', type: { kind: 'enum', values: ['on', 'off', 'auto'] }, default: 'auto', desc: 'on/off/auto' },
  ],
  unsupported: ['bus-reserve', 'io-reserve', 'mem-reserve', 'pref32-reserve', 'pref64-reserve'],
  create(p) {
    if (p.bool('shpc')) throw new PropError('SHPC hot-plug (shpc=on) is not implemented in viommu; use shpc=off');
    return new PCIBridgeDev(p.num('chassis_nr'));
  },
};
