import { addCapability } from '../../../pci/capability.js';
import { PCIDevice, type PCIDeviceIdentity } from '../../../pci/device.js';
import { MsiCapability } from '../../../pci/msi.js';
import {
  PCI_BASE_ADDRESS_SPACE_IO, PCI_BASE_ADDRESS_SPACE_MEMORY, PCI_CAP_ID_SATA, PCI_CLASS_BRIDGE_ISA, PCI_CLASS_SERIAL_SMBUS,
  PCI_CLASS_STORAGE_SATA, PCI_INTERRUPT_PIN, PCI_SLOT, PCI_VENDOR_ID_INTEL,
} from '../../../pci/regs.js';

/** A BAR region that answers zero and ignores writes: these functions carry QEMU's identity, not its behaviour. */
function inertRegion(dev: PCIDevice, name: string, size: number) {
  return dev.ctx.mem.mmio(name, size, { read: () => 0, write: () => undefined });
}

// ICH9 LPC registers (Intel I/O Controller Hub 9 datasheet section 13.1; QEMU hw/isa/lpc_ich9.c).
const ICH9_LPC_PMBASE = 0x40;
/** ICH9_LPC_PMBASE_BASE_ADDRESS_MASK: bits [15:7]. */
const ICH9_LPC_PMBASE_BASE_ADDRESS_MASK = 0xff80;
const ICH9_LPC_PIRQA_ROUT = 0x60;
const ICH9_LPC_PIRQE_ROUT = 0x68;
const ICH9_LPC_PIRQ_ROUT_DEFAULT = 0x80;
/** D25IR..D31IR default: INTA..INTD to PIRQA..PIRQD (ICH9_CC_DIR_DEFAULT 0x3210). */
const ICH9_CC_DIR_DEFAULT = 0x3210;

/**
 * ICH9 LPC bridge, 00:1f.0 (8086:2918 rev 2, multifunction). viommu keeps
 * its identity, the PIRQ routing registers' reset values and QEMU's INTx
 * routing table (ich9_cc_init: slots 0-24 swizzle onto PIRQ E-H, slots 25-31
 * follow the D25IR..D31IR defaults, slot 30 goes to PIRQ E-H). The I/O APIC
 * sees PIRQ n on GSI 16 + n; the 8259 path is not modelled.
 */
export class Ich9Lpc extends PCIDevice {
  readonly typeName = 'ICH9-LPC';
  readonly identity: PCIDeviceIdentity = { vendorId: PCI_VENDOR_ID_INTEL, deviceId: 0x2918, revision: 2, classId: PCI_CLASS_BRIDGE_ISA };
  override multifunction = true;
  private readonly irr: number[][] = [];

  constructor() {
    super();
    for (let slot = 0; slot < 32; slot++) this.irr.push([0, 1, 2, 3].map((intx) => (slot + intx) % 4 + 4));
    for (let slot = 25; slot < 32; slot++) {
      this.irr[slot] = slot === 30 ? [4, 5, 6, 7] : [0, 1, 2, 3].map((intx) => (ICH9_CC_DIR_DEFAULT >> (intx * 4)) & 0x7);
    }
  }

  /**
   * ich9_lpc_realize: PMBASE bits [15:7] are writable, then QEMU 7.2 sets
   * the low byte's mask to ACPI_EN | SCI_IRQ_SEL (0x87, meant for ACPI_CTRL
   * at 0x44), so bits [2:0] of PMBASE are writable too; reproduced, as a
   * qtest probe of QEMU reads 0xff87 back after writing all-ones.
   */
  protected realizeDevice(): void {
    this.cs.wmask.set([0x87, 0xff, 0x00, 0x00], ICH9_LPC_PMBASE);
  }

  /** The PM I/O base the firmware programmed (ich9_lpc_pmbase_sci_update); 0 before it did. */
  get pmBase(): number {
    return this.cs.get32(ICH9_LPC_PMBASE) & ICH9_LPC_PMBASE_BASE_ADDRESS_MASK;
  }

  protected override deviceReset(): void {
    const cs = this.cs;
    for (let i = 0; i < 4; i++) {
      cs.set8(ICH9_LPC_PIRQA_ROUT + i, ICH9_LPC_PIRQ_ROUT_DEFAULT);
      cs.set8(ICH9_LPC_PIRQE_ROUT + i, ICH9_LPC_PIRQ_ROUT_DEFAULT);
    }
    cs.set32(ICH9_LPC_PMBASE, 0x1);
  }

  /** ich9_lpc_map_irq: PIRQ (0..7 = A..H) of a root-bus function's INTx pin. */
  mapIrq(dev: PCIDevice, pinIndex: number): number {
    return this.irr[PCI_SLOT(dev.devfn)]![pinIndex]!;
  }
}

/** ICH9 AHCI controller, 00:1f.2 (8086:2922 rev 2): identity, BAR4/BAR5, SATA and MSI capabilities only. */
export class Ich9Ahci extends PCIDevice {
  readonly typeName = 'ich9-ahci';
  override multifunction = true;
  readonly identity: PCIDeviceIdentity = { vendorId: PCI_VENDOR_ID_INTEL, deviceId: 0x2922, revision: 2, classId: PCI_CLASS_STORAGE_SATA, progIf: 0x01 };

  protected realizeDevice(): void {
    const cs = this.cs;
    cs.set8(PCI_INTERRUPT_PIN, 1);
    cs.set8(0x90, 1 << 6);
    const sata = addCapability(cs, PCI_CAP_ID_SATA, 0xa8, 8);
    cs.set16(sata + 2, 0x10);
    cs.set32(sata + 4, (4 + 4) | (2 << 4));
    MsiCapability.init(this, 0x80, 1, true, false);
    this.registerBar(4, PCI_BASE_ADDRESS_SPACE_IO, inertRegion(this, 'ahci-idp', 32));
    this.registerBar(5, PCI_BASE_ADDRESS_SPACE_MEMORY, inertRegion(this, 'ahci', 0x1000));
  }
}

/** ICH9 SMBus controller, 00:1f.3 (8086:2930 rev 2): identity and its 64-byte I/O BAR4 only. */
export class Ich9Smbus extends PCIDevice {
  readonly typeName = 'ICH9-SMB';
  override multifunction = true;
  readonly identity: PCIDeviceIdentity = { vendorId: PCI_VENDOR_ID_INTEL, deviceId: 0x2930, revision: 2, classId: PCI_CLASS_SERIAL_SMBUS };

  protected realizeDevice(): void {
    this.cs.set8(PCI_INTERRUPT_PIN, 1);
    this.registerBar(4, PCI_BASE_ADDRESS_SPACE_IO, inertRegion(this, 'pm-smbus', 64));
  }
}
