import type { TraceTrack } from '../../base/trace.js';

/** The virtio-iommu device's track in traces: requests (MAP/UNMAP are the guest's invalidations; the tail is the completion), IOTLB misses and fills. */
export const VIOMMU_TRACK: TraceTrack = { group: 'vIOMMU', track: 'virtio-iommu' };
