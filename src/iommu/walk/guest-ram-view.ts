import { bswap32 } from '../../memory/bswap.js';
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

/** A piece of a window inside one 4 GiB-aligned span: guest address = hi * 2^32 + lo. */
interface Segment {
  readonly hi: number;
  readonly lo: number;
  readonly end: number;
  readonly mem: Uint32Array;
}

const HOST_LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Guest RAM as page-table walkers see it: SharedArrayBuffer-backed windows
 * at guest-physical bases, readable on the main thread and in workers.
 *
 * Hot path: `entry(lo, hi)` takes a guest address as two u32 halves (as
 * walkers get them from 64-bit entries; DESIGN "64-bit values") and returns
 * the index in `mem` of its first u32 (the entry's low half, then its high
 * half: little-endian, guest order), or -1 outside RAM, so that a hostile
 * pointer ends in a fault, never an exception. Everything stays int32
 * arithmetic. One instance per thread (it remembers the last segment).
 */
export class GuestRamView {
  /** The u32 words of the segment the last `entry` hit. */
  mem: Uint32Array;
  /** Results of ld64le / ld64be. */
  lo = 0;
  hi = 0;
  private readonly segments: Segment[] = [];
  private readonly dvs: { base: number; end: number; dv: DataView }[];
  private curHi = 0;
  private curLo = 0;
  /** Last address in the current segment where an 8-byte entry fits. */
  private curLast = 0;

  constructor(readonly windows: readonly GuestRamWindow[]) {
    if (!HOST_LE) throw new Error('guest RAM views need a little-endian host');
    for (const w of windows) {
      if (w.base % 8 !== 0 || w.offset % 8 !== 0 || w.size % 8 !== 0 || !Number.isSafeInteger(w.base + w.size)) {
        throw new RangeError(`guest RAM window at 0x${w.base.toString(16)} is not 8-byte aligned or exceeds 2^53`);
      }
      for (let a = w.base; a < w.base + w.size;) {
        const hi = Math.floor(a / 0x1_0000_0000);
        const end = Math.min(w.base + w.size, (hi + 1) * 0x1_0000_0000);
        const mem = new Uint32Array(w.sab, w.offset + (a - w.base), (end - a) / 4);
        this.segments.push({ hi: hi | 0, lo: (a - hi * 0x1_0000_0000) >>> 0, end: end - hi * 0x1_0000_0000, mem });
        a = end;
      }
    }
    this.dvs = windows.map((w) => ({ base: w.base, end: w.base + w.size, dv: new DataView(w.sab, w.offset, w.size) }));
    this.mem = new Uint32Array(0);
    if (this.segments.length > 0) this.select(this.segments[0]!);
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

  /** Small integers stay Smis (`| 0`, `>>> 0`): double-typed fields would make every check a float compare. */
  private select(s: Segment): void {
    this.mem = s.mem;
    this.curHi = s.hi | 0;
    this.curLo = s.lo >>> 0;
    this.curLast = (s.end - 8) >>> 0;
  }

  /**
   * Index in `mem` of the entry at hi * 2^32 + lo (8-byte aligned: walkers
   * compute entry addresses from aligned tables), or -1 outside RAM.
   */
  entry(lo: number, hi: number): number {
    if (hi === this.curHi && lo >= this.curLo && lo <= this.curLast) return (lo - this.curLo) >>> 2;
    return this.entrySlow(lo, hi);
  }

  private entrySlow(lo: number, hi: number): number {
    for (const s of this.segments) {
      if (s.hi === hi && lo >= s.lo && lo + 8 <= s.end) {
        this.select(s);
        return (lo - s.lo) >>> 2;
      }
    }
    return -1;
  }

  /** Little-endian u64 at an 8-byte-aligned address into lo/hi; false outside RAM or misaligned. */
  ld64le(gpa: number): boolean {
    if (!(gpa >= 0 && gpa < 2 ** 53) || (gpa & 7) !== 0) return false;
    const lo = gpa >>> 0;
    const k = this.entry(lo, (gpa - lo) / 0x1_0000_0000);
    if (k < 0) return false;
    this.lo = this.mem[k]!;
    this.hi = this.mem[k + 1]!;
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

  private dvAt(gpa: number, len: number): { dv: DataView; off: number } | null {
    for (const d of this.dvs) if (gpa >= d.base && gpa + len <= d.end) return { dv: d.dv, off: gpa - d.base };
    return null;
  }

  /** Little-endian u32 at any address, or -1 (control path). */
  ld32le(gpa: number): number {
    const a = this.dvAt(gpa, 4);
    return a ? a.dv.getUint32(a.off, true) : -1;
  }

  /** Stores a little-endian u64 (table set-up by a synthetic guest or a test); false outside RAM. */
  st64le(gpa: number, lo: number, hi: number): boolean {
    const a = this.dvAt(gpa, 8);
    if (!a) return false;
    a.dv.setUint32(a.off, lo >>> 0, true);
    a.dv.setUint32(a.off + 4, hi >>> 0, true);
    return true;
  }

  /** True when [gpa, gpa + len) lies in one RAM window. */
  contains(gpa: number, len: number): boolean {
    return this.dvAt(gpa, len) !== null;
  }
}
