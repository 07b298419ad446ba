import { addCapability } from './capability.js';
import { ConfigSpace } from './config-space.js';
import type { PCIDevice } from './device.js';
import {
  PCI_EXP_DEVCAP, PCI_EXP_DEVCAP2, PCI_EXP_DEVCAP2_ARI, PCI_EXP_DEVCAP2_EETLPP, PCI_EXP_DEVCAP2_EFF,
  PCI_EXP_DEVCAP_RBER, PCI_EXP_DEVCTL, PCI_EXP_DEVCTL2, PCI_EXP_DEVCTL2_ARI, PCI_EXP_DEVCTL2_EETLPPB,
  PCI_EXP_DEVCTL_CERE, PCI_EXP_DEVCTL_FERE, PCI_EXP_DEVCTL_NFERE, PCI_EXP_DEVCTL_URRE, PCI_EXP_DEVSTA,
  PCI_EXP_DEVSTA_CED, PCI_EXP_DEVSTA_FED, PCI_EXP_DEVSTA_NFED, PCI_EXP_DEVSTA_URD, PCI_EXP_FLAGS, PCI_EXP_FLAGS_TYPE,
  PCI_EXP_FLAGS_TYPE_SHIFT, PCI_EXP_FLAGS_VER2, PCI_EXP_LNKCAP, PCI_EXP_LNKCAP2, PCI_EXP_LNKCAP2_SLS_16_0GB,
  PCI_EXP_LNKCAP2_SLS_2_5GB, PCI_EXP_LNKCAP2_SLS_5_0GB, PCI_EXP_LNKCAP2_SLS_8_0GB, PCI_EXP_LNKCAP_ASPMS_0S,
  PCI_EXP_LNKCAP_DLLLARC, PCI_EXP_LNKCAP_LBNC, PCI_EXP_LNKCAP_MLW, PCI_EXP_LNKCAP_PN_SHIFT, PCI_EXP_LNKCAP_SLS,
  PCI_EXP_LNKCTL2, PCI_EXP_LNKCTL2_TLS, PCI_EXP_LNKSTA, PCI_EXP_LNKSTA_CLS, PCI_EXP_LNKSTA_NLW, PCI_EXP_RTCTL,
  PCI_EXP_RTCTL_SECEE, PCI_EXP_RTCTL_SEFEE, PCI_EXP_RTCTL_SENFEE, PCI_EXP_VER2_SIZEOF,
} from './pcie-regs.js';
import { PCI_CAP_ID_EXP, PCI_CONFIG_SPACE_SIZE } from './regs.js';

/** Link speed (QEMU encoding 1 = 2.5 GT/s .. 4 = 16 GT/s) and width (lanes) of a port. */
export interface PCIeLink {
  readonly speed: number;
  readonly width: number;
}

/**
 * pcie_cap_init: a version 2 PCI Express Capability (PCIe 6.0 section
 * 7.5.3) of the given Device/Port Type. With `link`, the Link Capabilities
 * describe a port's configured speed and width as QEMU's PCIESlot does
 * (pcie_cap_fill_slot_lnk); without, x1 at 2.5 GT/s.
 */
export function pcieCapInit(dev: PCIDevice, offset: number, type: number, port: number, link?: PCIeLink): number {
  const cs = dev.cs;
  const pos = addCapability(cs, PCI_CAP_ID_EXP, offset, PCI_EXP_VER2_SIZEOF);
  dev.expCap = pos;
  // pcie_cap_v1_fill
  cs.set16(pos + PCI_EXP_FLAGS, ((type << PCI_EXP_FLAGS_TYPE_SHIFT) & PCI_EXP_FLAGS_TYPE) | PCI_EXP_FLAGS_VER2);
  cs.set32(pos + PCI_EXP_DEVCAP, PCI_EXP_DEVCAP_RBER);
  cs.set32(pos + PCI_EXP_LNKCAP, ((port << PCI_EXP_LNKCAP_PN_SHIFT) | PCI_EXP_LNKCAP_ASPMS_0S | (1 << 4) | 1) >>> 0);
  cs.set16(pos + PCI_EXP_LNKSTA, (1 << 4) | 1);
  ConfigSpace.set16(cs.cmask, pos + PCI_EXP_LNKSTA, 0);
  if (link) fillSlotLink(dev, link);
  cs.set32(pos + PCI_EXP_DEVCAP2, PCI_EXP_DEVCAP2_EFF | PCI_EXP_DEVCAP2_EETLPP);
  ConfigSpace.set16(cs.wmask, pos + PCI_EXP_DEVCTL2, PCI_EXP_DEVCTL2_EETLPPB);
  // x-pcie-extcap-init: the dword at 0x100 reads as a null extended capability header.
  if (cs.size > PCI_CONFIG_SPACE_SIZE) ConfigSpace.set32(cs.wmask, PCI_CONFIG_SPACE_SIZE, 0);
  return pos;
}

/** pcie_cap_fill_slot_lnk (QEMU 7.2): speed/width into LNKCAP, LNKSTA, LNKCAP2, LNKCTL2. */
function fillSlotLink(dev: PCIDevice, link: PCIeLink): void {
  const cs = dev.cs;
  const pos = dev.expCap;
  let lnkcap = cs.get32(pos + PCI_EXP_LNKCAP) & ~(PCI_EXP_LNKCAP_MLW | PCI_EXP_LNKCAP_SLS);
  lnkcap |= (link.width << 4) | link.speed;
  if (link.width > 1 || link.speed > 1) lnkcap |= PCI_EXP_LNKCAP_LBNC;
  if (link.speed > 1) lnkcap |= PCI_EXP_LNKCAP_DLLLARC;
  cs.set32(pos + PCI_EXP_LNKCAP, lnkcap >>> 0);
  cs.set16(pos + PCI_EXP_LNKSTA, (cs.get16(pos + PCI_EXP_LNKSTA) & ~(PCI_EXP_LNKSTA_CLS | PCI_EXP_LNKSTA_NLW))
    | (link.width << 4) | link.speed);
  if (link.speed > 1) {
    cs.set16(pos + PCI_EXP_LNKCTL2, (cs.get16(pos + PCI_EXP_LNKCTL2) & ~PCI_EXP_LNKCTL2_TLS) | (link.speed & PCI_EXP_LNKCTL2_TLS));
  }
  if (link.speed > 2) {
    let cap2 = PCI_EXP_LNKCAP2_SLS_2_5GB | PCI_EXP_LNKCAP2_SLS_5_0GB | PCI_EXP_LNKCAP2_SLS_8_0GB;
    if (link.speed > 3) cap2 |= PCI_EXP_LNKCAP2_SLS_16_0GB;
    cs.set32(pos + PCI_EXP_LNKCAP2, cap2);
  }
}

/** pcie_cap_deverr_init: error reporting enables writable, error status write-1-to-clear. */
export function pcieCapDeverrInit(dev: PCIDevice): void {
  const cs = dev.cs;
  const pos = dev.expCap;
  ConfigSpace.setBits32(cs.config, pos + PCI_EXP_DEVCAP, PCI_EXP_DEVCAP_RBER);
  ConfigSpace.setBits32(cs.wmask, pos + PCI_EXP_DEVCTL,
    PCI_EXP_DEVCTL_CERE | PCI_EXP_DEVCTL_NFERE | PCI_EXP_DEVCTL_FERE | PCI_EXP_DEVCTL_URRE);
  ConfigSpace.setBits32(cs.w1cmask, pos + PCI_EXP_DEVSTA,
    PCI_EXP_DEVSTA_CED | PCI_EXP_DEVSTA_NFED | PCI_EXP_DEVSTA_FED | PCI_EXP_DEVSTA_URD);
}

export function pcieCapDeverrReset(dev: PCIDevice): void {
  ConfigSpace.clearBits32(dev.cs.config, dev.expCap + PCI_EXP_DEVCTL,
    PCI_EXP_DEVCTL_CERE | PCI_EXP_DEVCTL_NFERE | PCI_EXP_DEVCTL_FERE | PCI_EXP_DEVCTL_URRE);
}

/** pcie_cap_arifwd_init: ARI Forwarding Supported, and its enable writable. */
export function pcieCapArifwdInit(dev: PCIDevice): void {
  ConfigSpace.setBits32(dev.cs.config, dev.expCap + PCI_EXP_DEVCAP2, PCI_EXP_DEVCAP2_ARI);
  ConfigSpace.setBits32(dev.cs.wmask, dev.expCap + PCI_EXP_DEVCTL2, PCI_EXP_DEVCTL2_ARI);
}

export function pcieCapArifwdReset(dev: PCIDevice): void {
  ConfigSpace.clearBits32(dev.cs.config, dev.expCap + PCI_EXP_DEVCTL2, PCI_EXP_DEVCTL2_ARI);
}

/** pcie_cap_root_init: Root Control's system-error enables are writable (PME is not emulated). */
export function pcieCapRootInit(dev: PCIDevice): void {
  ConfigSpace.set16(dev.cs.wmask, dev.expCap + PCI_EXP_RTCTL, PCI_EXP_RTCTL_SECEE | PCI_EXP_RTCTL_SENFEE | PCI_EXP_RTCTL_SEFEE);
}

export function pcieCapRootReset(dev: PCIDevice): void {
  dev.cs.set16(dev.expCap + PCI_EXP_RTCTL, 0);
}
