import { barIs64, barOffset, type PCIIORegion } from './bar.js';
import { ConfigSpace } from './config-space.js';
import {
  PCI_CACHE_LINE_SIZE, PCI_CAPABILITY_LIST, PCI_CLASS_DEVICE, PCI_CLASS_PROG, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE,
  PCI_COMMAND_IO, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY, PCI_COMMAND_SERR, PCI_CONFIG_HEADER_SIZE, PCI_DEVICE_ID,
  PCI_HEADER_TYPE, PCI_INTERRUPT_LINE, PCI_REVISION_ID, PCI_STATUS, PCI_STATUS_DETECTED_PARITY, PCI_STATUS_PARITY,
  PCI_STATUS_REC_MASTER_ABORT, PCI_STATUS_REC_TARGET_ABORT, PCI_STATUS_SIG_SYSTEM_ERROR, PCI_STATUS_SIG_TARGET_ABORT,
  PCI_VENDOR_ID,
} from './regs.js';

/**
 * pci_init_cmask / pci_init_wmask / pci_init_w1cmask (QEMU hw/pci/pci.c):
 * Command's IO, Memory, Bus Master, SERR and Interrupt Disable bits,
 * Cache Line Size and Interrupt Line are writable; Status error bits are
 * write-1-to-clear; everything past the 64-byte header starts writable
 * until a capability claims it (QEMU's choice).
 */
export function initStandardMasks(cs: ConfigSpace): void {
  ConfigSpace.set16(cs.cmask, PCI_VENDOR_ID, 0xffff);
  ConfigSpace.set16(cs.cmask, PCI_DEVICE_ID, 0xffff);
  cs.cmask[PCI_STATUS] = 0x10;
  cs.cmask[PCI_REVISION_ID] = 0xff;
  cs.cmask[PCI_CLASS_PROG] = 0xff;
  ConfigSpace.set16(cs.cmask, PCI_CLASS_DEVICE, 0xffff);
  cs.cmask[PCI_HEADER_TYPE] = 0xff;
  cs.cmask[PCI_CAPABILITY_LIST] = 0xff;
  cs.wmask[PCI_CACHE_LINE_SIZE] = 0xff;
  cs.wmask[PCI_INTERRUPT_LINE] = 0xff;
  ConfigSpace.set16(cs.wmask, PCI_COMMAND,
    PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE | PCI_COMMAND_SERR);
  cs.wmask.fill(0xff, PCI_CONFIG_HEADER_SIZE, cs.size);
  ConfigSpace.set16(cs.w1cmask, PCI_STATUS, PCI_STATUS_PARITY | PCI_STATUS_SIG_TARGET_ABORT
    | PCI_STATUS_REC_TARGET_ABORT | PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_SIG_SYSTEM_ERROR | PCI_STATUS_DETECTED_PARITY);
}

/**
 * pci_do_device_reset's register part: writable and write-1-to-clear bits
 * of Command and Status cleared, Interrupt Line and Cache Line Size cleared,
 * BARs back to their type bits (the caller re-runs the mapping).
 */
export function resetStandardRegisters(cs: ConfigSpace, regions: readonly (PCIIORegion | undefined)[]): void {
  ConfigSpace.clearBits16(cs.config, PCI_COMMAND, ConfigSpace.get16(cs.wmask, PCI_COMMAND) | ConfigSpace.get16(cs.w1cmask, PCI_COMMAND));
  ConfigSpace.clearBits16(cs.config, PCI_STATUS, ConfigSpace.get16(cs.wmask, PCI_STATUS) | ConfigSpace.get16(cs.w1cmask, PCI_STATUS));
  cs.config[PCI_INTERRUPT_LINE] = cs.config[PCI_INTERRUPT_LINE]! & ~(cs.wmask[PCI_INTERRUPT_LINE]! | cs.w1cmask[PCI_INTERRUPT_LINE]!);
  cs.config[PCI_CACHE_LINE_SIZE] = 0;
  for (const r of regions) {
    if (!r) continue;
    const off = barOffset(cs, r.index);
    cs.set32(off, r.type);
    if (barIs64(r)) cs.set32(off + 4, 0);
  }
}
