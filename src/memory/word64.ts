/**
 * 64-bit values as two u32 halves (DESIGN section "64-bit values"): the
 * representation for registers, page-table entries and MMIO data. bigint is
 * for control paths only; these helpers convert once at the boundary.
 */
export interface Word64 {
  lo: number;
  hi: number;
}

const TWO32 = 0x1_0000_0000;

export function word64(lo: number, hi = 0): Word64 {
  return { lo: lo >>> 0, hi: hi >>> 0 };
}

export function word64ToBigInt(w: Word64): bigint {
  return (BigInt(w.hi >>> 0) << 32n) | BigInt(w.lo >>> 0);
}

export function bigIntToWord64(v: bigint): Word64 {
  const m = BigInt.asUintN(64, v);
  return { lo: Number(m & 0xffff_ffffn), hi: Number(m >> 32n) };
}

/** Number value of a Word64; exact only below 2^53 (callers check `hi < 2^21`). */
export function word64ToNumber(w: Word64): number {
  return (w.hi >>> 0) * TWO32 + (w.lo >>> 0);
}

/** Halves of a non-negative integer number (exact below 2^53). */
export function numberToWord64(v: number): Word64 {
  const hi = Math.floor(v / TWO32);
  return { lo: (v - hi * TWO32) >>> 0, hi: hi >>> 0 };
}

export function hiOf(v: number): number {
  return Math.floor(v / TWO32) >>> 0;
}

export function loOf(v: number): number {
  return (v - Math.floor(v / TWO32) * TWO32) >>> 0;
}

/** Formats a u64 as QEMU's "0x%016x". */
export function hex16(v: bigint | number): string {
  return '0x' + BigInt.asUintN(64, BigInt(v)).toString(16).padStart(16, '0');
}
