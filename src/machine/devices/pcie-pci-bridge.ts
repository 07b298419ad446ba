import { PCIePCIBridge } from '../../pci/pcie-pci-bridge.js';
import type { PCIDeviceType } from '../device-registry.js';

/** `-device pcie-pci-bridge` (QEMU pcie_pci_bridge.c, without its SHPC controller). */
export const pciePciBridgeType: PCIDeviceType = {
  driver: 'pcie-pci-bridge',
  desc: 'PCI Express to PCI bridge',
  bus: 'pci',
  props: [],
  unsupported: ['msi'],
  create: () => new PCIePCIBridge(),
};
