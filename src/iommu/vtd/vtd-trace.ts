import type { TraceTrack } from '../../base/trace.js';

/** The VT-d model's track in traces: IOTLB misses and fills, queued invalidations and their wait descriptors. */
export const VTD_TRACK: TraceTrack = { group: 'vIOMMU', track: 'intel-iommu' };
