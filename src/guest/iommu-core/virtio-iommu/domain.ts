import { IommuDomain, type IommuDomainOps } from '../driver.js';
import type { DomainType } from '../domain-types.js';
import type { ViommuDev } from './viommu-dev.js';

/** One mapping the driver remembers (Linux struct viommu_mapping). */
export interface ShadowMapping {
  readonly start: number;
  readonly end: number;
  readonly paddr: number;
  readonly flags: number;
}

/**
 * A virtio-iommu domain as the driver sees it (Linux struct viommu_domain):
 * its ID on the device, the mappings it made (kept sorted by start, so that
 * they can be replayed when the domain is attached again after the device
 * dropped it with its last endpoint), and how many endpoints are attached.
 */
export class ViommuDomain extends IommuDomain {
  id = -1;
  viommu: ViommuDev | undefined;
  nrEndpoints = 0;
  bypass = false;
  mapFlags = 0;
  readonly mappings: ShadowMapping[] = [];

  constructor(type: DomainType, ops: IommuDomainOps) {
    super(type, ops);
  }

  /** The index of the first mapping ending at or after `iova` (binary search). */
  private firstEndingAfter(iova: number): number {
    let lo = 0;
    let hi = this.mappings.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.mappings[mid]!.end < iova) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** viommu_add_mapping. */
  add(m: ShadowMapping): void {
    this.mappings.splice(this.firstEndingAfter(m.start), 0, m);
  }

  /**
   * viommu_del_mappings: removes whole mappings starting inside [iova, end]
   * until one would be split; returns the bytes removed.
   */
  del(iova: number, end: number): number {
    let i = this.firstEndingAfter(iova);
    let n = 0;
    let removed = 0;
    while (i + n < this.mappings.length) {
      const m = this.mappings[i + n]!;
      if (m.start > end || m.start < iova) break;
      removed += m.end - m.start + 1;
      n++;
    }
    this.mappings.splice(i, n);
    return removed;
  }

  /** viommu_iova_to_phys. */
  lookup(iova: number): number {
    const m = this.mappings[this.firstEndingAfter(iova)];
    return m && m.start <= iova ? m.paddr + (iova - m.start) : 0;
  }
}
