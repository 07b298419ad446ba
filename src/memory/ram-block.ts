import { MEMTX_DECODE_ERROR, MEMTX_OK, type MemTxResult } from './attrs.js';
import type { Word64 } from './word64.js';

/**
 * A block of guest RAM backed by one SharedArrayBuffer, so that worker
 * threads can read page tables and move DMA data directly (DESIGN "Guest
 * RAM"). Offsets are block-relative. Every accessor checks bounds: the
 * narrow loads return -1 for an out-of-range access (a u32 is never
 * negative), the others return a MemTxResult; nothing throws.
 */
export class RamBlock {
  readonly sab: SharedArrayBuffer;
  readonly u8: Uint8Array;
  readonly view: DataView;
  readonly size: number;

  constructor(readonly name: string, size: number, sab?: SharedArrayBuffer) {
    if (!Number.isSafeInteger(size) || size <= 0) {
      throw new RangeError(`RAM block '${name}': size must be a positive integer, got ${size}`);
    }
    this.sab = sab ?? new SharedArrayBuffer(size);
    if (this.sab.byteLength < size) throw new RangeError(`RAM block '${name}': buffer smaller than ${size}`);
    this.size = size;
    this.u8 = new Uint8Array(this.sab, 0, size);
    this.view = new DataView(this.sab, 0, size);
  }

  inBounds(off: number, len: number): boolean {
    return off >= 0 && len >= 0 && off + len <= this.size && Number.isInteger(off);
  }

  ld8(off: number): number {
    return this.inBounds(off, 1) ? this.u8[off]! : -1;
  }
  ld16le(off: number): number {
    return this.inBounds(off, 2) ? this.view.getUint16(off, true) : -1;
  }
  ld16be(off: number): number {
    return this.inBounds(off, 2) ? this.view.getUint16(off, false) : -1;
  }
  ld32le(off: number): number {
    return this.inBounds(off, 4) ? this.view.getUint32(off, true) : -1;
  }
  ld32be(off: number): number {
    return this.inBounds(off, 4) ? this.view.getUint32(off, false) : -1;
  }
  /** Little-endian u64 into two halves. */
  ld64le(off: number, out: Word64): MemTxResult {
    if (!this.inBounds(off, 8)) return MEMTX_DECODE_ERROR;
    out.lo = this.view.getUint32(off, true);
    out.hi = this.view.getUint32(off + 4, true);
    return MEMTX_OK;
  }
  /** Big-endian u64 (sPAPR TCE lists) into two halves. */
  ld64be(off: number, out: Word64): MemTxResult {
    if (!this.inBounds(off, 8)) return MEMTX_DECODE_ERROR;
    out.hi = this.view.getUint32(off, false);
    out.lo = this.view.getUint32(off + 4, false);
    return MEMTX_OK;
  }
  /** Control-path u64 as bigint; undefined when out of range. */
  ld64leBig(off: number): bigint | undefined {
    return this.inBounds(off, 8) ? this.view.getBigUint64(off, true) : undefined;
  }
  ld64beBig(off: number): bigint | undefined {
    return this.inBounds(off, 8) ? this.view.getBigUint64(off, false) : undefined;
  }

  st8(off: number, v: number): MemTxResult {
    if (!this.inBounds(off, 1)) return MEMTX_DECODE_ERROR;
    this.u8[off] = v;
    return MEMTX_OK;
  }
  st16le(off: number, v: number): MemTxResult {
    if (!this.inBounds(off, 2)) return MEMTX_DECODE_ERROR;
    this.view.setUint16(off, v & 0xffff, true);
    return MEMTX_OK;
  }
  st16be(off: number, v: number): MemTxResult {
    if (!this.inBounds(off, 2)) return MEMTX_DECODE_ERROR;
    this.view.setUint16(off, v & 0xffff, false);
    return MEMTX_OK;
  }
  st32le(off: number, v: number): MemTxResult {
    if (!this.inBounds(off, 4)) return MEMTX_DECODE_ERROR;
    this.view.setUint32(off, v >>> 0, true);
    return MEMTX_OK;
  }
  st32be(off: number, v: number): MemTxResult {
    if (!this.inBounds(off, 4)) return MEMTX_DECODE_ERROR;
    this.view.setUint32(off, v >>> 0, false);
    return MEMTX_OK;
  }
  st64le(off: number, lo: number, hi: number): MemTxResult {
    if (!this.inBounds(off, 8)) return MEMTX_DECODE_ERROR;
    this.view.setUint32(off, lo >>> 0, true);
    this.view.setUint32(off + 4, hi >>> 0, true);
    return MEMTX_OK;
  }
  st64be(off: number, lo: number, hi: number): MemTxResult {
    if (!this.inBounds(off, 8)) return MEMTX_DECODE_ERROR;
    this.view.setUint32(off, hi >>> 0, false);
    this.view.setUint32(off + 4, lo >>> 0, false);
    return MEMTX_OK;
  }
  st64leBig(off: number, v: bigint): MemTxResult {
    if (!this.inBounds(off, 8)) return MEMTX_DECODE_ERROR;
    this.view.setBigUint64(off, BigInt.asUintN(64, v), true);
    return MEMTX_OK;
  }
  st64beBig(off: number, v: bigint): MemTxResult {
    if (!this.inBounds(off, 8)) return MEMTX_DECODE_ERROR;
    this.view.setBigUint64(off, BigInt.asUintN(64, v), false);
    return MEMTX_OK;
  }

  /** Copies block bytes [off, off + dst.length) into dst. */
  read(off: number, dst: Uint8Array): MemTxResult {
    if (!this.inBounds(off, dst.length)) return MEMTX_DECODE_ERROR;
    dst.set(this.u8.subarray(off, off + dst.length));
    return MEMTX_OK;
  }
  write(off: number, src: Uint8Array): MemTxResult {
    if (!this.inBounds(off, src.length)) return MEMTX_DECODE_ERROR;
    this.u8.set(src, off);
    return MEMTX_OK;
  }
  fill(off: number, len: number, byte: number): MemTxResult {
    if (!this.inBounds(off, len)) return MEMTX_DECODE_ERROR;
    this.u8.fill(byte & 0xff, off, off + len);
    return MEMTX_OK;
  }
}
