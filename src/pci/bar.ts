import type { MemoryRegion } from '../memory/region.js';
import { ConfigSpace } from './config-space.js';
import {
  PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_MEM_PREFETCH, PCI_BASE_ADDRESS_MEM_TYPE_64, PCI_BASE_ADDRESS_SPACE_IO,
  PCI_COMMAND, PCI_COMMAND_IO, PCI_COMMAND_MEMORY, PCI_HEADER_TYPE, PCI_HEADER_TYPE_BRIDGE, PCI_ROM_ADDRESS,
  PCI_ROM_ADDRESS1, PCI_ROM_ADDRESS_ENABLE, PCI_ROM_SLOT,
} from './regs.js';

/** QEMU's PCI_BAR_UNMAPPED as a bigint. */
export const BAR_UNMAPPED = -1n;
const U32_MAX = 0xffff_ffffn;
const U64_MAX = (1n << 64n) - 1n;

/**
 * One base address register (QEMU PCIIORegion): the region the device
 * exposes, its type bits (PCI 3.0 section 6.2.5.1: bit 0 I/O, bits 2:1
 * 64-bit, bit 3 prefetchable) and where it is mapped now.
 */
export interface PCIIORegion {
  readonly index: number;
  readonly size: bigint;
  readonly type: number;
  readonly region: MemoryRegion;
  /** The bus address it is mapped at, or BAR_UNMAPPED. */
  addr: bigint;
}

export function barIsIo(r: PCIIORegion): boolean {
  return (r.type & PCI_BASE_ADDRESS_SPACE_IO) !== 0;
}
export function barIs64(r: PCIIORegion): boolean {
  return !barIsIo(r) && (r.type & PCI_BASE_ADDRESS_MEM_TYPE_64) !== 0;
}
export function barIsPrefetch(r: PCIIORegion): boolean {
  return !barIsIo(r) && (r.type & PCI_BASE_ADDRESS_MEM_PREFETCH) !== 0;
}

/** pci_bar: the config offset of region `n` (the ROM BAR moves on type 1 headers). */
export function barOffset(cs: ConfigSpace, n: number): number {
  if (n !== PCI_ROM_SLOT) return PCI_BASE_ADDRESS_0 + n * 4;
  const type = cs.get8(PCI_HEADER_TYPE) & 0x7f;
  return type === PCI_HEADER_TYPE_BRIDGE ? PCI_ROM_ADDRESS1 : PCI_ROM_ADDRESS;
}

/**
 * pci_register_bar's config-space part: the type bits go into the BAR, the
 * size bits become read-only (the sizing protocol: writing all-ones reads
 * back ~(size-1) | type).
 */
export function initBarRegister(cs: ConfigSpace, n: number, type: number, size: bigint): void {
  if (size <= 0n || (size & (size - 1n)) !== 0n) throw new Error(`BAR${n}: size ${size} is not a power of two`);
  const off = barOffset(cs, n);
  let wmask = BigInt.asUintN(64, ~(size - 1n));
  if (n === PCI_ROM_SLOT) wmask |= BigInt(PCI_ROM_ADDRESS_ENABLE);
  cs.set32(off, type);
  if (!(type & PCI_BASE_ADDRESS_SPACE_IO) && type & PCI_BASE_ADDRESS_MEM_TYPE_64) {
    cs.set32(off + 4, 0);
    ConfigSpace.set32(cs.wmask, off, Number(wmask & U32_MAX));
    ConfigSpace.set32(cs.wmask, off + 4, Number(wmask >> 32n));
    cs.cmask.fill(0xff, off, off + 8);
  } else {
    ConfigSpace.set32(cs.wmask, off, Number(wmask & U32_MAX));
    cs.cmask.fill(0xff, off, off + 4);
  }
}

/**
 * pci_bar_address (QEMU hw/pci/pci.c): the address a BAR decodes at given
 * the Command register, or BAR_UNMAPPED. QEMU treats address 0 as unmapped
 * unless the machine allows it (virt and pseries do; pc does not), refuses
 * wrap-around, and refuses a 32-bit BAR whose last byte reaches 4 GiB.
 */
export function barAddress(cs: ConfigSpace, r: PCIIORegion, allowZero: boolean): bigint {
  const off = barOffset(cs, r.index);
  const cmd = cs.get16(PCI_COMMAND);
  const size = r.size;
  if (barIsIo(r)) {
    if (!(cmd & PCI_COMMAND_IO)) return BAR_UNMAPPED;
    const a = BigInt(cs.get32(off)) & ~(size - 1n);
    const last = a + size - 1n;
    if (last <= a || last >= U32_MAX || (!allowZero && a === 0n)) return BAR_UNMAPPED;
    return a;
  }
  if (!(cmd & PCI_COMMAND_MEMORY)) return BAR_UNMAPPED;
  let a = BigInt(cs.get32(off));
  if (r.type & PCI_BASE_ADDRESS_MEM_TYPE_64) a |= BigInt(cs.get32(off + 4)) << 32n;
  if (r.index === PCI_ROM_SLOT && !(a & BigInt(PCI_ROM_ADDRESS_ENABLE))) return BAR_UNMAPPED;
  a &= BigInt.asUintN(64, ~(size - 1n));
  const last = a + size - 1n;
  if (last <= a || last >= U64_MAX || (!allowZero && a === 0n)) return BAR_UNMAPPED;
  if (!(r.type & PCI_BASE_ADDRESS_MEM_TYPE_64) && last >= U32_MAX) return BAR_UNMAPPED;
  return a;
}
