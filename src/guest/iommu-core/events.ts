import type { GuestDevice } from '../device.js';
import type { IommuDomain } from './driver.js';
import type { IommuGroup } from './group.js';

/**
 * What the IOMMU core tells its observers (the DMA oracle, statistics): the
 * guest's own view of translation, at the moment each step completes.
 * Ranges are [iova, iova + size) with numbers; `pasid` 0 is the RID's own
 * address space.
 */
export interface IommuEvents {
  /** `dev` (at `pasid`) now translates through `domain`: the attach returned. */
  attached?(dev: GuestDevice, domain: IommuDomain, pasid: number): void;
  /** `dev` left its PASID attachment (or the IOMMU: group removed). */
  detached?(dev: GuestDevice, pasid: number): void;
  mapped?(domain: IommuDomain, iova: number, paddr: number, size: number, prot: number): void;
  /** PTEs are gone; the IOTLB may still hold them until an invalidation completes. */
  unmapped?(domain: IommuDomain, iova: number, size: number): void;
  /** Invalidation of [start, end] (inclusive) completed (iotlb_sync returned). */
  invalidated?(domain: IommuDomain, start: number, end: number): void;
  /** flush_iotlb_all returned. */
  invalidatedAll?(domain: IommuDomain): void;
  groupCreated?(group: IommuGroup): void;
  domainFreed?(domain: IommuDomain): void;
}
