/**
 * The host IOMMU behind an assigned device, as the VFIO container sees it
 * (Linux drivers/vfio/vfio_iommu_type1.c and vfio_iommu_spapr_tce.c): the
 * mappings QEMU's vfio listener made, keyed by bus address (IOVA), each to
 * a guest-physical address with read/write permission. The device's DMA is
 * translated here and nowhere else: what the shadow lacks, the device
 * cannot reach.
 *
 * Two host flavours, as the two VFIO IOMMU drivers behave:
 * - 'type1': one aperture for all IOVAs; VFIO_IOMMU_MAP_DMA over an
 *   existing mapping fails with -EEXIST (vfio_dma_do_map), so a vIOMMU must
 *   UNMAP before it re-MAPs (VT-d's shadow sync does).
 * - 'spapr-tce': mappings live in DMA windows that QEMU creates before it
 *   registers the notifier (VFIO_IOMMU_SPAPR_TCE_CREATE, ref
 *   spapr-virtio-iommu.md A9); a MAP outside every window fails with
 *   -ENXIO, and a MAP over an existing entry exchanges the TCE (H_PUT_TCE
 *   may overwrite a valid entry with no UNMAP before it, ref A4).
 *
 * The control path (map, unmap, windows) takes exact bigint ranges, as
 * notifier events carry them; below 2^53 mappings sit in a sorted list of
 * numbers that the DMA fast path searches with no BigInt, above it (the
 * sPAPR 64-bit window at 2^59) in a short exact list.
 */
export type HostIommuKind = 'type1' | 'spapr-tce';
export const HOST_IOMMU_KINDS: readonly HostIommuKind[] = ['type1', 'spapr-tce'];

/** One mapping: [iova, end) -> gpa with IOMMU_RO (1, device reads) / IOMMU_WO (2, device writes). */
export interface ShadowExtent {
  readonly iova: number;
  readonly end: number;
  readonly gpa: number;
  readonly perm: number;
}

/** A mapping at or above 2^53 (sPAPR's 64-bit windows sit at 2^59): exact, looked up off the fast path. */
export interface HighExtent {
  readonly iova: bigint;
  readonly end: bigint;
  readonly gpa: number;
  readonly perm: number;
}

/** A host DMA window (sPAPR): [start, start + size). */
export interface HostWindow {
  readonly start: bigint;
  readonly size: bigint;
  readonly pageSize: number;
}

const EEXIST = 17;
const ENXIO = 6;
const EINVAL = 22;
const EBUSY = 16;
/** Below this, bus addresses are exact numbers and live in the sorted extent list. */
const FAST = 1n << 53n;

export const HOST_IOMMU_ERRNO_NAMES: Readonly<Record<number, string>> = {
  [EEXIST]: 'File exists', [ENXIO]: 'No such device or address', [EINVAL]: 'Invalid argument', [EBUSY]: 'Device or resource busy',
};

export class HostIommu {
  readonly counters = { maps: 0, unmaps: 0, mapErrors: 0, faults: 0, exchanged: 0 };
  /** Below 2^53, sorted by iova, non-overlapping. */
  private extents: ShadowExtent[] = [];
  /** At or above 2^53, sorted, non-overlapping. */
  private high: HighExtent[] = [];
  private readonly wins: HostWindow[] = [];

  constructor(readonly kind: HostIommuKind) {}

  get windows(): readonly HostWindow[] {
    return this.wins;
  }
  /** The mappings, by IOVA, as exact values. */
  get mappings(): readonly HighExtent[] {
    return [...this.extents.map((e) => ({ iova: BigInt(e.iova), end: BigInt(e.end), gpa: e.gpa, perm: e.perm })), ...this.high];
  }
  get mappingCount(): number {
    return this.extents.length + this.high.length;
  }
  /** Bytes mapped. */
  get mappedBytes(): bigint {
    let n = 0n;
    for (const e of this.extents) n += BigInt(e.end - e.iova);
    for (const e of this.high) n += e.end - e.iova;
    return n;
  }

  /** Index of the first (low) extent ending after `addr`. */
  private firstEndingAfter(addr: number): number {
    let lo = 0;
    let hi = this.extents.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.extents[mid]!.end <= addr) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The mapping that translates `iova` (below 2^53), if any: the DMA fast path. */
  lookup(iova: number): ShadowExtent | undefined {
    const e = this.extents[this.firstEndingAfter(iova)];
    return e && e.iova <= iova ? e : undefined;
  }

  /** The mapping that translates an address at or above 2^53, if any. */
  lookupHigh(iova: bigint): HighExtent | undefined {
    return this.high.find((e) => e.iova <= iova && iova < e.end);
  }

  private windowOf(iova: bigint, end: bigint): HostWindow | undefined {
    return this.wins.find((w) => iova >= w.start && end <= w.start + w.size);
  }

  private overlaps(iova: bigint, end: bigint): boolean {
    if (iova < FAST) {
      const i = this.firstEndingAfter(Number(iova));
      const e = this.extents[i];
      if (e && BigInt(e.iova) < end) return true;
    }
    return end > FAST && this.high.some((e) => e.iova < end && iova < e.end);
  }

  /** VFIO_IOMMU_MAP_DMA: 0 or a negative errno (-EINVAL, -EEXIST on type1, -ENXIO outside the sPAPR windows). */
  map(iova: bigint, size: bigint, gpa: bigint, perm: number): number {
    const end = iova + size;
    if (size <= 0n || end > 1n << 64n || gpa + size > FAST || (perm & 3) === 0 || (iova < FAST && end > FAST)) {
      this.counters.mapErrors++;
      return -EINVAL;
    }
    const overlaps = this.overlaps(iova, end);
    if (this.kind === 'spapr-tce') {
      if (!this.windowOf(iova, end)) {
        this.counters.mapErrors++;
        return -ENXIO;
      }
      if (overlaps) {
        this.counters.exchanged++;
        this.cut(iova, end);
      }
    } else if (overlaps) {
      this.counters.mapErrors++;
      return -EEXIST;
    }
    if (end <= FAST) {
      const s = Number(iova);
      this.extents.splice(this.firstEndingAfter(s), 0, { iova: s, end: Number(end), gpa: Number(gpa), perm: perm & 3 });
    } else {
      this.high.push({ iova, end, gpa: Number(gpa), perm: perm & 3 });
      this.high.sort((a, b) => (a.iova < b.iova ? -1 : 1));
    }
    this.counters.maps++;
    return 0;
  }

  /** VFIO_IOMMU_UNMAP_DMA over [iova, iova + size): mappings are cut at the edges; returns bytes unmapped. */
  unmap(iova: bigint, size: bigint): bigint {
    const n = this.cut(iova, iova + size);
    if (n > 0n) this.counters.unmaps++;
    return n;
  }

  /** Removes coverage of [start, end), keeping the parts of cut extents outside it. */
  private cut(start: bigint, end: bigint): bigint {
    let removed = 0n;
    if (start < FAST) {
      const s = Number(start);
      const t = Number(end < FAST ? end : FAST);
      const i = this.firstEndingAfter(s);
      const keep: ShadowExtent[] = [];
      let j = i;
      for (; j < this.extents.length && this.extents[j]!.iova < t; j++) {
        const e = this.extents[j]!;
        const a = Math.max(s, e.iova);
        const b = Math.min(t, e.end);
        removed += BigInt(b - a);
        if (e.iova < a) keep.push({ iova: e.iova, end: a, gpa: e.gpa, perm: e.perm });
        if (e.end > b) keep.push({ iova: b, end: e.end, gpa: e.gpa + (b - e.iova), perm: e.perm });
      }
      if (j > i) this.extents.splice(i, j - i, ...keep);
    }
    if (end > FAST && this.high.length) {
      const out: HighExtent[] = [];
      for (const e of this.high) {
        if (e.end <= start || e.iova >= end) {
          out.push(e);
          continue;
        }
        const a = e.iova > start ? e.iova : start;
        const b = e.end < end ? e.end : end;
        removed += b - a;
        if (e.iova < a) out.push({ ...e, end: a });
        if (e.end > b) out.push({ iova: b, end: e.end, gpa: e.gpa + Number(b - e.iova), perm: e.perm });
      }
      this.high = out;
    }
    return removed;
  }

  /**
   * VFIO_IOMMU_SPAPR_TCE_CREATE as QEMU's vfio_host_win_add checks it: a
   * window overlapping another is refused (QEMU: hw_error "Overlapped
   * IOMMU are not enabled"). Returns 0, -EBUSY, or -EINVAL on type1 (no windows).
   */
  addWindow(start: bigint, size: bigint, pageSize: number): number {
    if (this.kind !== 'spapr-tce') return -EINVAL;
    if (this.wins.some((w) => start < w.start + w.size && w.start < start + size)) return -EBUSY;
    this.wins.push({ start, size, pageSize });
    this.wins.sort((a, b) => (a.start < b.start ? -1 : 1));
    return 0;
  }

  /** VFIO_IOMMU_SPAPR_TCE_REMOVE: the window and whatever it still maps go. */
  removeWindow(start: bigint): number {
    const i = this.wins.findIndex((w) => w.start === start);
    if (i < 0) return -EINVAL;
    const w = this.wins[i]!;
    this.cut(w.start, w.start + w.size);
    this.wins.splice(i, 1);
    return 0;
  }

  /** The container goes (unplug): every mapping and window is dropped. */
  clear(): void {
    this.extents = [];
    this.high = [];
    this.wins.length = 0;
  }
}
