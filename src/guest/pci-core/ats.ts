import type { PciFunction } from './device.js';
import {
  PCI_ATS_CTRL, PCI_ATS_CTRL_ENABLE, PCI_ATS_CTRL_STU_MASK, PCI_ATS_MIN_STU, PCI_EXT_CAP_ID_ATS, PCI_EXT_CAP_ID_PASID,
  PCI_PASID_CAP, PCI_PASID_CTRL, PCI_PASID_CTRL_ENABLE,
} from './regs.js';
import { EINVAL } from '../errno.js';

/** pci_ats_supported. */
export function pciAtsSupported(pdev: PciFunction): boolean {
  return pdev.extCap(PCI_EXT_CAP_ID_ATS) !== undefined;
}

export function pciAtsEnabled(pdev: PciFunction): boolean {
  const cap = pdev.extCap(PCI_EXT_CAP_ID_ATS);
  return !!cap && (pdev.read(cap.offset + PCI_ATS_CTRL, 2) & PCI_ATS_CTRL_ENABLE) !== 0;
}

/** pci_enable_ats: STU = page shift - 12 in ATS Control[4:0], then Enable (PCIe 4.0 10.5.1.3). Returns 0 or -EINVAL. */
export function pciEnableAts(pdev: PciFunction, pageShift: number): number {
  const cap = pdev.extCap(PCI_EXT_CAP_ID_ATS);
  if (!cap || pageShift < PCI_ATS_MIN_STU) return -EINVAL;
  pdev.write(cap.offset + PCI_ATS_CTRL, 2, PCI_ATS_CTRL_ENABLE | ((pageShift - PCI_ATS_MIN_STU) & PCI_ATS_CTRL_STU_MASK));
  return 0;
}

export function pciDisableAts(pdev: PciFunction): void {
  const cap = pdev.extCap(PCI_EXT_CAP_ID_ATS);
  if (cap) pdev.write(cap.offset + PCI_ATS_CTRL, 2, pdev.read(cap.offset + PCI_ATS_CTRL, 2) & ~PCI_ATS_CTRL_ENABLE);
}

/** pci_max_pasids: 1 << Max PASID Width (PASID Capability[12:8]), or 0 without the capability. */
export function pciMaxPasids(pdev: PciFunction): number {
  const cap = pdev.extCap(PCI_EXT_CAP_ID_PASID);
  if (!cap) return 0;
  return 1 << ((pdev.read(cap.offset + PCI_PASID_CAP, 2) >> 8) & 0x1f);
}

/** pci_enable_pasid with the given feature bits (exec, priv) masked by what the function supports. */
export function pciEnablePasid(pdev: PciFunction, features = 0): number {
  const cap = pdev.extCap(PCI_EXT_CAP_ID_PASID);
  if (!cap) return -EINVAL;
  const supported = pdev.read(cap.offset + PCI_PASID_CAP, 2) & 0x6;
  if ((features & ~supported) !== 0) return -EINVAL;
  pdev.write(cap.offset + PCI_PASID_CTRL, 2, PCI_PASID_CTRL_ENABLE | features);
  return 0;
}

export function pciPasidEnabled(pdev: PciFunction): boolean {
  const cap = pdev.extCap(PCI_EXT_CAP_ID_PASID);
  return !!cap && (pdev.read(cap.offset + PCI_PASID_CTRL, 2) & PCI_PASID_CTRL_ENABLE) !== 0;
}
