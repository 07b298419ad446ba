import { MEMTX_DECODE_ERROR, MEMTX_OK, type MemTxAttrs, type MemTxResult } from './attrs.js';
import { bswap16, bswap32 } from './bswap.js';
import type { ResolvedOps } from './mmio-ops.js';

/** Out-parameter of a scalar access: the value as two u32 halves. */
export class AccessResult {
  result: MemTxResult = MEMTX_OK;
  lo = 0;
  hi = 0;
}

function bswap(v: number, size: number): number {
  switch (size) {
    case 2: return bswap16(v);
    case 4: return bswap32(v);
    default: return v & 0xff;
  }
}

/** memory_region_access_valid. */
function accessValid(r: ResolvedOps, offset: number, size: number, isWrite: boolean): boolean {
  if (size < r.valid.min || size > r.valid.max) return false;
  if (!r.valid.unaligned && offset % size !== 0) return false;
  const accepts = r.ops.valid?.accepts;
  return accepts ? accepts(offset, size, isWrite) : true;
}

/** Places `v` (accessSize bytes, memory order) at byte `shift` of out. */
function orInto(out: AccessResult, v: number, byteShift: number, accessSize: number): void {
  for (let b = 0; b < accessSize; b++) {
    const byte = (v >>> (b * 8)) & 0xff;
    const at = byteShift + b;
    if (at < 4) out.lo = (out.lo | (byte << (at * 8))) >>> 0;
    else out.hi = (out.hi | (byte << ((at - 4) * 8))) >>> 0;
  }
}

function byteAt(lo: number, hi: number, at: number): number {
  return at < 4 ? (lo >>> (at * 8)) & 0xff : (hi >>> ((at - 4) * 8)) & 0xff;
}

/**
 * Reads `size` bytes at `offset` of an MMIO region, adapting the access to
 * the sizes the device implements (QEMU access_with_adjusted_size): a wider
 * access is split into implemented pieces, lowest address first; a narrower
 * one reads the implemented minimum and extracts the bytes. The value is
 * returned in memory byte order (byte at the lowest address in the low
 * bits), so big-endian devices are swapped here.
 */
export function mmioRead(r: ResolvedOps, offset: number, size: number, attrs: MemTxAttrs, out: AccessResult): MemTxResult {
  out.lo = 0;
  out.hi = 0;
  if (!accessValid(r, offset, size, false)) {
    out.result = MEMTX_DECODE_ERROR;
    return MEMTX_DECODE_ERROR;
  }
  const accessSize = Math.max(Math.min(size, r.impl.max), r.impl.min);
  if (accessSize === 8) {
    const w = r.ops.read64!(offset, attrs);
    out.lo = w.lo >>> 0;
    out.hi = w.hi >>> 0;
    if (r.big) {
      const lo = out.lo;
      out.lo = bswap(out.hi, 4);
      out.hi = bswap(lo, 4);
    }
  } else if (accessSize > size) {
    const base = offset - (offset % accessSize);
    let v = r.ops.read(base, accessSize, attrs) >>> 0;
    if (r.big) v = bswap(v, accessSize);
    const tmp = new AccessResult();
    orInto(tmp, v, 0, accessSize);
    for (let b = 0; b < size; b++) orInto(out, byteAt(tmp.lo, tmp.hi, offset - base + b), b, 1);
  } else {
    for (let i = 0; i < size; i += accessSize) {
      let v = r.ops.read(offset + i, accessSize, attrs) >>> 0;
      if (r.big) v = bswap(v, accessSize);
      orInto(out, v, i, accessSize);
    }
  }
  out.result = MEMTX_OK;
  return MEMTX_OK;
}

/** Writes `size` bytes (memory order in lo/hi) at `offset`; see mmioRead. */
export function mmioWrite(r: ResolvedOps, offset: number, size: number, lo: number, hi: number, attrs: MemTxAttrs): MemTxResult {
  if (!accessValid(r, offset, size, true)) return MEMTX_DECODE_ERROR;
  const accessSize = Math.max(Math.min(size, r.impl.max), r.impl.min);
  if (accessSize === 8) {
    if (r.big) r.ops.write64!(offset, bswap(hi >>> 0, 4), bswap(lo >>> 0, 4), attrs);
    else r.ops.write64!(offset, lo >>> 0, hi >>> 0, attrs);
    return MEMTX_OK;
  }
  if (accessSize > size) {
    // A device that only implements wider accesses sees a read-modify-write
    // of the containing unit, as QEMU's adjusted-size writes do for such ops.
    const base = offset - (offset % accessSize);
    let cur = r.ops.read(base, accessSize, attrs) >>> 0;
    if (r.big) cur = bswap(cur, accessSize);
    for (let b = 0; b < size; b++) {
      const at = offset - base + b;
      cur = ((cur & ~(0xff << (at * 8))) | (byteAt(lo, hi, b) << (at * 8))) >>> 0;
    }
    r.ops.write(base, accessSize, r.big ? bswap(cur, accessSize) : cur, attrs);
    return MEMTX_OK;
  }
  for (let i = 0; i < size; i += accessSize) {
    let v = 0;
    for (let b = 0; b < accessSize; b++) v = (v | (byteAt(lo, hi, i + b) << (b * 8))) >>> 0;
    r.ops.write(offset + i, accessSize, r.big ? bswap(v, accessSize) : v, attrs);
  }
  return MEMTX_OK;
}
