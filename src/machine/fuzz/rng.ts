import { Xorshift32 } from '../../base/prng.js';

/** 32-bit values fuzzers have found bugs with (boundaries, sign bits, masks). */
export const INTERESTING_32: readonly number[] = [
  0, 1, 2, 3, 4, 7, 8, 0xf, 0x10, 0x20, 0x3f, 0x40, 0x7f, 0x80, 0xff, 0x100, 0x1ff, 0x200, 0x3ff, 0x400, 0x7ff, 0x800,
  0xfff, 0x1000, 0x1001, 0xffff, 0x10000, 0xfffff, 0x100000, 0x7fffffff, 0x80000000, 0x80000001, 0xfffff000,
  0xfffffffe, 0xffffffff,
];

/** 64-bit boundaries as "0x..." strings (exactness above 2^53 matters). */
export const INTERESTING_64: readonly string[] = [
  '0x0', '0x1', '0xffffffff', '0x100000000', '0xfffff000', '0xfffffffffffff', '0x10000000000000', '0x1fffffffffffff',
  '0x20000000000000', '0x7fffffffffffffff', '0x8000000000000000', '0xfffffffffffff000', '0xffffffffffffffff',
];

/**
 * The fuzzer's randomness: Xorshift32 (seeded; the same seed gives the same
 * inputs) with the choices a mutator needs.
 */
export class FuzzRng {
  private readonly x: Xorshift32;

  constructor(seed: number) {
    this.x = new Xorshift32(seed);
  }

  u32(): number {
    return this.x.next();
  }
  /** Uniform in [0, n); 0 when n <= 0. */
  below(n: number): number {
    return n <= 0 ? 0 : this.x.below(Math.floor(n));
  }
  /** Uniform in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.x.float() < p;
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.below(items.length)]!;
  }
  /** Picks by weight: [[weight, value], ...]. */
  weighted<T>(items: readonly (readonly [number, T])[]): T {
    let total = 0;
    for (const [w] of items) total += w;
    let r = this.x.float() * total;
    for (const [w, v] of items) {
      if ((r -= w) < 0) return v;
    }
    return items[items.length - 1]![1];
  }
  /** A u32 that is often a boundary value, sometimes near `near`. */
  value32(near?: number): number {
    const c = this.below(8);
    if (c < 3) return this.pick(INTERESTING_32);
    if (c < 5 && near !== undefined) return (near + this.range(-8, 8)) >>> 0;
    if (c < 6 && near !== undefined) return (near ^ (1 << this.below(32))) >>> 0;
    return this.u32();
  }
  /** A u64 as a bigint, often a boundary. */
  value64(near?: bigint): bigint {
    const c = this.below(8);
    if (c < 3) return BigInt(this.pick(INTERESTING_64));
    if (c < 5 && near !== undefined) return BigInt.asUintN(64, near + BigInt(this.range(-8, 8)) * (this.chance(0.5) ? 1n : 0x1000n));
    if (c < 6 && near !== undefined) return BigInt.asUintN(64, near ^ (1n << BigInt(this.below(64))));
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
  /** A new seed for a sub-stream. */
  fork(): FuzzRng {
    return new FuzzRng(this.u32() || 1);
  }
}

/** "0x..." for a bigint (how ops hold 64-bit values). */
export function hex64(v: bigint): string {
  return '0x' + BigInt.asUintN(64, v).toString(16);
}

/** Reads an op field written by hex64 (or a plain number); 0n when absent or malformed. */
export function big(v: unknown): bigint {
  if (typeof v === 'number' && Number.isFinite(v)) return BigInt.asUintN(64, BigInt(Math.trunc(v)));
  if (typeof v === 'string' && /^(0x[0-9a-f]+|\d+)$/i.test(v)) return BigInt.asUintN(64, BigInt(v));
  return 0n;
}

/** A numeric op field as a u32 (0 when absent). */
export function u32(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) >>> 0 : Number(big(v) & 0xffff_ffffn);
}

/** A numeric op field as a non-negative integer below 2^53 (clamped). */
export function num(v: unknown): number {
  const b = big(v);
  return b >= 1n << 53n ? 2 ** 53 - 1 : Number(b);
}
