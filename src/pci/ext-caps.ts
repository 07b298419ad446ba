import { addExtCapability } from './capability.js';
import { ConfigSpace, rangesOverlap } from './config-space.js';
import type { PCIDevice } from './device.js';
import {
  PCI_ACS_CAP, PCI_ACS_CR, PCI_ACS_CTRL, PCI_ACS_DT, PCI_ACS_RR, PCI_ACS_SIZEOF, PCI_ACS_SV, PCI_ACS_TB, PCI_ACS_UF,
  PCI_ATS_CAP, PCI_ATS_CTRL, PCI_ATS_CTRL_ENABLE, PCI_ATS_CTRL_STU, PCI_ERR_CAP, PCI_ERR_COR_MASK, PCI_ERR_COR_STATUS,
  PCI_ERR_ROOT_COMMAND, PCI_ERR_ROOT_STATUS, PCI_ERR_UNCOR_SEVER, PCI_ERR_UNCOR_STATUS, PCI_EXT_CAP_ATS_SIZEOF,
  PCI_EXT_CAP_PASID_SIZEOF, PCI_PASID_CAP, PCI_PASID_CAP_EXEC, PCI_PASID_CAP_PRIV, PCI_PASID_CTRL,
  PCI_PASID_CTRL_ENABLE, PCI_PASID_CTRL_EXEC, PCI_PASID_CTRL_PRIV,
} from './pcie-regs.js';
import { PCI_EXT_CAP_ID_ACS, PCI_EXT_CAP_ID_ATS, PCI_EXT_CAP_ID_ERR, PCI_EXT_CAP_ID_PASID } from './regs.js';

/**
 * Address Translation Services capability (PCIe 6.0 section 10.5.1; QEMU
 * pcie_ats_init). Control at +6: Smallest Translation Unit [4:0] and Enable
 * bit 15, writable as QEMU makes them (mask 0x800f). The device learns of
 * Enable changes through `onChange` (vhost re-registers its notifiers as
 * DEVIOTLB_UNMAP or UNMAP then).
 */
export class AtsCapability {
  private last = false;
  onChange: ((enabled: boolean) => void) | undefined;

  private constructor(private readonly dev: PCIDevice, readonly offset: number) {}

  static init(dev: PCIDevice, offset: number, pageAligned = false): AtsCapability {
    addExtCapability(dev.cs, PCI_EXT_CAP_ID_ATS, 1, offset, PCI_EXT_CAP_ATS_SIZEOF);
    const cs = dev.cs;
    cs.set16(offset + PCI_ATS_CAP, pageAligned ? 0x20 : 0);
    cs.set16(offset + PCI_ATS_CTRL, 0);
    ConfigSpace.set16(cs.wmask, offset + PCI_ATS_CTRL, 0x800f);
    const ats = new AtsCapability(dev, offset);
    dev.addConfigWriteHook((a, _v, l) => {
      if (rangesOverlap(a, l, offset + PCI_ATS_CTRL, 2)) ats.check();
    });
    dev.addResetHook(() => {
      cs.set16(offset + PCI_ATS_CTRL, 0);
      ats.check();
    });
    return ats;
  }

  get enabled(): boolean {
    return (this.dev.cs.get16(this.offset + PCI_ATS_CTRL) & PCI_ATS_CTRL_ENABLE) !== 0;
  }

  /** Smallest Translation Unit: 2^(STU) pages of 4 KiB. */
  get stu(): number {
    return this.dev.cs.get16(this.offset + PCI_ATS_CTRL) & PCI_ATS_CTRL_STU;
  }

  private check(): void {
    const now = this.enabled;
    if (now === this.last) return;
    this.last = now;
    this.onChange?.(now);
  }
}

/**
 * PASID capability (PCIe 6.0 section 7.8.8): Max PASID Width [12:8] and the
 * Execute / Privileged Mode support bits at +4; Control at +6 (Enable bit 0
 * and the supported permission enables are writable; QEMU makes all three
 * writable, the spec keeps unsupported ones reserved, which we follow).
 */
export class PasidCapability {
  private constructor(private readonly dev: PCIDevice, readonly offset: number) {}

  static init(dev: PCIDevice, offset: number, width: number, exec = false, priv = false): PasidCapability {
    if (width < 1 || width > 20) throw new Error(`PASID width ${width} is outside 1..20`);
    addExtCapability(dev.cs, PCI_EXT_CAP_ID_PASID, 1, offset, PCI_EXT_CAP_PASID_SIZEOF);
    const cs = dev.cs;
    cs.set16(offset + PCI_PASID_CAP, (width << 8) | (exec ? PCI_PASID_CAP_EXEC : 0) | (priv ? PCI_PASID_CAP_PRIV : 0));
    cs.set16(offset + PCI_PASID_CTRL, 0);
    ConfigSpace.set16(cs.wmask, offset + PCI_PASID_CTRL,
      PCI_PASID_CTRL_ENABLE | (exec ? PCI_PASID_CTRL_EXEC : 0) | (priv ? PCI_PASID_CTRL_PRIV : 0));
    dev.addResetHook(() => cs.set16(offset + PCI_PASID_CTRL, 0));
    return new PasidCapability(dev, offset);
  }

  get enabled(): boolean {
    return (this.dev.cs.get16(this.offset + PCI_PASID_CTRL) & PCI_PASID_CTRL_ENABLE) !== 0;
  }
  get width(): number {
    return (this.dev.cs.get16(this.offset + PCI_PASID_CAP) >> 8) & 0x1f;
  }
}

/**
 * Access Control Services (PCIe 6.0 section 7.7.8; QEMU pcie_acs_init):
 * downstream ports advertise and allow enabling SV, TB, RR, CR, UF and DT;
 * an endpoint's ACS advertises nothing.
 */
export function acsInit(dev: PCIDevice, offset: number, downstream: boolean): void {
  addExtCapability(dev.cs, PCI_EXT_CAP_ID_ACS, 1, offset, PCI_ACS_SIZEOF);
  const bits = downstream ? PCI_ACS_SV | PCI_ACS_TB | PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_UF | PCI_ACS_DT : 0;
  dev.cs.set16(offset + PCI_ACS_CAP, bits);
  ConfigSpace.set16(dev.cs.wmask, offset + PCI_ACS_CTRL, bits);
  dev.addResetHook(() => dev.cs.set16(offset + PCI_ACS_CTRL, 0));
}

// AER register values QEMU 7.2 uses (hw/pci/pcie_regs.h).
const PCI_ERR_UNC_SUPPORTED = 0x03fff030;
const PCI_ERR_UNC_SEVERITY_DEFAULT = 0x00462030;
const PCI_ERR_COR_SUPPORTED = 0x0000f1c1;
const PCI_ERR_COR_MASK_DEFAULT = 0x0000e000;
const PCI_ERR_CAP_ECRC_GENC = 0x20;
const PCI_ERR_CAP_ECRC_GENE = 0x40;
const PCI_ERR_CAP_ECRC_CHKC = 0x80;
const PCI_ERR_CAP_ECRC_CHKE = 0x100;
const PCI_ERR_CAP_MHRC = 0x200;
const PCI_ERR_CAP_MHRE = 0x400;

/**
 * Advanced Error Reporting (PCIe 6.0 section 7.8.4; QEMU pcie_aer_init and,
 * for root ports, pcie_aer_root_init) as a register structure: status bits
 * write-1-to-clear, masks and severities writable. viommu injects no errors.
 */
export function aerInit(dev: PCIDevice, offset: number, size: number, root: boolean): void {
  addExtCapability(dev.cs, PCI_EXT_CAP_ID_ERR, 2, offset, size);
  const cs = dev.cs;
  ConfigSpace.set32(cs.w1cmask, offset + PCI_ERR_UNCOR_STATUS, PCI_ERR_UNC_SUPPORTED);
  cs.set32(offset + PCI_ERR_UNCOR_SEVER, PCI_ERR_UNC_SEVERITY_DEFAULT);
  ConfigSpace.set32(cs.wmask, offset + PCI_ERR_UNCOR_SEVER, PCI_ERR_UNC_SUPPORTED);
  ConfigSpace.setBits32(cs.w1cmask, offset + PCI_ERR_COR_STATUS, PCI_ERR_COR_SUPPORTED);
  cs.set32(offset + PCI_ERR_COR_MASK, PCI_ERR_COR_MASK_DEFAULT);
  ConfigSpace.set32(cs.wmask, offset + PCI_ERR_COR_MASK, PCI_ERR_COR_SUPPORTED);
  cs.set32(offset + PCI_ERR_CAP, PCI_ERR_CAP_ECRC_GENC | PCI_ERR_CAP_ECRC_CHKC | PCI_ERR_CAP_MHRC);
  ConfigSpace.set32(cs.wmask, offset + PCI_ERR_CAP, PCI_ERR_CAP_ECRC_GENE | PCI_ERR_CAP_ECRC_CHKE | PCI_ERR_CAP_MHRE);
  if (root) {
    ConfigSpace.set32(cs.wmask, offset + PCI_ERR_ROOT_COMMAND, 0x7);
    ConfigSpace.set32(cs.w1cmask, offset + PCI_ERR_ROOT_STATUS, 0x7f);
    dev.addResetHook(() => cs.set32(offset + PCI_ERR_ROOT_COMMAND, 0));
  }
}
