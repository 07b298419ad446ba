import type { PciFunction } from './device.js';
import {
  PCI_CAP_ID_MSIX, PCI_MSIX_BIR_MASK, PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_QSIZE, PCI_MSIX_PBA, PCI_MSIX_TABLE,
  PCI_CAP_ID_MSI, PCI_MSI_ADDRESS_HI, PCI_MSI_ADDRESS_LO, PCI_MSI_DATA_32, PCI_MSI_DATA_64, PCI_MSI_FLAGS,
  PCI_MSI_FLAGS_64BIT, PCI_MSI_FLAGS_ENABLE, PCI_MSI_FLAGS_QSIZE,
} from './regs.js';

/**
 * Programs and enables single-vector MSI (PCI 3.0 section 6.8.1): Message
 * Address (and Upper Address for a 64-bit capable function), Message Data,
 * then MSI Enable with Multiple Message Enable = 0. Returns false without
 * an MSI capability.
 */
export function pciEnableMsi(pdev: PciFunction, address: number, data: number): boolean {
  const cap = pdev.cap(PCI_CAP_ID_MSI);
  if (!cap) return false;
  const flags = pdev.read(cap.offset + PCI_MSI_FLAGS, 2);
  const is64 = (flags & PCI_MSI_FLAGS_64BIT) !== 0;
  pdev.write(cap.offset + PCI_MSI_ADDRESS_LO, 4, address % 0x1_0000_0000);
  if (is64) pdev.write(cap.offset + PCI_MSI_ADDRESS_HI, 4, Math.floor(address / 0x1_0000_0000));
  pdev.write(cap.offset + (is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32), 2, data & 0xffff);
  pdev.write(cap.offset + PCI_MSI_FLAGS, 2, (flags & ~PCI_MSI_FLAGS_QSIZE) | PCI_MSI_FLAGS_ENABLE);
  return true;
}

export function pciDisableMsi(pdev: PciFunction): void {
  const cap = pdev.cap(PCI_CAP_ID_MSI);
  if (!cap) return;
  pdev.write(cap.offset + PCI_MSI_FLAGS, 2, pdev.read(cap.offset + PCI_MSI_FLAGS, 2) & ~PCI_MSI_FLAGS_ENABLE);
}

/** An MSI-X capability decoded (PCI 3.0 section 6.8.2): table size N-1 in flags[10:0], table and PBA as BIR[2:0] + offset. */
export interface MsixInfo {
  readonly offset: number;
  readonly tableSize: number;
  readonly tableBar: number;
  readonly tableOffset: number;
  readonly pbaBar: number;
  readonly pbaOffset: number;
}

export function pciMsixInfo(pdev: PciFunction): MsixInfo | undefined {
  const cap = pdev.cap(PCI_CAP_ID_MSIX);
  if (!cap) return undefined;
  const flags = pdev.read(cap.offset + PCI_MSIX_FLAGS, 2);
  const table = pdev.read(cap.offset + PCI_MSIX_TABLE, 4) >>> 0;
  const pba = pdev.read(cap.offset + PCI_MSIX_PBA, 4) >>> 0;
  return {
    offset: cap.offset,
    tableSize: (flags & PCI_MSIX_FLAGS_QSIZE) + 1,
    tableBar: table & PCI_MSIX_BIR_MASK,
    tableOffset: (table & ~PCI_MSIX_BIR_MASK) >>> 0,
    pbaBar: pba & PCI_MSIX_BIR_MASK,
    pbaOffset: (pba & ~PCI_MSIX_BIR_MASK) >>> 0,
  };
}
