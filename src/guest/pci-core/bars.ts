import type { BarKind, PciBar, PciFunction } from './device.js';
import {
  PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_IO_MASK, PCI_BASE_ADDRESS_MEM_MASK, PCI_BASE_ADDRESS_MEM_PREFETCH,
  PCI_BASE_ADDRESS_MEM_TYPE_64, PCI_BASE_ADDRESS_MEM_TYPE_MASK, PCI_BASE_ADDRESS_SPACE_IO, PCI_COMMAND,
  PCI_COMMAND_IO, PCI_COMMAND_MEMORY,
} from './regs.js';

const TWO32 = 0x1_0000_0000;

/**
 * Sizes the BARs of a function (PCI 3.0 section 6.2.5.1): with decode off,
 * write all ones, read back the writable bits, restore. Bit 0 selects I/O;
 * for memory, bits 2:1 = 10b is a 64-bit BAR using the next register too,
 * bit 3 is prefetchable. Type 0 headers have 6 BARs, type 1 headers 2. The
 * current (firmware-programmed) address is kept.
 */
export function sizeBars(fn: PciFunction): PciBar[] {
  const count = fn.isBridge ? 2 : (fn.headerType & 0x7f) === 0 ? 6 : 0;
  const cmd = fn.read(PCI_COMMAND, 2);
  fn.write(PCI_COMMAND, 2, cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
  const bars: PciBar[] = [];
  for (let i = 0; i < count; i++) {
    const reg = PCI_BASE_ADDRESS_0 + i * 4;
    const orig = fn.read(reg, 4) >>> 0;
    fn.write(reg, 4, 0xffffffff);
    const probe = fn.read(reg, 4) >>> 0;
    fn.write(reg, 4, orig);
    if (probe === 0) continue; // not implemented
    if (orig & PCI_BASE_ADDRESS_SPACE_IO) {
      // I/O BARs: upper 16 bits may be hardwired to zero (PCI 3.0 6.2.5.1).
      const mask = (probe & PCI_BASE_ADDRESS_IO_MASK) | (probe & 0xffff0000 ? 0 : 0xffff0000);
      const size = (~mask >>> 0) + 1;
      if (size === 0 || size > 0x10000) continue;
      const addr = (orig & PCI_BASE_ADDRESS_IO_MASK) >>> 0;
      bars.push({ index: i, kind: 'io', prefetchable: false, size, busAddress: addr, cpuAddress: addr });
      continue;
    }
    const is64 = (orig & PCI_BASE_ADDRESS_MEM_TYPE_MASK) === PCI_BASE_ADDRESS_MEM_TYPE_64;
    const prefetchable = (orig & PCI_BASE_ADDRESS_MEM_PREFETCH) !== 0;
    let size: number;
    let addr = (orig & PCI_BASE_ADDRESS_MEM_MASK) >>> 0;
    if (is64 && i + 1 < count) {
      const origHi = fn.read(reg + 4, 4) >>> 0;
      fn.write(reg + 4, 4, 0xffffffff);
      const probeHi = fn.read(reg + 4, 4) >>> 0;
      fn.write(reg + 4, 4, origHi);
      const lowMask = (probe & PCI_BASE_ADDRESS_MEM_MASK) >>> 0;
      // Size = two's complement of the 64-bit mask; beyond 2^52 is not a BAR we can place.
      if (lowMask === 0) size = ((~probeHi >>> 0) + 1) * TWO32;
      else size = (~lowMask >>> 0) + 1;
      addr += origHi * TWO32;
      i++;
    } else {
      const mask = (probe & PCI_BASE_ADDRESS_MEM_MASK) >>> 0;
      size = (~mask >>> 0) + 1;
    }
    if (!Number.isSafeInteger(size) || size <= 0) continue;
    const kind: BarKind = is64 ? 'mem64' : 'mem32';
    bars.push({ index: is64 ? i - 1 : i, kind, prefetchable, size, busAddress: addr, cpuAddress: addr });
  }
  fn.write(PCI_COMMAND, 2, cmd);
  fn.bars.length = 0;
  fn.bars.push(...bars);
  return bars;
}

/** Programs a BAR with a bus address (both halves for a 64-bit BAR). */
export function writeBar(fn: PciFunction, bar: PciBar, busAddress: number): void {
  const reg = PCI_BASE_ADDRESS_0 + bar.index * 4;
  const lo = busAddress % TWO32;
  const flags = fn.read(reg, 4) & (bar.kind === 'io' ? 0x3 : 0xf);
  fn.write(reg, 4, (lo | flags) >>> 0);
  if (bar.kind === 'mem64') fn.write(reg + 4, 4, Math.floor(busAddress / TWO32) >>> 0);
  bar.busAddress = busAddress;
}
