import type { TraceTrack } from '../../base/trace.js';

/** The SMMUv3 model's track in traces: IOTLB misses and fills, commands (TLBI, CFGI) and CMD_SYNC completions. */
export const SMMU_TRACK: TraceTrack = { group: 'vIOMMU', track: 'arm-smmuv3' };
