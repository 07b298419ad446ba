import type { GuestPort } from '../port.js';
import type { PciFunction } from './device.js';
import {
  PCI_CAP_ID_MSIX, PCI_MSIX_BIR_MASK, PCI_MSIX_ENTRY_CTRL_MASKBIT, PCI_MSIX_ENTRY_DATA, PCI_MSIX_ENTRY_LOWER_ADDR,
  PCI_MSIX_ENTRY_UPPER_ADDR, PCI_MSIX_ENTRY_VECTOR_CTRL, PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE,
  PCI_MSIX_FLAGS_MASKALL, PCI_MSIX_FLAGS_QSIZE, PCI_MSIX_PBA, PCI_MSIX_TABLE,
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

/**
 * Enables MSI-X with vector 0 programmed (Linux msix_capability_init):
 * Enable with Function Mask set, the table entry written through the BAR
 * (little-endian, PCI 3.0 section 6.8.2), the entry unmasked, then Function
 * Mask cleared. The table BAR must be assigned with memory decode on.
 * Returns false without MSI-X or without an assigned table BAR.
 */
export function pciEnableMsixVector0(port: GuestPort, pdev: PciFunction, address: number, data: number): boolean {
  const info = pciMsixInfo(pdev);
  const bar = info && pdev.bars.find((b) => b.index === info.tableBar && b.kind !== 'io');
  if (!info || !bar || bar.cpuAddress === 0) return false;
  const ctl = info.offset + PCI_MSIX_FLAGS;
  pdev.write(ctl, 2, pdev.read(ctl, 2) | PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
  const entry = bar.cpuAddress + info.tableOffset;
  port.write(entry + PCI_MSIX_ENTRY_LOWER_ADDR, 4, address % 0x1_0000_0000);
  port.write(entry + PCI_MSIX_ENTRY_UPPER_ADDR, 4, Math.floor(address / 0x1_0000_0000));
  port.write(entry + PCI_MSIX_ENTRY_DATA, 4, data >>> 0);
  const vc = port.read(entry + PCI_MSIX_ENTRY_VECTOR_CTRL, 4);
  port.write(entry + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, (vc.lo & ~PCI_MSIX_ENTRY_CTRL_MASKBIT) >>> 0);
  pdev.write(ctl, 2, pdev.read(ctl, 2) & ~PCI_MSIX_FLAGS_MASKALL);
  return true;
}
