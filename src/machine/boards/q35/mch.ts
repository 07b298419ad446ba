import { rangesOverlap } from '../../../pci/config-space.js';
import { PCIDevice, type PCIDeviceIdentity } from '../../../pci/device.js';
import { PCI_CLASS_BRIDGE_HOST, PCI_VENDOR_ID_INTEL } from '../../../pci/regs.js';

// MCH registers (QEMU include/hw/pci-host/q35.h; Intel 3 Series Express Chipset datasheet, section 5.1).
export const MCH_HOST_BRIDGE_PCIEXBAR = 0x60;
const PCIEXBAR_DEFAULT_LO = 0xb0000000;
const PCIEXBAR_EN = 0x1;
const PCIEXBAR_LENGTH_MASK = 0x6;
const MCH_HOST_BRIDGE_EXT_TSEG_MBYTES = 0x50;
const EXT_TSEG_MBYTES_QUERY = 0xffff;
const MCH_HOST_BRIDGE_F_SMBASE = 0x9c;
const F_SMBASE_IN_RAM = 0x01;
const F_SMBASE_LCK = 0x02;
const MCH_HOST_BRIDGE_SMRAM = 0x9d;
const SMRAM_DEFAULT = 0x02;
const SMRAM_WMASK = 0x78;
const SMRAM_D_LCK = 0x10;
const SMRAM_D_CLS = 0x20;
const SMRAM_D_OPEN = 0x40;
const MCH_HOST_BRIDGE_ESMRAMC = 0x9e;
const ESMRAMC_DEFAULT = 0x38;
const ESMRAMC_WMASK = 0x87;

/** The MMCONFIG window PCIEXBAR decodes: enabled, base, length. */
export interface Pciexbar {
  readonly enabled: boolean;
  readonly base: bigint;
  readonly length: number;
}

/**
 * The Q35 memory controller hub's host bridge function (QEMU "mch",
 * 8086:29c0 at 00.0, hw/pci-host/q35.c). It models PCIEXBAR (0x60, 64-bit:
 * enable bit 0, length [2:1] 256/128/64 MiB, base [35:26]): MMCONFIG exists
 * only once firmware sets the enable bit; at reset the register holds
 * 0xb0000000 with enable clear. Also the extended-TSEG size query (0x50) and
 * the SMRAM/ESMRAMC and F_SMBASE registers' reset values, masks and lock
 * protocol. PAM and SMRAM
 * memory remapping are not modelled (viommu runs no firmware).
 */
export class Mch extends PCIDevice {
  readonly typeName = 'mch';
  readonly identity: PCIDeviceIdentity = { vendorId: PCI_VENDOR_ID_INTEL, deviceId: 0x29c0, classId: PCI_CLASS_BRIDGE_HOST };

  constructor(private readonly onPciexbar: (bar: Pciexbar) => void, private readonly log: (text: string) => void,
    private readonly extTsegMbytes = 16) {
    super();
  }

  protected realizeDevice(): void {}

  protected override deviceReset(): void {
    const cs = this.cs;
    cs.set64(MCH_HOST_BRIDGE_PCIEXBAR, PCIEXBAR_DEFAULT_LO, 0);
    cs.set8(MCH_HOST_BRIDGE_SMRAM, SMRAM_DEFAULT);
    cs.set8(MCH_HOST_BRIDGE_ESMRAMC, ESMRAMC_DEFAULT);
    cs.wmask[MCH_HOST_BRIDGE_SMRAM] = SMRAM_WMASK;
    cs.wmask[MCH_HOST_BRIDGE_ESMRAMC] = ESMRAMC_WMASK;
    if (this.extTsegMbytes > 0) cs.set16(MCH_HOST_BRIDGE_EXT_TSEG_MBYTES, EXT_TSEG_MBYTES_QUERY);
    cs.set8(MCH_HOST_BRIDGE_F_SMBASE, 0);
    cs.wmask[MCH_HOST_BRIDGE_F_SMBASE] = 0xff;
    this.update();
  }

  override configWrite(addr: number, val: number, len: number): void {
    this.defaultWriteConfig(addr, val, len);
    if (rangesOverlap(addr, len, MCH_HOST_BRIDGE_PCIEXBAR, 8)) this.updatePciexbar();
    if (rangesOverlap(addr, len, MCH_HOST_BRIDGE_SMRAM, 2)) this.updateSmramLock();
    if (rangesOverlap(addr, len, MCH_HOST_BRIDGE_EXT_TSEG_MBYTES, 2)) this.updateExtTseg();
    if (rangesOverlap(addr, len, MCH_HOST_BRIDGE_F_SMBASE, 1)) this.updateSmbase();
  }

  /**
   * mch_update_smbase_smram's register protocol: writing 0xff (query)
   * answers 0x01 (SMRAM at SMBASE available) and arms the lock bit; a write
   * before that is discarded; writing the lock bit (0x02) locks it.
   */
  private updateSmbase(): void {
    const cs = this.cs;
    const reg = cs.get8(MCH_HOST_BRIDGE_F_SMBASE);
    if (reg === 0xff) {
      cs.wmask[MCH_HOST_BRIDGE_F_SMBASE] = F_SMBASE_LCK;
      cs.set8(MCH_HOST_BRIDGE_F_SMBASE, F_SMBASE_IN_RAM);
      return;
    }
    if (cs.wmask[MCH_HOST_BRIDGE_F_SMBASE] === 0xff) cs.set8(MCH_HOST_BRIDGE_F_SMBASE, 0);
    if (cs.get8(MCH_HOST_BRIDGE_F_SMBASE) & F_SMBASE_LCK) {
      cs.wmask[MCH_HOST_BRIDGE_F_SMBASE] = cs.wmask[MCH_HOST_BRIDGE_F_SMBASE]! & ~F_SMBASE_LCK;
      cs.set8(MCH_HOST_BRIDGE_F_SMBASE, F_SMBASE_LCK);
    }
  }

  private update(): void {
    this.updatePciexbar();
    this.updateSmramLock();
    this.updateExtTseg();
  }

  /** mch_update_ext_tseg_mbytes: writing the query value reads back the size. */
  private updateExtTseg(): void {
    if (this.extTsegMbytes > 0 && this.cs.get16(MCH_HOST_BRIDGE_EXT_TSEG_MBYTES) === EXT_TSEG_MBYTES_QUERY) {
      this.cs.set16(MCH_HOST_BRIDGE_EXT_TSEG_MBYTES, this.extTsegMbytes);
    }
  }

  /** mch_update_smram's lock: once D_LCK is set, the SMRAM controls stop being writable. */
  private updateSmramLock(): void {
    const cs = this.cs;
    if (cs.get8(MCH_HOST_BRIDGE_SMRAM) & SMRAM_D_LCK) {
      cs.set8(MCH_HOST_BRIDGE_SMRAM, cs.get8(MCH_HOST_BRIDGE_SMRAM) & ~SMRAM_D_OPEN);
      cs.wmask[MCH_HOST_BRIDGE_SMRAM] = SMRAM_D_CLS;
      cs.wmask[MCH_HOST_BRIDGE_ESMRAMC] = 0;
    }
  }

  /** mch_update_pciexbar. */
  private updatePciexbar(): void {
    const lo = this.cs.get32(MCH_HOST_BRIDGE_PCIEXBAR);
    const hi = this.cs.get32(MCH_HOST_BRIDGE_PCIEXBAR + 4);
    const enabled = (lo & PCIEXBAR_EN) !== 0;
    // Base address mask: bits 35:28, plus 27 for 128 MiB and 26 for 64 MiB windows.
    let mask = 0xf0000000;
    let length: number;
    switch (lo & PCIEXBAR_LENGTH_MASK) {
      case 0: length = 256 << 20; break;
      case 2: length = 128 << 20; mask |= 0x0c000000; break;
      case 4: length = 64 << 20; mask |= 0x04000000; break;
      default:
        this.log('mch_update_pciexbar: Reserved PCIEXBAR LENGTH');
        return;
    }
    const base = (BigInt(hi & 0xf) << 32n) | BigInt((lo & mask) >>> 0);
    this.onPciexbar({ enabled, base, length });
  }
}
