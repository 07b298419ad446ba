import { AliasRegion, type MemoryRegion } from './region.js';

/**
 * One range of a rendered flat view (QEMU FlatRange). The bigint fields are
 * exact (they are what listeners and `info mtree -f` see); the number fields
 * serve the dispatch hot path.
 */
export interface FlatRange {
  readonly mr: MemoryRegion;
  readonly start: bigint;
  readonly size: bigint;
  readonly offsetInRegion: bigint;
  readonly readonly: boolean;
  readonly nonvolatile: boolean;
  /** Number forms: start, exclusive end, offset in region. */
  readonly startN: number;
  readonly endN: number;
  readonly offsetN: number;
}

interface MutableRange {
  mr: MemoryRegion;
  start: bigint;
  size: bigint;
  offsetInRegion: bigint;
  readonly: boolean;
  nonvolatile: boolean;
}

/**
 * QEMU's render_memory_region: depth-first from the root, subregions in
 * priority order, each terminating region filling only the gaps left so far.
 */
function render(ranges: MutableRange[], mr: MemoryRegion, base: bigint, clipStart: bigint, clipEnd: bigint,
  readonly: boolean, nonvolatile: boolean): void {
  if (!mr.enabled) return;
  base += mr.addr;
  readonly ||= mr.readonly;
  nonvolatile ||= mr.nonvolatile;
  const s = base > clipStart ? base : clipStart;
  const e = base + mr.size < clipEnd ? base + mr.size : clipEnd;
  if (s >= e) return;
  if (mr instanceof AliasRegion) {
    render(ranges, mr.target, base - mr.target.addr - mr.aliasOffset, s, e, readonly, nonvolatile);
    return;
  }
  for (const sub of mr.subregions) render(ranges, sub, base, s, e, readonly, nonvolatile);
  if (!mr.terminates) return;
  let offset = s - base;
  let cur = s;
  let remain = e - s;
  let i = 0;
  for (; i < ranges.length && remain > 0n; i++) {
    const r = ranges[i]!;
    const rEnd = r.start + r.size;
    if (cur >= rEnd) continue;
    if (cur < r.start) {
      const now = remain < r.start - cur ? remain : r.start - cur;
      ranges.splice(i, 0, { mr, start: cur, size: now, offsetInRegion: offset, readonly, nonvolatile });
      i++;
      cur += now;
      offset += now;
      remain -= now;
    }
    const upto = cur + remain < rEnd ? cur + remain : rEnd;
    const now = upto - cur;
    cur += now;
    offset += now;
    remain -= now;
  }
  if (remain > 0n) ranges.splice(i, 0, { mr, start: cur, size: remain, offsetInRegion: offset, readonly, nonvolatile });
}

/** flatview_simplify: merges neighbours that continue the same region. */
function simplify(ranges: MutableRange[]): MutableRange[] {
  const out: MutableRange[] = [];
  for (const r of ranges) {
    const p = out[out.length - 1];
    if (p && p.mr === r.mr && p.start + p.size === r.start && p.offsetInRegion + p.size === r.offsetInRegion
      && p.readonly === r.readonly && p.nonvolatile === r.nonvolatile) {
      p.size += r.size;
    } else {
      out.push({ ...r });
    }
  }
  return out;
}

/** A rendered view of one root region, with O(log n) lookup. */
export class FlatView {
  readonly ranges: readonly FlatRange[];
  private readonly starts: Float64Array;

  constructor(readonly root: MemoryRegion | null) {
    const raw: MutableRange[] = [];
    if (root) render(raw, root, 0n, 0n, 1n << 64n, false, false);
    this.ranges = simplify(raw).map((r) => ({
      ...r,
      startN: Number(r.start),
      endN: Number(r.start + r.size),
      offsetN: Number(r.offsetInRegion),
    }));
    this.starts = Float64Array.from(this.ranges, (r) => r.startN);
  }

  /** The range containing `addr` (a number below 2^53), or undefined. */
  lookup(addr: number): FlatRange | undefined {
    const starts = this.starts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid]! <= addr) lo = mid + 1;
      else hi = mid - 1;
    }
    if (hi < 0) return undefined;
    const r = this.ranges[hi]!;
    return addr < r.endN ? r : undefined;
  }

  /** Exact lookup for control-path addresses that may exceed 2^53. */
  lookupBig(addr: bigint): FlatRange | undefined {
    let lo = 0;
    let hi = this.ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ranges[mid]!.start <= addr) lo = mid + 1;
      else hi = mid - 1;
    }
    if (hi < 0) return undefined;
    const r = this.ranges[hi]!;
    return addr < r.start + r.size ? r : undefined;
  }
}

export function flatRangeEqual(a: FlatRange, b: FlatRange): boolean {
  return a.mr === b.mr && a.start === b.start && a.size === b.size && a.offsetInRegion === b.offsetInRegion
    && a.readonly === b.readonly && a.nonvolatile === b.nonvolatile;
}

/**
 * memory_region_get_flatview_root: address spaces whose roots render the
 * same region share one flat view (and one "FlatView #n" in info mtree -f).
 */
export function flatViewRoot(mr: MemoryRegion | null): MemoryRegion | null {
  while (mr && mr.enabled) {
    if (mr instanceof AliasRegion) {
      if (mr.aliasOffset === 0n && mr.size >= mr.target.size) {
        mr = mr.target;
        continue;
      }
    } else if (!mr.terminates) {
      let found = 0;
      let next: MemoryRegion | null = null;
      for (const child of mr.subregions) {
        if (!child.enabled) continue;
        if (++found > 1) {
          next = null;
          break;
        }
        if (child.addr === 0n && mr.size >= child.size) next = child;
      }
      if (found === 0) return null;
      if (next) {
        mr = next;
        continue;
      }
    }
    return mr;
  }
  return null;
}
