import { RamRegion, type AddressSpace } from '../../memory/index.js';

/** One guest-physical window onto a SharedArrayBuffer (structured-clone friendly). */
export interface GuestRamWindow {
  /** Guest-physical address of the first byte (a multiple of 8). */
  readonly base: number;
  readonly size: number;
  readonly sab: SharedArrayBuffer;
  /** Byte offset of `base` within `sab` (a multiple of 8). */
  readonly offset: number;
}

/** What a worker needs to rebuild the view: the windows, shared, not copied. */
export interface GuestRamViewDescriptor {
  readonly windows: readonly GuestRamWindow[];
}

const HOST_LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function bswap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

/**
 * Guest RAM as page-table walkers see it: SharedArrayBuffer-backed windows
 * at guest-physical bases, readable on the main thread and in workers. Loads
 * of 64-bit entries set `lo` / `hi` (two u32 halves; DESIGN "64-bit values")
 * and return false outside RAM, so a hostile pointer ends in a fault, never
 * an exception. Addresses are numbers below 2^53. One instance per thread
 * (it remembers the last window used).
 */
export class GuestRamView {
  lo = 0;
  hi = 0;
  private readonly bases: Float64Array;
  private readonly ends: Float64Array;
  private readonly words: Uint32Array[];
  private readonly dvs: DataView[];
  private last = 0;

  constructor(readonly windows: readonly GuestRamWindow[]) {
    const sorted = [...windows].sort((a, b) => a.base - b.base);
    for (const w of sorted) {
      if (w.base % 8 !== 0 || w.offset % 8 !== 0 || !Number.isSafeInteger(w.base + w.size)) {
        throw new RangeError(`guest RAM window at 0x${w.base.toString(16)} is not 8-byte aligned or exceeds 2^53`);
      }
    }
    this.bases = Float64Array.from(sorted, (w) => w.base);
    this.ends = Float64Array.from(sorted, (w) => w.base + w.size);
    this.words = sorted.map((w) => new Uint32Array(w.sab, w.offset, Math.floor(w.size / 4)));
    this.dvs = sorted.map((w) => new DataView(w.sab, w.offset, w.size));
    this.windows = sorted;
  }

  /** The RAM ranges of an address space's flat view (system memory), as windows. */
  static fromAddressSpace(as: AddressSpace): GuestRamView {
    const windows: GuestRamWindow[] = [];
    for (const fr of as.view.ranges) {
      if (!(fr.mr instanceof RamRegion)) continue;
      windows.push({ base: fr.startN, size: fr.endN - fr.startN, sab: fr.mr.block.sab, offset: fr.offsetN });
    }
    return new GuestRamView(windows);
  }

  static fromDescriptor(d: GuestRamViewDescriptor): GuestRamView {
    return new GuestRamView(d.windows);
  }

  descriptor(): GuestRamViewDescriptor {
    return { windows: this.windows.map((w) => ({ ...w })) };
  }

  /** Index of the window holding [gpa, gpa + len), or -1. */
  private find(gpa: number, len: number): number {
    const i = this.last;
    if (gpa >= this.bases[i]! && gpa + len <= this.ends[i]!) return i;
    const n = this.bases.length;
    for (let j = 0; j < n; j++) {
      if (gpa >= this.bases[j]! && gpa + len <= this.ends[j]!) {
        this.last = j;
        return j;
      }
    }
    return -1;
  }

  /** Little-endian u64 at an 8-byte-aligned address into lo/hi; false outside RAM or misaligned. */
  ld64le(gpa: number): boolean {
    if (gpa % 8 !== 0) return false;
    const i = this.find(gpa, 8);
    if (i < 0) return false;
    const off = gpa - this.bases[i]!;
    if (HOST_LE) {
      const w = this.words[i]!;
      const k = off / 4;
      this.lo = w[k]!;
      this.hi = w[k + 1]!;
    } else {
      const dv = this.dvs[i]!;
      this.lo = dv.getUint32(off, true);
      this.hi = dv.getUint32(off + 4, true);
    }
    return true;
  }

  /** Big-endian u64 (sPAPR TCEs) at an 8-byte-aligned address into lo/hi. */
  ld64be(gpa: number): boolean {
    if (!this.ld64le(gpa)) return false;
    const lo = this.lo;
    this.lo = bswap32(this.hi);
    this.hi = bswap32(lo);
    return true;
  }

  /** Little-endian u32 at a 4-byte-aligned address, or -1. */
  ld32le(gpa: number): number {
    if (gpa % 4 !== 0) return -1;
    const i = this.find(gpa, 4);
    if (i < 0) return -1;
    return this.dvs[i]!.getUint32(gpa - this.bases[i]!, true);
  }

  /** Stores a little-endian u64 (page-table set-up by a synthetic guest or a test); false outside RAM. */
  st64le(gpa: number, lo: number, hi: number): boolean {
    if (gpa % 8 !== 0) return false;
    const i = this.find(gpa, 8);
    if (i < 0) return false;
    const dv = this.dvs[i]!;
    const off = gpa - this.bases[i]!;
    dv.setUint32(off, lo >>> 0, true);
    dv.setUint32(off + 4, hi >>> 0, true);
    return true;
  }

  /** True when [gpa, gpa + len) lies in one RAM window. */
  contains(gpa: number, len: number): boolean {
    return this.find(gpa, len) >= 0;
  }
}
