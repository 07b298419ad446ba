/**
 * The guest's own record of one domain's mappings, with their history:
 * live (mapped), pending (unmapped, invalidation not yet complete) and dead
 * (invalidation completed at a known virtual time). Extents are split when
 * an unmap or invalidation covers part of one.
 */
export class MappingRecord {
  constructor(
    readonly iova: number,
    readonly size: number,
    readonly paddr: number,
    readonly perm: number,
    readonly mappedAt: number,
    /** Virtual time of the unmap, -1 while mapped. */
    readonly unmappedAt = -1,
    /** Virtual time the invalidation completed, -1 until then. */
    readonly invalidatedAt = -1,
  ) {}

  with(unmappedAt: number, invalidatedAt: number): MappingRecord {
    return new MappingRecord(this.iova, this.size, this.paddr, this.perm, this.mappedAt, unmappedAt, invalidatedAt);
  }
}

const PAGE = 4096;
/** Dead extents up to this many pages are indexed per page; larger ones are kept in a short list. */
const INDEXED_PAGES = 256;
const MAX_LARGE_DEAD = 1024;
/** Dead extents remembered per page, newest last. */
const PER_PAGE_HISTORY = 32;

function slice(r: MappingRecord, start: number, end: number): MappingRecord {
  const s = Math.max(start, r.iova);
  const e = Math.min(end, r.iova + r.size);
  return new MappingRecord(s, e - s, r.paddr + (s - r.iova), r.perm, r.mappedAt, r.unmappedAt, r.invalidatedAt);
}

function overlaps(r: MappingRecord, start: number, end: number): boolean {
  return r.iova < end && start < r.iova + r.size;
}

/** Parts of `r` outside [start, end). */
function outside(r: MappingRecord, start: number, end: number): MappingRecord[] {
  const out: MappingRecord[] = [];
  if (r.iova < start) out.push(slice(r, r.iova, start));
  if (r.iova + r.size > end) out.push(slice(r, end, r.iova + r.size));
  return out;
}

export class DomainView {
  /** Sorted by iova, non-overlapping. */
  private live: MappingRecord[] = [];
  private pending: MappingRecord[] = [];
  private readonly deadByPage = new Map<number, MappingRecord[]>();
  private readonly deadLarge: MappingRecord[] = [];
  freedAt: number | undefined;

  get liveCount(): number {
    return this.live.length;
  }
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Index of the first live extent that ends after `addr`. */
  private firstEndingAfter(addr: number): number {
    let lo = 0;
    let hi = this.live.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const r = this.live[mid]!;
      if (r.iova + r.size <= addr) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Removes live coverage of [iova, end): the overlapping extents are cut,
   * their parts outside stay live, their parts inside go to `gone`.
   * Returns the index where [iova, end) now fits.
   */
  private cutLive(iova: number, end: number, gone: (r: MappingRecord) => void): number {
    const first = this.firstEndingAfter(iova);
    let last = first;
    while (last < this.live.length && this.live[last]!.iova < end) last++;
    if (last === first) return first;
    const keep: MappingRecord[] = [];
    for (let k = first; k < last; k++) {
      const r = this.live[k]!;
      gone(slice(r, iova, end));
      keep.push(...outside(r, iova, end));
    }
    this.live.splice(first, last - first, ...keep);
    return first + (keep.length > 0 && keep[0]!.iova < iova ? 1 : 0);
  }

  map(iova: number, paddr: number, size: number, perm: number, t: number): void {
    // Replaced without an unmap (a TCE overwrite): the old translation is gone once the map completed.
    const at = this.cutLive(iova, iova + size, (r) => this.bury(r.with(t, t)));
    this.live.splice(at, 0, new MappingRecord(iova, size, paddr, perm, t));
  }

  unmap(iova: number, size: number, t: number): void {
    this.cutLive(iova, iova + size, (r) => this.pending.push(r.with(t, -1)));
  }

  /** Invalidation of [start, end] (inclusive) completed at `t`. */
  invalidate(start: number, endIncl: number, t: number): void {
    const end = endIncl + 1;
    const keep: MappingRecord[] = [];
    for (const r of this.pending) {
      if (!overlaps(r, start, end)) {
        keep.push(r);
        continue;
      }
      keep.push(...outside(r, start, end));
      this.bury(slice(r, start, end).with(r.unmappedAt, t));
    }
    this.pending = keep;
  }

  invalidateAll(t: number): void {
    for (const r of this.pending) this.bury(r.with(r.unmappedAt, t));
    this.pending = [];
  }

  /** The domain was freed: nothing of it may be used any more. */
  free(t: number): void {
    for (const r of this.live) this.bury(r.with(t, t));
    this.live = [];
    this.invalidateAll(t);
    this.freedAt = t;
  }

  private bury(r: MappingRecord): void {
    const pages = Math.ceil(r.size / PAGE);
    if (pages <= INDEXED_PAGES) {
      for (let p = Math.floor(r.iova / PAGE); p * PAGE < r.iova + r.size; p++) {
        let list = this.deadByPage.get(p);
        if (!list) this.deadByPage.set(p, (list = []));
        list.push(r);
        if (list.length > PER_PAGE_HISTORY) list.shift();
      }
    } else {
      this.deadLarge.push(r);
      if (this.deadLarge.length > MAX_LARGE_DEAD) this.deadLarge.shift();
    }
  }

  findLive(addr: number): MappingRecord | undefined {
    let lo = 0;
    let hi = this.live.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = this.live[mid]!;
      if (addr < r.iova) hi = mid - 1;
      else if (addr >= r.iova + r.size) lo = mid + 1;
      else return r;
    }
    return undefined;
  }

  findPending(addr: number): MappingRecord | undefined {
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const r = this.pending[i]!;
      if (addr >= r.iova && addr < r.iova + r.size) return r;
    }
    return undefined;
  }

  /** Invalidated extents covering `addr`, newest first. */
  deadAt(addr: number): MappingRecord[] {
    const within = (r: MappingRecord): boolean => addr >= r.iova && addr < r.iova + r.size;
    const out = [...(this.deadByPage.get(Math.floor(addr / PAGE)) ?? []).filter(within), ...this.deadLarge.filter(within)];
    return out.sort((a, b) => b.invalidatedAt - a.invalidatedAt);
  }

  /** The most recently invalidated extent covering `addr`. */
  findDead(addr: number): MappingRecord | undefined {
    return this.deadAt(addr)[0];
  }

  /** The most recent invalidated extent covering `addr` whose old target was `gpa`. */
  findDeadTarget(addr: number, gpa: number): MappingRecord | undefined {
    return this.deadAt(addr).find((r) => r.paddr + (addr - r.iova) === gpa);
  }
}
