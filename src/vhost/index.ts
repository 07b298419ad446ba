/** The vhost room: vhost-net backend with a device IOTLB, its message ABI, and what other parts (the matrix) read. */
export * from './api.js';
export * from './msg.js';
export { VhostNet, type VhostNetOptions, type VhostNetStats } from './vhost-net.js';
export type { VhostDmaAccess } from './rounds.js';
export { VhostIommuFollower, type VhostIommuEntry, type VhostIommuHost } from './iommu-follower.js';
export { vhostDeviceIotlbMiss, type MissAnswer } from './iotlb-miss.js';
export { addressSpaceGetIotlbEntry, type IotlbEntryResult } from './iotlb-entry.js';
export { VhostMemTable, VHOST_UADDR_BASE, type VhostMemoryRegion, type VhostRamMapping } from './mem-table.js';
