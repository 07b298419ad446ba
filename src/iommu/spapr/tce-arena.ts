import type { GuestRamWindow } from '../walk/guest-ram-view.js';

/**
 * Where TCE tables live: hypervisor memory, not guest RAM (QEMU allocates
 * them with g_new0, or KVM does). Tables sit in one SharedArrayBuffer that
 * the translation engine and its workers see as an extra RAM window at
 * TCE_ARENA_BASE, above every guest-physical address (guests here have at
 * most 52 address bits), so `tceWalk` reads entries as it reads any table,
 * and no guest access can reach them. Entries are u64 in host (little-
 * endian) order, as QEMU keeps them.
 *
 * The buffer is reserved, not committed: pages the kernel never saw
 * written cost nothing, so a large window whose TCEs are sparse stays
 * cheap. Runs of entries are handed out first-fit from a free list;
 * a released run must already be zero (the table zeroes what it wrote).
 */
export const TCE_ARENA_BASE = 2 ** 52;
/** Default arena: 1 GiB of address space, 2^27 TCEs for all windows of the machine together. */
export const TCE_ARENA_DEFAULT_BYTES = 2 ** 30;

export class TceArena {
  readonly sab: SharedArrayBuffer;
  readonly words: Uint32Array;
  readonly entries: number;
  /** Free runs in entries, sorted by start, coalesced. */
  private readonly free: { start: number; count: number }[];
  private used = 0;

  constructor(bytes = TCE_ARENA_DEFAULT_BYTES) {
    if (!Number.isInteger(bytes) || bytes % 4096 !== 0 || bytes <= 0) throw new RangeError(`TCE arena size ${bytes} is not a multiple of 4096`);
    this.sab = new SharedArrayBuffer(bytes);
    this.words = new Uint32Array(this.sab);
    this.entries = bytes / 8;
    this.free = [{ start: 0, count: this.entries }];
  }

  /** The RAM window the engine reads tables through. */
  get window(): GuestRamWindow {
    return { base: TCE_ARENA_BASE, size: this.sab.byteLength, sab: this.sab, offset: 0 };
  }

  /** Entries handed out now. */
  get usedEntries(): number {
    return this.used;
  }

  /** A zeroed run of `count` entries, 512-aligned (one 4 KiB page); its first entry's index, or -1 when none is free. */
  alloc(count: number): number {
    const need = Math.ceil(count / 512) * 512;
    for (let i = 0; i < this.free.length; i++) {
      const r = this.free[i]!;
      if (r.count < need) continue;
      const start = r.start;
      r.start += need;
      r.count -= need;
      if (r.count === 0) this.free.splice(i, 1);
      this.used += need;
      return start;
    }
    return -1;
  }

  /** Returns a run (already zeroed by its user) to the free list. */
  release(start: number, count: number): void {
    const n = Math.ceil(count / 512) * 512;
    this.used -= n;
    let i = 0;
    while (i < this.free.length && this.free[i]!.start < start) i++;
    this.free.splice(i, 0, { start, count: n });
    this.merge(i);
    this.merge(i - 1);
  }

  /** Joins free run j with the next one when they touch. */
  private merge(j: number): void {
    if (j < 0 || j + 1 >= this.free.length) return;
    const a = this.free[j]!;
    const b = this.free[j + 1]!;
    if (a.start + a.count !== b.start) return;
    a.count += b.count;
    this.free.splice(j + 1, 1);
  }

  /** The engine-visible address of entry `index`. */
  static address(index: number): number {
    return TCE_ARENA_BASE + index * 8;
  }
}
