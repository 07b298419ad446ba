import { addCapability } from './capability.js';
import type { PCIDeviceIdentity } from './device.js';
import { PCIBridge } from './bridge.js';
import { aerInit } from './ext-caps.js';
import { pcieCapArifwdInit, pcieCapDeverrInit, pcieCapDeverrReset, pcieCapInit } from './pcie-cap.js';
import { PCI_ERR_SIZEOF, PCI_EXP_TYPE_PCI_BRIDGE } from './pcie-regs.js';
import { PCI_CAP_ID_PM, PCI_CLASS_BRIDGE_PCI, PCI_VENDOR_ID_REDHAT } from './regs.js';

/**
 * `pcie-pci-bridge` (QEMU hw/pci-bridge/pcie_pci_bridge.c; 1b36:000e): a
 * PCI Express to conventional PCI bridge (Device/Port Type 7). Functions
 * behind it reach the IOMMU as (secondary bus, 00.0), as the PCIe-to-PCI/
 * PCI-X Bridge spec 1.0 section 2.3 says. QEMU gives it an SHPC controller
 * with MSI and a 64-bit BAR0; viommu does not model SHPC, so those are
 * absent here.
 */
export class PCIePCIBridge extends PCIBridge {
  readonly typeName = 'pcie-pci-bridge';
  readonly identity: PCIDeviceIdentity = {
    vendorId: PCI_VENDOR_ID_REDHAT, deviceId: 0x000e, classId: PCI_CLASS_BRIDGE_PCI, bridge: true, express: true,
  };
  protected readonly secondaryExpress = false;

  protected initBridge(): void {
    pcieCapInit(this, 0, PCI_EXP_TYPE_PCI_BRIDGE, 0);
    const pm = addCapability(this.cs, PCI_CAP_ID_PM, 0, 8);
    this.cs.set16(pm + 2, 0x3);
    pcieCapArifwdInit(this);
    pcieCapDeverrInit(this);
    aerInit(this, 0x100, PCI_ERR_SIZEOF, false);
  }

  protected override deviceReset(): void {
    pcieCapDeverrReset(this);
    this.bridgeReset();
  }
}
