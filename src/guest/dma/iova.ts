/**
 * An IOVA allocator per DMA domain, after Linux drivers/iommu/iova.c:
 * ranges of page frame numbers, allocated top-down below a limit
 * (alloc_iova with size_aligned: aligned to the size rounded up to a power
 * of two), never below `startPfn` (IOVA 0 is not handed out), with reserved
 * ranges that allocation skips. Linux's per-CPU range caches are not
 * modelled: a freed range is simply free again.
 */
export interface IovaRange {
  /** First and last page frame, inclusive. */
  lo: number;
  hi: number;
  readonly reserved: boolean;
}

/** Linux IOVA_RANGE_CACHE_MAX_SIZE: sizes below 1 << (6 - 1) pages are rounded up to a power of two. */
export const IOVA_RANGE_CACHE_MAX_SIZE = 6;

function roundupPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export class IovaDomain {
  /** Allocated and reserved ranges, sorted by `lo`, non-overlapping. */
  private readonly ranges: IovaRange[] = [];

  constructor(readonly granule: number, readonly startPfn: number) {
    if (granule <= 0 || (granule & (granule - 1)) !== 0) throw new RangeError(`IOVA granule ${granule} is not a power of two`);
  }

  get shift(): number {
    return Math.log2(this.granule);
  }
  get allocated(): readonly IovaRange[] {
    return this.ranges;
  }

  private indexAfter(pfn: number): number {
    let lo = 0;
    let hi = this.ranges.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ranges[mid]!.lo <= pfn) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * alloc_iova: `size` pages at the highest aligned position whose last page
   * is at or below `limitPfn`. Returns the first pfn, or 0 when nothing fits.
   */
  alloc(size: number, limitPfn: number, sizeAligned = true): number {
    if (size <= 0) return 0;
    const align = sizeAligned ? roundupPow2(size) : 1;
    let high = limitPfn + 1;
    for (let i = this.ranges.length - 1; i >= -1; i--) {
      const r = this.ranges[i];
      if (r && r.lo >= high) continue;
      const cand = Math.floor((high - size) / align) * align;
      const floor = r ? r.hi + 1 : this.startPfn;
      if (high - size >= 0 && cand >= floor && cand >= this.startPfn) {
        this.ranges.splice(i + 1, 0, { lo: cand, hi: cand + size - 1, reserved: false });
        return cand;
      }
      if (!r) break;
      high = Math.min(high, r.lo);
    }
    return 0;
  }

  /** alloc_iova_fast: small sizes rounded up to a power of two, as the range caches need. */
  allocFast(size: number, limitPfn: number): number {
    const n = size < 1 << (IOVA_RANGE_CACHE_MAX_SIZE - 1) ? roundupPow2(size) : size;
    return this.alloc(n, limitPfn, true);
  }

  /** find_iova: the range containing `pfn`. */
  find(pfn: number): IovaRange | undefined {
    const i = this.indexAfter(pfn) - 1;
    const r = this.ranges[i];
    return r && pfn <= r.hi ? r : undefined;
  }

  /** free_iova: frees the allocation containing `pfn` (reserved ranges stay). Returns its size in pages, 0 if none. */
  free(pfn: number): number {
    const i = this.indexAfter(pfn) - 1;
    const r = this.ranges[i];
    if (!r || pfn > r.hi || r.reserved) return 0;
    this.ranges.splice(i, 1);
    return r.hi - r.lo + 1;
  }

  /**
   * reserve_iova: [loPfn, hiPfn] is never allocated (MSI window, PCI host
   * windows). Reservations are made when the domain is set up; they merge
   * with reservations they touch and must not overlap allocations.
   */
  reserve(loPfn: number, hiPfn: number): void {
    if (hiPfn < loPfn) return;
    let lo = loPfn;
    let hi = hiPfn;
    for (let i = this.ranges.length - 1; i >= 0; i--) {
      const r = this.ranges[i]!;
      if (r.hi < lo - 1 || r.lo > hi + 1) continue;
      if (!r.reserved) {
        if (r.hi >= lo && r.lo <= hi) throw new RangeError(`reservation [${loPfn}, ${hiPfn}] overlaps an allocated IOVA range`);
        continue;
      }
      lo = Math.min(lo, r.lo);
      hi = Math.max(hi, r.hi);
      this.ranges.splice(i, 1);
    }
    this.ranges.splice(this.indexAfter(lo), 0, { lo, hi, reserved: true });
  }
}
