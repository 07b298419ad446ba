export { VirtioNet, type NetBackend, type VirtioNetOptions } from './virtio-net.js';
export { VirtioNetPci, PCI_CLASS_NETWORK_ETHERNET, type VirtioNetPciOptions } from './virtio-net-pci.js';
export { NetPeer, PEER_MAC, type PeerCounters } from './peer.js';
export { WireRing } from './wire.js';
export { parseTestFrame, buildDataFrame, ETH_P_VIOMMU, OP_ECHO, OP_SINK, OP_GEN, OP_DATA, type ParsedFrame } from './test-frame.js';
