import { ConfigError } from '../base/config-error.js';

interface Block {
  base: number;
  size: number;
}

export const PAGE_SIZE = 4096;

/**
 * The guest's physical memory allocator (a memblock-style free list over
 * the RAM ranges the machine reports). Allocations are page-granular,
 * first fit from the bottom, optionally below a limit (a DMA zone, the
 * ACPI FSEG zone).
 */
export class PageAllocator {
  private free: Block[] = [];
  private used = 0;

  constructor(ranges: readonly { base: number; size: number }[], reserved: readonly { base: number; size: number }[] = []) {
    for (const r of ranges) {
      if (r.size <= 0) continue;
      const base = Math.ceil(r.base / PAGE_SIZE) * PAGE_SIZE;
      const end = Math.floor((r.base + r.size) / PAGE_SIZE) * PAGE_SIZE;
      if (end > base) this.release(base, end - base);
    }
    for (const r of reserved) this.reserve(r.base, r.size);
    if (this.free.length === 0) throw new ConfigError('ramRanges', 'the machine reports no usable guest RAM');
  }

  get bytesFree(): number {
    return this.free.reduce((s, b) => s + b.size, 0);
  }
  get bytesUsed(): number {
    return this.used;
  }

  /** Removes [base, base+size) from the free list (firmware, the kernel image). */
  reserve(base: number, size: number): void {
    const start = Math.floor(base / PAGE_SIZE) * PAGE_SIZE;
    const end = Math.ceil((base + size) / PAGE_SIZE) * PAGE_SIZE;
    const out: Block[] = [];
    for (const b of this.free) {
      const bEnd = b.base + b.size;
      if (bEnd <= start || b.base >= end) {
        out.push(b);
        continue;
      }
      if (b.base < start) out.push({ base: b.base, size: start - b.base });
      if (bEnd > end) out.push({ base: end, size: bEnd - end });
    }
    this.free = out;
  }

  /**
   * Allocates `size` bytes (rounded up to pages) aligned to `align` (a power
   * of two, at least a page), ending at or below `limit` (exclusive end).
   * Returns undefined when nothing fits (the guest sees -ENOMEM).
   */
  alloc(size: number, align = PAGE_SIZE, limit = Number.MAX_SAFE_INTEGER): number | undefined {
    const len = Math.max(PAGE_SIZE, Math.ceil(size / PAGE_SIZE) * PAGE_SIZE);
    const al = Math.max(PAGE_SIZE, align);
    for (let i = 0; i < this.free.length; i++) {
      const b = this.free[i]!;
      const start = Math.ceil(b.base / al) * al;
      if (start + len > b.base + b.size || start + len > limit) continue;
      const pieces: Block[] = [];
      if (start > b.base) pieces.push({ base: b.base, size: start - b.base });
      if (start + len < b.base + b.size) pieces.push({ base: start + len, size: b.base + b.size - start - len });
      this.free.splice(i, 1, ...pieces);
      this.used += len;
      return start;
    }
    return undefined;
  }

  /** Returns an allocation to the free list. */
  freePages(base: number, size: number): void {
    const len = Math.max(PAGE_SIZE, Math.ceil(size / PAGE_SIZE) * PAGE_SIZE);
    this.used -= len;
    this.release(base, len);
  }

  private release(base: number, size: number): void {
    let i = 0;
    while (i < this.free.length && this.free[i]!.base < base) i++;
    this.free.splice(i, 0, { base, size });
    // Coalesce with neighbours.
    const merged: Block[] = [];
    for (const b of this.free) {
      const last = merged[merged.length - 1];
      if (last && last.base + last.size === b.base) last.size += b.size;
      else merged.push({ ...b });
    }
    this.free = merged;
  }
}
