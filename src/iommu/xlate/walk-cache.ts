import { POW2 } from '../walk/walk-result.js';

/**
 * A paging-structure cache (VT-d spec 6.2.4 "paging-structure caches"; the
 * SMMU "walk cache"): for a context and an IOVA region it remembers the
 * last-level table and the permission of the levels above it, so that an
 * IOTLB miss reads one entry instead of four. Direct-mapped, private to one
 * thread (like its IOTLB), invalidated with it: every invalidation that
 * reaches the IOTLB also drops the overlapping walk-cache entries, which is
 * what VT-d PSI (IH = 0), DSI and global invalidations and SMMU TLBI do.
 */
export class WalkCache {
  readonly size: number;
  private readonly mask: number;
  private readonly tagCtx: Int32Array;
  /** Region number (iova >> shift), -1 when invalid. */
  private readonly tagRegion: Float64Array;
  private readonly shiftOf: Int32Array;
  /** Table address halves (u32 bit patterns) and the permission above the table. */
  readonly tableLo: Int32Array;
  readonly tableHi: Int32Array;
  readonly perm: Int32Array;

  constructor(size = 1024) {
    let n = 1;
    while (n < size) n *= 2;
    this.size = n;
    this.mask = n - 1;
    this.tagCtx = new Int32Array(n);
    this.tagRegion = new Float64Array(n).fill(-1);
    this.shiftOf = new Int32Array(n);
    this.tableLo = new Int32Array(n);
    this.tableHi = new Int32Array(n);
    this.perm = new Int32Array(n);
  }

  private index(ctx: number, region: number): number {
    return ((region | 0) ^ Math.imul(ctx, 0x9e3779b1)) & this.mask;
  }

  /** The slot caching the table of `region` (iova >> shift) for `ctx`, or -1. */
  lookup(ctx: number, region: number, shift: number): number {
    const i = this.index(ctx, region);
    return this.tagRegion[i] === region && this.tagCtx[i] === ctx && this.shiftOf[i] === shift ? i : -1;
  }

  insert(ctx: number, region: number, shift: number, tlo: number, thi: number, perm: number): void {
    const i = this.index(ctx, region);
    this.tagCtx[i] = ctx;
    this.tagRegion[i] = region;
    this.shiftOf[i] = shift;
    this.tableLo[i] = tlo;
    this.tableHi[i] = thi;
    this.perm[i] = perm;
  }

  /** Drops entries of `ctx` (null: any) whose region overlaps [start, start + size). */
  invalidateRange(ctx: number | null, start: number, size: number): void {
    const end = start + size;
    for (let i = 0; i < this.size; i++) {
      const r = this.tagRegion[i]!;
      if (r < 0 || (ctx !== null && this.tagCtx[i] !== ctx)) continue;
      const rs = POW2[this.shiftOf[i]!]!;
      if (r * rs < end && (r + 1) * rs > start) this.tagRegion[i] = -1;
    }
  }

  invalidateContext(ctx: number): void {
    for (let i = 0; i < this.size; i++) if (this.tagCtx[i] === ctx) this.tagRegion[i] = -1;
  }

  invalidateAll(): void {
    this.tagRegion.fill(-1);
  }
}
