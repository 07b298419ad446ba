import {
  MEMTX_ACCESS_ERROR, MEMTX_DECODE_ERROR, MEMTX_OK, MEMTXATTRS_UNSPECIFIED, type MemTxAttrs, type MemTxResult,
} from './attrs.js';
import { FlatView, flatViewRoot, type FlatRange } from './flat-view.js';
import { IOMMU_RO, IOMMU_WO, type IOMMUTLBEntry } from './iommu-types.js';
import { AccessResult, mmioRead, mmioWrite } from './mmio-dispatch.js';
import { IommuRegion, MmioRegion, RamRegion, type MemoryRegion } from './region.js';

/** Where an access lands after translation (QEMU address_space_translate). */
interface Section {
  result: MemTxResult;
  mr: MemoryRegion | null;
  offset: number;
  len: number;
  readonly: boolean;
  /** Final address space and address (for observers). */
  as: AddressSpace | null;
  addr: number;
}

/**
 * Sees every terminating piece of an access made in an address space: the
 * address asked for, the length, the direction, the result and, when it
 * succeeded, the final address space and address after translation. The DMA
 * oracle and traces hang here; unset, it costs one check per piece.
 */
export type AccessObserver = (addr: number | bigint, len: number, isWrite: boolean, result: MemTxResult,
  target: AddressSpace | null, targetAddr: number) => void;

/** Translation chains through IOMMUs are bounded, so a loop of IOMMUs ends. */
const MAX_IOMMU_HOPS = 8;
const PAGE = 4096;

/** Bytes from `a` up to the next mapped range (or the page end). */
function gapLength(view: FlatView, a: number): number {
  for (const r of view.ranges) if (r.startN > a) return r.startN - a;
  return PAGE - (a % PAGE);
}

/**
 * An address space: a root region and its rendered flat view, with
 * dispatch by flat-range lookup. Accesses return a MemTxResult; nothing
 * throws. Values travel in memory byte order (the byte at the lowest address
 * in the low bits), as two u32 halves for 8-byte accesses.
 */
export class AddressSpace {
  view: FlatView;
  observer: AccessObserver | undefined;
  /**
   * Called before every access made through this address space, before it
   * is translated: the machine arms it on the CPU's view ("memory") while
   * a backend thread has work in flight, so that what the CPU reads or
   * writes is settled first (src/base/settle-point.ts). Unset, one check.
   */
  beforeAccess: ((addr: number | bigint, isWrite: boolean) => void) | undefined;
  private readonly sec: Section = { result: MEMTX_OK, mr: null, offset: 0, len: 0, readonly: false, as: null, addr: 0 };
  private readonly scratch = new Uint8Array(8);

  constructor(public root: MemoryRegion | null, readonly name: string) {
    this.view = new FlatView(root ? flatViewRoot(root) : null);
  }

  /** Resolves [addr, addr+len) to its first terminating piece, through IOMMUs. */
  private translate(addr: number | bigint, len: number, isWrite: boolean, attrs: MemTxAttrs): Section {
    let fr: FlatRange | undefined;
    let off: number;
    let curAs: AddressSpace = this;
    let curAddr = typeof addr === 'bigint' ? 0 : addr;
    if (typeof addr === 'bigint') {
      fr = this.view.lookupBig(addr);
      if (!fr) return this.fail(MEMTX_DECODE_ERROR, Math.min(len, PAGE - Number(addr % BigInt(PAGE))));
      const left = fr.start + fr.size - addr;
      if (left < BigInt(len)) len = Number(left);
      off = Number(addr - fr.start) + fr.offsetN;
      curAddr = fr.startN + Number(addr - fr.start);
    } else {
      fr = this.view.lookup(addr);
      if (!fr) return this.fail(MEMTX_DECODE_ERROR, Math.min(len, gapLength(this.view, addr)));
      len = Math.min(len, fr.endN - addr);
      off = addr - fr.startN + fr.offsetN;
    }
    for (let hop = 0; ; hop++) {
      const mr: MemoryRegion = fr.mr;
      if (!(mr instanceof IommuRegion)) {
        const sec = this.sec;
        sec.result = MEMTX_OK;
        sec.mr = mr;
        sec.offset = off;
        sec.len = len;
        sec.readonly = fr.readonly;
        sec.as = curAs;
        sec.addr = curAddr;
        return sec;
      }
      if (hop >= MAX_IOMMU_HOPS) return this.fail(MEMTX_DECODE_ERROR, len);
      // address_space_translate_iommu: translate, check the permission, clamp
      // to the page, continue in the target address space.
      const e: IOMMUTLBEntry = mr.translator.translate(off, isWrite ? IOMMU_WO : IOMMU_RO, mr.attrsToIndex(attrs), attrs);
      const page = e.addrMask + 1;
      const inPage = off % page;
      len = Math.min(len, page - inPage);
      if (!(e.perm & (isWrite ? IOMMU_WO : IOMMU_RO)) || !e.targetAs) {
        return this.fail(MEMTX_ACCESS_ERROR, mr.translator.refusedPieceLength?.(len, off) ?? len);
      }
      const a = e.translatedAddr - (e.translatedAddr % page) + inPage;
      const view: FlatView = e.targetAs.view;
      curAs = e.targetAs;
      curAddr = a;
      fr = view.lookup(a);
      if (!fr) return this.fail(MEMTX_DECODE_ERROR, Math.min(len, gapLength(view, a)));
      len = Math.min(len, fr.endN - a);
      off = a - fr.startN + fr.offsetN;
    }
  }

  private fail(result: MemTxResult, len: number): Section {
    const sec = this.sec;
    sec.result = result;
    sec.mr = null;
    sec.offset = 0;
    sec.len = Math.max(1, len);
    sec.readonly = false;
    sec.as = null;
    sec.addr = 0;
    return sec;
  }

  /** Scalar read of 1, 2, 4 or 8 bytes. */
  read(addr: number | bigint, size: number, attrs: MemTxAttrs = MEMTXATTRS_UNSPECIFIED, out = new AccessResult()): AccessResult {
    this.beforeAccess?.(addr, false);
    const sec = this.translate(addr, size, false, attrs);
    out.lo = 0;
    out.hi = 0;
    if (sec.result !== MEMTX_OK) {
      this.observer?.(addr, size, false, sec.result, null, 0);
      out.result = sec.result;
      return out;
    }
    // QEMU (address_space_ld*_internal) hands a scalar access whole to the
    // MMIO region it starts in, whose valid sizes decide; only RAM pieces
    // that straddle a boundary are assembled bytewise.
    if (sec.len < size && sec.mr instanceof RamRegion) {
      const buf = this.scratch;
      buf.fill(0);
      out.result = this.readBytes(addr, buf.subarray(0, size), attrs);
      for (let i = 0; i < size; i++) {
        if (i < 4) out.lo = (out.lo | (buf[i]! << (i * 8))) >>> 0;
        else out.hi = (out.hi | (buf[i]! << ((i - 4) * 8))) >>> 0;
      }
      return out;
    }
    const mr = sec.mr!;
    this.observer?.(addr, size, false, MEMTX_OK, sec.as, sec.addr);
    if (mr instanceof RamRegion) {
      const v = mr.block.view;
      const o = sec.offset;
      if (size === 1) out.lo = v.getUint8(o);
      else if (size === 2) out.lo = v.getUint16(o, true);
      else if (size === 4) out.lo = v.getUint32(o, true);
      else {
        out.lo = v.getUint32(o, true);
        out.hi = v.getUint32(o + 4, true);
      }
      out.result = MEMTX_OK;
      return out;
    }
    mmioRead((mr as MmioRegion).resolved, sec.offset, size, attrs, out);
    return out;
  }

  /** Scalar write of 1, 2, 4 or 8 bytes (value in memory order, two halves). */
  write(addr: number | bigint, size: number, lo: number, hi = 0, attrs: MemTxAttrs = MEMTXATTRS_UNSPECIFIED): MemTxResult {
    this.beforeAccess?.(addr, true);
    const sec = this.translate(addr, size, true, attrs);
    if (sec.result !== MEMTX_OK) {
      this.observer?.(addr, size, true, sec.result, null, 0);
      return sec.result;
    }
    if (sec.len < size && sec.mr instanceof RamRegion) {
      const buf = this.scratch.subarray(0, size);
      for (let i = 0; i < size; i++) buf[i] = i < 4 ? (lo >>> (i * 8)) & 0xff : (hi >>> ((i - 4) * 8)) & 0xff;
      return this.writeBytes(addr, Uint8Array.from(buf), attrs);
    }
    const mr = sec.mr!;
    this.observer?.(addr, size, true, sec.readonly ? MEMTX_DECODE_ERROR : MEMTX_OK, sec.as, sec.addr);
    if (sec.readonly) return MEMTX_DECODE_ERROR;
    if (mr instanceof RamRegion) {
      if (mr.readonly) return MEMTX_DECODE_ERROR;
      const v = mr.block.view;
      const o = sec.offset;
      if (size === 1) v.setUint8(o, lo & 0xff);
      else if (size === 2) v.setUint16(o, lo & 0xffff, true);
      else if (size === 4) v.setUint32(o, lo >>> 0, true);
      else {
        v.setUint32(o, lo >>> 0, true);
        v.setUint32(o + 4, hi >>> 0, true);
      }
      return MEMTX_OK;
    }
    return mmioWrite((mr as MmioRegion).resolved, sec.offset, size, lo, hi, attrs);
  }

  /**
   * Reads dst.length bytes. Pieces that fail read as zero (as QEMU's
   * refused DMA reads do); the results of all pieces are ORed.
   */
  readBytes(addr: number | bigint, dst: Uint8Array, attrs: MemTxAttrs = MEMTXATTRS_UNSPECIFIED): MemTxResult {
    return this.bulk(addr, dst, false, attrs);
  }

  /** Writes src; a refused piece changes nothing. */
  writeBytes(addr: number | bigint, src: Uint8Array, attrs: MemTxAttrs = MEMTXATTRS_UNSPECIFIED): MemTxResult {
    return this.bulk(addr, src, true, attrs);
  }

  private bulk(addr: number | bigint, buf: Uint8Array, isWrite: boolean, attrs: MemTxAttrs): MemTxResult {
    this.beforeAccess?.(addr, isWrite);
    let res = MEMTX_OK;
    const acc = new AccessResult();
    for (let pos = 0; pos < buf.length;) {
      const at = typeof addr === 'bigint' ? addr + BigInt(pos) : addr + pos;
      const s = this.translate(at, buf.length - pos, isWrite, attrs);
      const n = s.len;
      const mr = s.mr;
      const off = s.offset;
      this.observer?.(at, n, isWrite, s.result, s.as, s.addr);
      if (s.result !== MEMTX_OK || !mr) {
        res |= s.result;
        if (!isWrite) buf.fill(0, pos, pos + n);
      } else if (mr instanceof RamRegion) {
        if (isWrite) {
          if (s.readonly || mr.readonly) res |= MEMTX_DECODE_ERROR;
          else mr.block.u8.set(buf.subarray(pos, pos + n), off);
        } else {
          buf.set(mr.block.u8.subarray(off, off + n), pos);
        }
      } else {
        const r = (mr as MmioRegion).resolved;
        for (let i = 0; i < n;) {
          // memory_access_size: up to the region's valid maximum (8 where a
          // device takes 8-byte accesses), bounded by the offset's alignment.
          let sz = Math.min(r.valid.max, 8);
          while (sz > 1 && (sz > n - i || (!r.valid.unaligned && (off + i) % sz !== 0))) sz >>= 1;
          if (isWrite) {
            let v = 0;
            let hi = 0;
            for (let b = 0; b < sz; b++) {
              if (b < 4) v = (v | (buf[pos + i + b]! << (b * 8))) >>> 0;
              else hi = (hi | (buf[pos + i + b]! << ((b - 4) * 8))) >>> 0;
            }
            res |= s.readonly ? MEMTX_DECODE_ERROR : mmioWrite(r, off + i, sz, v, hi, attrs);
          } else {
            res |= mmioRead(r, off + i, sz, attrs, acc);
            for (let b = 0; b < sz; b++) buf[pos + i + b] = b < 4 ? (acc.lo >>> (b * 8)) & 0xff : (acc.hi >>> ((b - 4) * 8)) & 0xff;
          }
          i += sz;
        }
      }
      pos += n;
    }
    return res;
  }

  /** Convenience loads for control paths: -1 when the access failed. */
  ld32(addr: number | bigint, attrs: MemTxAttrs = MEMTXATTRS_UNSPECIFIED): number {
    const r = this.read(addr, 4, attrs);
    return r.result === MEMTX_OK ? r.lo : -1;
  }

  st32(addr: number | bigint, value: number, attrs: MemTxAttrs = MEMTXATTRS_UNSPECIFIED): MemTxResult {
    return this.write(addr, 4, value, 0, attrs);
  }

  /** u64 as bigint (control path); undefined when the access failed. */
  ld64Big(addr: number | bigint, attrs: MemTxAttrs = MEMTXATTRS_UNSPECIFIED): bigint | undefined {
    const r = this.read(addr, 8, attrs);
    return r.result === MEMTX_OK ? (BigInt(r.hi) << 32n) | BigInt(r.lo) : undefined;
  }

  st64Big(addr: number | bigint, value: bigint, attrs: MemTxAttrs = MEMTXATTRS_UNSPECIFIED): MemTxResult {
    const v = BigInt.asUintN(64, value);
    return this.write(addr, 8, Number(v & 0xffff_ffffn), Number(v >> 32n), attrs);
  }
}
