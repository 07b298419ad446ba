/** A mapping a MAP notifier was told about (QEMU DMAMap: size is the inclusive mask). */
export interface DmaMap {
  readonly iova: number;
  readonly size: number;
  readonly translated: number;
  readonly perm: number;
}

/**
 * The per-address-space IOVA tree of QEMU's shadow page-table sync
 * (util/iova-tree.c as hw/i386/intel_iommu.c uses it): the mappings MAP
 * notifiers currently hold, so that a resync skips MAPs it already sent,
 * turns a changed translation into UNMAP + MAP, and skips UNMAPs of ranges
 * never mapped. Ranges do not overlap; kept sorted by IOVA (below 2^53:
 * VT-d IOVAs are at most 48 bits).
 */
export class IovaTree {
  private readonly maps: DmaMap[] = [];

  get size(): number {
    return this.maps.length;
  }

  /** Index of the first map whose last byte is at or above `iova`. */
  private lowerBound(iova: number): number {
    let lo = 0;
    let hi = this.maps.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const m = this.maps[mid]!;
      if (m.iova + m.size < iova) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** iova_tree_find: a map overlapping [iova, iova + size], if any. */
  find(iova: number, size: number): DmaMap | undefined {
    const m = this.maps[this.lowerBound(iova)];
    return m && m.iova <= iova + size ? m : undefined;
  }

  /** iova_tree_insert: refused (false) when it overlaps an existing map. */
  insert(map: DmaMap): boolean {
    const i = this.lowerBound(map.iova);
    const m = this.maps[i];
    if (m && m.iova <= map.iova + map.size) return false;
    this.maps.splice(i, 0, map);
    return true;
  }

  /** iova_tree_remove: every map overlapping [iova, iova + size]. */
  remove(iova: number, size: number): void {
    const i = this.lowerBound(iova);
    let j = i;
    while (j < this.maps.length && this.maps[j]!.iova <= iova + size) j++;
    if (j > i) this.maps.splice(i, j - i);
  }

  clear(): void {
    this.maps.length = 0;
  }

  list(): readonly DmaMap[] {
    return this.maps;
  }
}
