import { bswap32 } from '../memory/bswap.js';
import type { GuestPort } from './port.js';

/**
 * MMIO in the CPU's own byte order (Linux __raw_readl/__raw_writel), for
 * devices whose registers follow the target's endianness (QEMU
 * DEVICE_NATIVE_ENDIAN, e.g. edu): on a big-endian CPU (pseries) the
 * register's most significant byte is at the lowest address. The port
 * reports values in little-endian memory order, so big-endian CPUs swap.
 */
export class NativeMmio {
  constructor(private readonly port: GuestPort, readonly bigEndian: boolean) {}

  read32(addr: number): { ok: boolean; value: number } {
    const r = this.port.read(addr, 4);
    return { ok: r.ok, value: this.bigEndian ? bswap32(r.lo) : r.lo >>> 0 };
  }

  write32(addr: number, value: number): void {
    this.port.write(addr, 4, this.bigEndian ? bswap32(value) : value >>> 0);
  }

  /** A 64-bit store of a number below 2^53. */
  write64(addr: number, value: number): void {
    const lo = value % 0x1_0000_0000;
    const hi = Math.floor(value / 0x1_0000_0000);
    if (this.bigEndian) this.port.write(addr, 8, bswap32(hi), bswap32(lo));
    else this.port.write(addr, 8, lo, hi);
  }
}


/** The boards whose CPUs run big-endian (ppc64 pseries guests as QEMU's qemu-system-ppc64 targets). */
export function cpuBigEndian(board: string): boolean {
  return board === 'pseries';
}
