/**
 * What an unmap collected for invalidation (Linux struct
 * iommu_iotlb_gather): the IOVA range [start, end] (end inclusive), the page
 * size, and `queued` when a flush queue will invalidate later (lazy mode),
 * in which case drivers skip per-range invalidation.
 */
export class IotlbGather {
  start = Number.MAX_SAFE_INTEGER;
  end = 0;
  pgsize = 0;
  queued = false;

  /** Set by the core: runs iommu_iotlb_sync on this gather (used when a page does not fit the gathered range). */
  constructor(private readonly syncNow: (g: IotlbGather) => void = () => {}) {}

  get empty(): boolean {
    return this.start === Number.MAX_SAFE_INTEGER;
  }

  /** iommu_iotlb_gather_add_range. */
  addRange(iova: number, size: number): void {
    const end = iova + size - 1;
    if (this.start > iova) this.start = iova;
    if (this.end < end) this.end = end;
  }

  /** iommu_iotlb_gather_is_disjoint. */
  isDisjoint(iova: number, size: number): boolean {
    return !this.empty && (iova + size < this.start || iova > this.end + 1);
  }

  /**
   * iommu_iotlb_gather_add_page: a page of a different size, or one that
   * would leave a hole in the range, first syncs what was gathered.
   */
  addPage(iova: number, size: number): void {
    if (!this.queued && ((this.pgsize && this.pgsize !== size) || this.isDisjoint(iova, size))) this.syncNow(this);
    this.pgsize = size;
    this.addRange(iova, size);
  }

  /** iommu_iotlb_gather_init, after a sync. */
  reset(): void {
    this.start = Number.MAX_SAFE_INTEGER;
    this.end = 0;
    this.pgsize = 0;
  }
}
