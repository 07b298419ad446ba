import { ParseError } from './result.js';

const TWO32 = 0x1_0000_0000;

/**
 * A bounds-checked view over a byte blob (a firmware table, a device tree, a
 * fw_cfg file). Every read checks that it lies inside the blob and throws a
 * ParseError naming the offset otherwise; parsers catch it at their boundary.
 */
export class ByteView {
  private readonly dv: DataView;

  constructor(readonly bytes: Uint8Array, readonly what = 'blob') {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.length;
  }

  check(off: number, len: number): void {
    if (!Number.isInteger(off) || off < 0 || len < 0 || off + len > this.bytes.length) {
      throw new ParseError(`${this.what}: ${len} bytes at offset ${off} run past its end (${this.bytes.length} bytes)`);
    }
  }

  u8(off: number): number {
    this.check(off, 1);
    return this.dv.getUint8(off);
  }
  u16le(off: number): number {
    this.check(off, 2);
    return this.dv.getUint16(off, true);
  }
  u32le(off: number): number {
    this.check(off, 4);
    return this.dv.getUint32(off, true);
  }
  u16be(off: number): number {
    this.check(off, 2);
    return this.dv.getUint16(off, false);
  }
  u32be(off: number): number {
    this.check(off, 4);
    return this.dv.getUint32(off, false);
  }
  /** u64 little-endian as a bigint (control path). */
  u64leBig(off: number): bigint {
    this.check(off, 8);
    return this.dv.getBigUint64(off, true);
  }
  u64beBig(off: number): bigint {
    this.check(off, 8);
    return this.dv.getBigUint64(off, false);
  }
  /** u64 little-endian as a number; a value at or above 2^53 is a ParseError. */
  u64le(off: number): number {
    const lo = this.u32le(off);
    const hi = this.u32le(off + 4);
    if (hi >= 0x20_0000) throw new ParseError(`${this.what}: 64-bit value at offset ${off} is beyond 2^53`);
    return hi * TWO32 + lo;
  }

  /** Fixed-width ASCII field (no terminator handling). */
  ascii(off: number, len: number): string {
    this.check(off, len);
    let s = '';
    for (let i = 0; i < len; i++) s += String.fromCharCode(this.bytes[off + i]!);
    return s;
  }

  /** NUL-terminated string that must end inside [off, off+max). */
  cstring(off: number, max = this.bytes.length - off): string {
    this.check(off, 0);
    const end = Math.min(this.bytes.length, off + max);
    for (let i = off; i < end; i++) {
      if (this.bytes[i] === 0) return this.ascii(off, i - off);
    }
    throw new ParseError(`${this.what}: string at offset ${off} is not NUL-terminated`);
  }

  /** A fixed-size name field padded with NULs (fw_cfg, BIOSLinker). */
  paddedName(off: number, len: number): string {
    this.check(off, len);
    let s = '';
    for (let i = 0; i < len; i++) {
      const c = this.bytes[off + i]!;
      if (c === 0) break;
      s += String.fromCharCode(c);
    }
    return s;
  }

  sub(off: number, len: number, what = this.what): ByteView {
    this.check(off, len);
    return new ByteView(this.bytes.subarray(off, off + len), what);
  }
}

/** Sum of bytes modulo 256 (ACPI 6.5 section 5.2.5.3 / 5.2.6: a valid table sums to 0). */
export function byteSum(bytes: Uint8Array, start = 0, len = bytes.length - start): number {
  let s = 0;
  for (let i = start; i < start + len; i++) s = (s + bytes[i]!) & 0xff;
  return s;
}

export { bswap16, bswap32 } from '../../memory/bswap.js';

export function hiOf(v: number): number {
  return Math.floor(v / TWO32) >>> 0;
}

export function loOf(v: number): number {
  return (v - Math.floor(v / TWO32) * TWO32) >>> 0;
}
