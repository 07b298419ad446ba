import type { PciFunction } from './device.js';
import {
  PCI_ACS_CAP, PCI_ACS_CR, PCI_ACS_CTRL, PCI_ACS_EC, PCI_ACS_RR, PCI_ACS_SV, PCI_ACS_UF, PCI_EXP_TYPE_DOWNSTREAM,
  PCI_EXP_TYPE_ENDPOINT, PCI_EXP_TYPE_LEG_END, PCI_EXP_TYPE_PCIE_BRIDGE, PCI_EXP_TYPE_RC_END, PCI_EXP_TYPE_ROOT_PORT,
  PCI_EXP_TYPE_UPSTREAM, PCI_EXT_CAP_ID_ACS,
} from './regs.js';

/**
 * The ACS controls Linux's IOMMU grouping requires for isolation
 * (drivers/iommu/iommu.c REQ_ACS_FLAGS): Source Validation, Request
 * Redirect, Completion Redirect, Upstream Forwarding (PCIe 4.0 7.7.7.2).
 */
export const REQ_ACS_FLAGS = PCI_ACS_SV | PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_UF;

/** pci_acs_flags_enabled: the controls a function implements must be enabled; absent ACS means no. */
function acsFlagsEnabled(pdev: PciFunction, flags: number): boolean {
  const cap = pdev.extCap(PCI_EXT_CAP_ID_ACS);
  if (!cap) return false;
  const capBits = pdev.read(cap.offset + PCI_ACS_CAP, 2);
  const ctrl = pdev.read(cap.offset + PCI_ACS_CTRL, 2);
  const need = flags & (capBits | PCI_ACS_EC);
  return (ctrl & need) === need;
}

/**
 * Linux pci_acs_enabled (drivers/pci/pci.c, without device quirks):
 * conventional PCI never isolates; a PCI/PCI-X-to-PCIe bridge is treated as
 * conventional; root and downstream ports need the controls; endpoints and
 * upstream ports need them only when multi-function; other single-function
 * PCIe functions count as isolated (PCIe 3.0 6.12.1.3).
 */
export function pciAcsEnabled(pdev: PciFunction, flags: number): boolean {
  if (!pdev.isPcie) return false;
  switch (pdev.pcieType) {
    case PCI_EXP_TYPE_PCIE_BRIDGE:
      return false;
    case PCI_EXP_TYPE_DOWNSTREAM:
    case PCI_EXP_TYPE_ROOT_PORT:
      return acsFlagsEnabled(pdev, flags);
    case PCI_EXP_TYPE_ENDPOINT:
    case PCI_EXP_TYPE_UPSTREAM:
    case PCI_EXP_TYPE_LEG_END:
    case PCI_EXP_TYPE_RC_END:
      if (pdev.multifunction) return acsFlagsEnabled(pdev, flags);
  }
  return true;
}

/** pci_acs_path_enabled(start, end = NULL): ACS on `start` and every bridge above it up to the root bus. */
export function pciAcsPathEnabled(start: PciFunction, flags: number): boolean {
  for (let pdev: PciFunction | undefined = start; pdev; pdev = pdev.bus.self) {
    if (!pciAcsEnabled(pdev, flags)) return false;
    if (pdev.bus.isRoot) break;
  }
  return true;
}

/** pci_std_enable_acs: enable SV, RR, CR and UF where implemented (Linux does so when an IOMMU is present). */
export function pciEnableAcs(pdev: PciFunction): boolean {
  const cap = pdev.extCap(PCI_EXT_CAP_ID_ACS);
  if (!cap) return false;
  const capBits = pdev.read(cap.offset + PCI_ACS_CAP, 2);
  const ctrl = pdev.read(cap.offset + PCI_ACS_CTRL, 2);
  const next = ctrl | (capBits & REQ_ACS_FLAGS);
  if (next !== ctrl) pdev.write(cap.offset + PCI_ACS_CTRL, 2, next);
  return true;
}
