import { VhostNet } from '../../vhost/vhost-net.js';
import { VirtioNetPci } from '../../virtio/net/virtio-net-pci.js';
import type { PCIDeviceType } from '../device-registry.js';
import { PropError, type PropDef } from '../properties.js';

/** QEMU's default MAC for the first NIC (qemu_macaddr_default_if_unset: 52:54:00:12:34:56). */
export const DEFAULT_MAC = '52:54:00:12:34:56';

/** QEMU's virtio-net and virtio-pci properties that viommu does not implement. */
const UNSUPPORTED = [
  'netdev', 'mq', 'vectors', 'rx_queue_size', 'tx_queue_size', 'host_mtu', 'speed', 'duplex', 'failover', 'guest_csum',
  'csum', 'gso', 'guest_tso4', 'guest_tso6', 'guest_ecn', 'guest_ufo', 'host_tso4', 'host_tso6', 'host_ecn', 'host_ufo',
  'mrg_rxbuf', 'status', 'ctrl_vq', 'ctrl_rx', 'ctrl_vlan', 'ctrl_mac_addr', 'rss', 'hash', 'event_idx', 'indirect_desc',
  'packed', 'disable-legacy', 'disable-modern', 'page-per-vq', 'x-txtimer', 'x-txburst', 'tx', 'bootindex',
];

const props: PropDef[] = [
  { name: 'mac', type: { kind: 'string' }, default: DEFAULT_MAC, desc: 'Ethernet 6-byte MAC Address, example: 52:54:00:12:34:56' },
  { name: 'vhost', type: { kind: 'bool' }, default: false,
    desc: 'process the rings on a vhost worker thread with a device IOTLB (QEMU: -netdev tap,vhost=on)' },
  { name: 'iommu_platform', type: { kind: 'bool' }, default: false, desc: 'offer VIRTIO_F_ACCESS_PLATFORM: DMA goes through the vIOMMU' },
  { name: 'ats', type: { kind: 'bool' }, default: false, desc: 'an ATS capability (PCI Express slots that are not on a root bus)' },
  { name: 'x-vhost-iotlb-fallback', type: { kind: 'bool' }, default: true,
    desc: 'fall back to UNMAP when the vIOMMU vetoes DEVIOTLB_UNMAP (off: a veto fails the device, as QEMU >= 8.1 / before 5.2.1)' },
  { name: 'x-vhost-sync-kick', type: { kind: 'bool' }, default: false,
    desc: 'each kick waits for its vhost worker rounds (viommu before asynchronous kicks; for comparison in bench vhost)' },
];

/** "52:54:00:12:34:56" -> bytes; QEMU's error text for anything else. */
function parseMac(text: string): Uint8Array {
  const parts = text.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) {
    throw new PropError(`Property 'virtio-net-pci.mac' doesn't take value '${text}'`);
  }
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

/**
 * `-device virtio-net-pci[,vhost=on][,iommu_platform=on][,ats=on][,mac=..]`
 * (QEMU hw/virtio/virtio-net-pci.c): no -netdev, the peer is viommu's
 * synthetic traffic peer on a virtual wire. vhost=on gives the device a
 * vhost-net backend (src/vhost) with its own worker thread.
 */
export const virtioNetPciType: PCIDeviceType = {
  driver: 'virtio-net-pci',
  desc: 'virtio-net: a network device (virtio 1.2 section 5.1) with a synthetic peer; vhost=on runs a vhost-net backend',
  bus: 'pci',
  props,
  unsupported: UNSUPPORTED,
  create: (p) => {
    const dev = new VirtioNetPci({ mac: parseMac(p.str('mac') ?? DEFAULT_MAC), iommuPlatform: p.bool('iommu_platform'), ats: p.bool('ats') });
    if (p.bool('vhost')) dev.net.backend = new VhostNet(dev, dev.net, { fallback: p.bool('x-vhost-iotlb-fallback'), syncKicks: p.bool('x-vhost-sync-kick') });
    return dev;
  },
};
