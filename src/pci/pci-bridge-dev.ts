import { addCapability } from './capability.js';
import type { PCIDeviceIdentity } from './device.js';
import { PCIBridge } from './bridge.js';
import { PCIError } from './bus.js';
import { PCI_CAP_ID_SLOTID, PCI_CLASS_BRIDGE_PCI, PCI_VENDOR_ID_REDHAT } from './regs.js';

/** Slot Identification capability (PCI-to-PCI Bridge 1.2 section 13.1): ESR at +2, chassis number at +3. */
const PCI_SID_ESR = 2;
const PCI_SID_ESR_FIC = 0x20;
const PCI_SID_CHASSIS_NR = 3;

/**
 * `pci-bridge` (QEMU hw/pci-bridge/pci_bridge_dev.c; 1b36:0001): a
 * conventional PCI-to-PCI bridge with a conventional secondary bus and a
 * Slot Identification capability carrying its chassis number. QEMU also
 * gives it an SHPC hot-plug controller (shpc=on, with MSI and a 64-bit
 * BAR0); viommu does not model SHPC, so its pci-bridge is QEMU's
 * `pci-bridge,shpc=off` (no BAR, no MSI, no interrupt pin).
 */
export class PCIBridgeDev extends PCIBridge {
  readonly typeName = 'pci-bridge';
  readonly identity: PCIDeviceIdentity = {
    vendorId: PCI_VENDOR_ID_REDHAT, deviceId: 0x0001, classId: PCI_CLASS_BRIDGE_PCI, bridge: true,
  };
  protected readonly secondaryExpress = false;

  constructor(readonly chassisNr: number) {
    super();
  }

  protected initBridge(): void {
    if (!this.chassisNr) {
      throw new PCIError('Bridge chassis not specified. Each bridge is required to be assigned a unique chassis id > 0.');
    }
    const cs = this.cs;
    const cap = addCapability(cs, PCI_CAP_ID_SLOTID, 0, 4);
    cs.config[cap + PCI_SID_ESR] = PCI_SID_ESR_FIC;
    cs.cmask[cap + PCI_SID_ESR] = 0xff;
    cs.config[cap + PCI_SID_CHASSIS_NR] = this.chassisNr;
    cs.wmask[cap + PCI_SID_CHASSIS_NR] = 0xff;
  }
}
