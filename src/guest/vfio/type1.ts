import { EBUSY, EEXIST, EINVAL, ENODEV, ENOENT, EPERM } from '../errno.js';
import type { IommuCore } from '../iommu-core/core.js';
import { IOMMU_READ, IOMMU_WRITE } from '../iommu-core/domain-types.js';
import type { IommuDomain } from '../iommu-core/driver.js';
import type { IommuGroup } from '../iommu-core/group.js';
import { iommuMap, iommuUnmap } from '../iommu-core/iommu-map.js';
import {
  iommuAttachGroup, iommuDetachGroup, iommuDomainFree, iommuGroupClaimDmaOwner, iommuGroupReleaseDmaOwner, iommuPagingDomainAlloc,
} from '../iommu-core/ownership.js';

/** Linux include/uapi/linux/vfio.h: the type1 IOMMU types (VFIO_SET_IOMMU arguments). */
export const VFIO_TYPE1_IOMMU = 1;
export const VFIO_TYPE1v2_IOMMU = 3;
/** struct vfio_iommu_type1_dma_map.flags. */
export const VFIO_DMA_MAP_FLAG_READ = 1 << 0;
export const VFIO_DMA_MAP_FLAG_WRITE = 1 << 1;

/** One VFIO_IOMMU_MAP_DMA (struct vfio_dma): [iova, iova + size) -> paddr. */
interface VfioDma {
  readonly iova: number;
  readonly size: number;
  readonly paddr: number;
}

/**
 * A VFIO container with the type1 IOMMU driver (Linux
 * drivers/vfio/vfio_iommu_type1.c) as a user program sees it through its
 * ioctls, on top of the guest's IOMMU core:
 * - VFIO_GROUP_SET_CONTAINER claims the group's DMA ownership
 *   (iommu_group_claim_dma_owner: the group moves to the blocking domain);
 * - VFIO_SET_IOMMU(TYPE1v2) allocates an UNMANAGED paging domain
 *   (iommu_paging_domain_alloc) and attaches the group
 *   (vfio_iommu_type1_attach_group);
 * - VFIO_IOMMU_MAP_DMA is iommu_map of pinned pages; a range overlapping a
 *   vfio_dma is -EEXIST (vfio_dma_do_map);
 * - VFIO_IOMMU_UNMAP_DMA unmaps whole vfio_dmas inside the range with an
 *   IOTLB sync before it returns (strict, as type1 is);
 * - VFIO_GROUP_UNSET_CONTAINER (or the user exiting) unmaps everything,
 *   detaches, frees the domain and releases ownership: the group goes back
 *   to its default domain.
 * Paddrs stand for pinned user pages: the user's buffer is guest memory.
 */
export class VfioType1Container {
  group: IommuGroup | undefined;
  domain: IommuDomain | undefined;
  private readonly dmas: VfioDma[] = [];

  constructor(private readonly core: IommuCore) {}

  get mappings(): readonly VfioDma[] {
    return this.dmas;
  }

  /** VFIO_GROUP_SET_CONTAINER: -EPERM while a kernel driver still uses the group, -EBUSY with a group already in. */
  setContainer(group: IommuGroup): number {
    if (this.group) return -EBUSY;
    const ret = iommuGroupClaimDmaOwner(this.core, group, this);
    if (ret) return ret;
    this.group = group;
    return 0;
  }

  /** VFIO_SET_IOMMU: TYPE1 or TYPE1v2; an UNMANAGED domain attached to the group. */
  setIommu(type: number): number {
    if (type !== VFIO_TYPE1_IOMMU && type !== VFIO_TYPE1v2_IOMMU) return -EINVAL;
    if (!this.group) return -EINVAL;
    if (this.domain) return -EBUSY;
    const d = iommuPagingDomainAlloc(this.core, this.group.firstDevice);
    if (typeof d === 'number') return d;
    const ret = iommuAttachGroup(this.core, d, this.group);
    if (ret) {
      iommuDomainFree(this.core, d);
      return ret;
    }
    this.domain = d;
    return 0;
  }

  /** VFIO_IOMMU_MAP_DMA (paddr: the pinned pages behind the user's vaddr). */
  mapDma(iova: number, paddr: number, size: number, flags: number): number {
    if (!this.domain) return -EPERM;
    if (size <= 0 || iova % 4096 || size % 4096 || paddr % 4096) return -EINVAL;
    if (!(flags & (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE))) return -EINVAL;
    if (this.dmas.some((d) => iova < d.iova + d.size && d.iova < iova + size)) return -EEXIST;
    const prot = (flags & VFIO_DMA_MAP_FLAG_READ ? IOMMU_READ : 0) | (flags & VFIO_DMA_MAP_FLAG_WRITE ? IOMMU_WRITE : 0);
    const ret = iommuMap(this.core, this.domain, iova, paddr, size, prot);
    if (ret) return ret;
    this.dmas.push({ iova, size, paddr });
    return 0;
  }

  /** VFIO_IOMMU_UNMAP_DMA: the vfio_dmas inside [iova, iova + size); returns bytes unmapped, or -ENOENT/-EPERM. */
  unmapDma(iova: number, size: number): number {
    if (!this.domain) return -EPERM;
    let n = 0;
    for (let i = this.dmas.length - 1; i >= 0; i--) {
      const d = this.dmas[i]!;
      if (d.iova < iova || d.iova + d.size > iova + size) continue;
      iommuUnmap(this.core, this.domain, d.iova, d.size);
      this.dmas.splice(i, 1);
      n += d.size;
    }
    return n > 0 ? n : -ENOENT;
  }

  /** VFIO_GROUP_UNSET_CONTAINER / release: unmap all, detach, free, release ownership. */
  unsetContainer(): number {
    const g = this.group;
    if (!g) return -ENODEV;
    if (this.domain) {
      for (const d of this.dmas.splice(0)) iommuUnmap(this.core, this.domain, d.iova, d.size);
      iommuDetachGroup(this.core, g);
      iommuDomainFree(this.core, this.domain);
      this.domain = undefined;
    }
    iommuGroupReleaseDmaOwner(this.core, g);
    this.group = undefined;
    return 0;
  }
}
