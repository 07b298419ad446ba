import type { IotlbOptions } from '../iotlb/iotlb.js';

/** A reserved IOVA region reported by PROBE (QEMU ReservedRegion: low, high inclusive, subtype). */
export interface ReservedRegion {
  readonly low: bigint;
  readonly high: bigint;
  /** VIRTIO_IOMMU_RESV_MEM_T_RESERVED (0) or VIRTIO_IOMMU_RESV_MEM_T_MSI (1). */
  readonly type: number;
}

/**
 * One item of the built-in topology description (seed 003, v1 layout):
 * a PCI requester-ID range with its first endpoint ID, or one MMIO
 * endpoint identified by its first MMIO address.
 */
export type TopologyItem =
  | { readonly kind: 'pci-range'; readonly hierarchy: number; readonly requesterStart: number; readonly requesterEnd: number; readonly endpointStart: number }
  | { readonly kind: 'endpoint'; readonly endpoint: number; readonly address: bigint };

/** Device options (QEMU properties, plus viommu's spec-strict switch and resource caps). */
export interface VirtioIommuOptions {
  /** x-qemu-compat=on: QEMU 7.2's departures from the specification (ref B7). */
  readonly qemuCompat: boolean;
  /** boot-bypass: config.bypass after a system reset. */
  readonly bootBypass: boolean;
  /** page_size_mask; its lowest bit is the granule. */
  readonly pageSizeMask: bigint;
  /** input_range, inclusive. */
  readonly inputStart: bigint;
  readonly inputEnd: bigint;
  /** domain_range, inclusive. */
  readonly domainStart: number;
  readonly domainEnd: number;
  readonly probeSize: number;
  readonly reservedRegions: readonly ReservedRegion[];
  /** Live domains and mappings the device holds before it answers NOMEM. */
  readonly maxDomains: number;
  readonly maxMappings: number;
  /** The IOTLB in front of the mapping trees (entries, ways, replacement). */
  readonly iotlb: IotlbOptions;
  /** The built-in topology description (offered with VIRTIO_IOMMU_F_X_TOPOLOGY); empty: none. */
  readonly topology: readonly TopologyItem[];
}

export const VIRTIO_IOMMU_DEFAULTS: VirtioIommuOptions = Object.freeze({
  qemuCompat: false,
  bootBypass: true,
  // QEMU: TARGET_PAGE_MASK (4 KiB pages on x86 and Arm).
  pageSizeMask: 0xffff_ffff_ffff_f000n,
  inputStart: 0n,
  inputEnd: (1n << 64n) - 1n,
  domainStart: 0,
  domainEnd: 0xffff_ffff,
  probeSize: 512,
  reservedRegions: [],
  maxDomains: 1 << 16,
  maxMappings: 1 << 20,
  iotlb: { capacity: 4096, ways: 4, policy: 'fifo' as const },
  topology: [],
});
