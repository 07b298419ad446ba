/**
 * IOMMU domain types as Linux defines them (include/linux/iommu.h): a type
 * is a set of feature bits.
 */
export const __IOMMU_DOMAIN_PAGING = 1 << 0;
export const __IOMMU_DOMAIN_DMA_API = 1 << 1;
export const __IOMMU_DOMAIN_PT = 1 << 2;
export const __IOMMU_DOMAIN_DMA_FQ = 1 << 3;
export const __IOMMU_DOMAIN_SVA = 1 << 4;
export const __IOMMU_DOMAIN_PLATFORM = 1 << 5;
export const __IOMMU_DOMAIN_NESTED = 1 << 6;

/** No DMA at all: the state a VFIO owner's group starts in. */
export const IOMMU_DOMAIN_BLOCKED = 0;
/** DMA addresses are physical addresses (passthrough). */
export const IOMMU_DOMAIN_IDENTITY = __IOMMU_DOMAIN_PT;
/** Paging domain driven through iommu_map/unmap by its user (VFIO type1, a VMM). */
export const IOMMU_DOMAIN_UNMANAGED = __IOMMU_DOMAIN_PAGING;
/** Paging domain behind the DMA API, invalidated on every unmap (strict). */
export const IOMMU_DOMAIN_DMA = __IOMMU_DOMAIN_PAGING | __IOMMU_DOMAIN_DMA_API;
/** DMA domain with a flush queue (lazy invalidation). */
export const IOMMU_DOMAIN_DMA_FQ = IOMMU_DOMAIN_DMA | __IOMMU_DOMAIN_DMA_FQ;
export const IOMMU_DOMAIN_SVA = __IOMMU_DOMAIN_SVA;
/** Legacy: the driver runs its own DMA ops (powerpc). */
export const IOMMU_DOMAIN_PLATFORM = __IOMMU_DOMAIN_PLATFORM;
export const IOMMU_DOMAIN_NESTED = __IOMMU_DOMAIN_NESTED;

export type DomainType = number;

/** Linux iommu_domain_type_str, as printed in its log lines. */
export function domainTypeStr(t: DomainType): string {
  switch (t) {
    case IOMMU_DOMAIN_BLOCKED: return 'Blocked';
    case IOMMU_DOMAIN_IDENTITY: return 'Passthrough';
    case IOMMU_DOMAIN_UNMANAGED: return 'Unmanaged';
    case IOMMU_DOMAIN_DMA:
    case IOMMU_DOMAIN_DMA_FQ: return 'Translated';
    case IOMMU_DOMAIN_PLATFORM: return 'Platform';
    default: return 'Unknown';
  }
}

/** The sysfs name (/sys/kernel/iommu_groups/N/type), with 'platform' added for reports. */
export function domainTypeName(t: DomainType): string {
  switch (t) {
    case IOMMU_DOMAIN_BLOCKED: return 'blocked';
    case IOMMU_DOMAIN_IDENTITY: return 'identity';
    case IOMMU_DOMAIN_UNMANAGED: return 'unmanaged';
    case IOMMU_DOMAIN_DMA: return 'DMA';
    case IOMMU_DOMAIN_DMA_FQ: return 'DMA-FQ';
    case IOMMU_DOMAIN_PLATFORM: return 'platform';
    case IOMMU_DOMAIN_SVA: return 'sva';
    case IOMMU_DOMAIN_NESTED: return 'nested';
    default: return 'unknown';
  }
}

export function isPaging(t: DomainType): boolean {
  return (t & __IOMMU_DOMAIN_PAGING) !== 0;
}
/** iommu_is_dma_domain. */
export function isDmaDomain(t: DomainType): boolean {
  return (t & __IOMMU_DOMAIN_DMA_API) !== 0;
}

/** Mapping permissions (IOMMU_READ etc.). */
export const IOMMU_READ = 1 << 0;
export const IOMMU_WRITE = 1 << 1;
export const IOMMU_CACHE = 1 << 2;
export const IOMMU_NOEXEC = 1 << 3;
export const IOMMU_MMIO = 1 << 4;
export const IOMMU_PRIV = 1 << 5;

/** PASID 0 is the RID's own address space (IOMMU_NO_PASID). */
export const IOMMU_NO_PASID = 0;
