import type { TopologyItem } from './options.js';
import {
  VIRTIO_IOMMU_CFG_BYPASS, VIRTIO_IOMMU_CFG_DOMAIN_END, VIRTIO_IOMMU_CFG_DOMAIN_START, VIRTIO_IOMMU_CFG_INPUT_END,
  VIRTIO_IOMMU_CFG_INPUT_START, VIRTIO_IOMMU_CFG_PAGE_SIZE_MASK, VIRTIO_IOMMU_CFG_PROBE_SIZE, VIRTIO_IOMMU_CONFIG_SIZE,
} from './regs.js';
import type { VirtioIommu } from './virtio-iommu.js';

/**
 * The built-in topology description (seed 003, the v1 proposal's layout,
 * moved past `bypass`, which now holds the v1 topo_config's old offset):
 * at 40, struct virtio_iommu_topo_config {le32 offset; le32 num_items;
 * le32 item_length}; at `offset` (56, 8-byte aligned), num_items items of
 * item_length (16) bytes:
 *   PCI range {le16 type = 1, le16 hierarchy (segment), le16
 *     requester_start, le16 requester_end (BDFs), le32 endpoint_start, pad};
 *   endpoint {le16 type = 2, le16 reserved, le32 endpoint, le64 address
 *     (first MMIO address)}.
 * Present only with VIRTIO_IOMMU_F_X_TOPOLOGY.
 */
export const VIRTIO_IOMMU_CFG_TOPO_CONFIG = 40;
export const VIRTIO_IOMMU_TOPO_ITEMS_OFFSET = 56;
export const VIRTIO_IOMMU_TOPO_ITEM_LENGTH = 16;
export const VIRTIO_IOMMU_TOPO_PCI_RANGE = 1;
export const VIRTIO_IOMMU_TOPO_ENDPOINT = 2;

/** virtio_iommu_get_config (plus the topology when described). */
export function configBytes(dev: VirtioIommu): Uint8Array {
  const o = dev.opts;
  const items = o.topology;
  const len = items.length ? VIRTIO_IOMMU_TOPO_ITEMS_OFFSET + items.length * VIRTIO_IOMMU_TOPO_ITEM_LENGTH : VIRTIO_IOMMU_CONFIG_SIZE;
  const b = new Uint8Array(len);
  const v = new DataView(b.buffer);
  v.setBigUint64(VIRTIO_IOMMU_CFG_PAGE_SIZE_MASK, o.pageSizeMask, true);
  v.setBigUint64(VIRTIO_IOMMU_CFG_INPUT_START, o.inputStart, true);
  v.setBigUint64(VIRTIO_IOMMU_CFG_INPUT_END, o.inputEnd, true);
  v.setUint32(VIRTIO_IOMMU_CFG_DOMAIN_START, o.domainStart, true);
  v.setUint32(VIRTIO_IOMMU_CFG_DOMAIN_END, o.domainEnd, true);
  v.setUint32(VIRTIO_IOMMU_CFG_PROBE_SIZE, o.probeSize, true);
  v.setUint8(VIRTIO_IOMMU_CFG_BYPASS, dev.bypass ? 1 : 0);
  if (items.length) {
    v.setUint32(VIRTIO_IOMMU_CFG_TOPO_CONFIG, VIRTIO_IOMMU_TOPO_ITEMS_OFFSET, true);
    v.setUint32(VIRTIO_IOMMU_CFG_TOPO_CONFIG + 4, items.length, true);
    v.setUint32(VIRTIO_IOMMU_CFG_TOPO_CONFIG + 8, VIRTIO_IOMMU_TOPO_ITEM_LENGTH, true);
    items.forEach((it, i) => writeItem(v, VIRTIO_IOMMU_TOPO_ITEMS_OFFSET + i * VIRTIO_IOMMU_TOPO_ITEM_LENGTH, it));
  }
  return b;
}

function writeItem(v: DataView, at: number, it: TopologyItem): void {
  if (it.kind === 'pci-range') {
    v.setUint16(at, VIRTIO_IOMMU_TOPO_PCI_RANGE, true);
    v.setUint16(at + 2, it.hierarchy, true);
    v.setUint16(at + 4, it.requesterStart, true);
    v.setUint16(at + 6, it.requesterEnd, true);
    v.setUint32(at + 8, it.endpointStart, true);
  } else {
    v.setUint16(at, VIRTIO_IOMMU_TOPO_ENDPOINT, true);
    v.setUint32(at + 4, it.endpoint, true);
    v.setBigUint64(at + 8, it.address, true);
  }
}

/**
 * set_config: only `bypass` may change (with BYPASS_CONFIG negotiated);
 * writes elsewhere are ignored. A message means the device needs a reset.
 */
export function writeConfig(dev: VirtioIommu, offset: number, data: Uint8Array): string | undefined {
  const i = VIRTIO_IOMMU_CFG_BYPASS - offset;
  if (i < 0 || i >= data.length) return undefined;
  return dev.writeBypass(data[i]!);
}
