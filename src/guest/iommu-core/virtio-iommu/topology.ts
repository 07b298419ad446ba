import type { GuestKernel } from '../../kernel.js';
import type { PciFunction } from '../../pci-core/device.js';
import { pciEnableDevice } from '../../pci-core/enumerate.js';
import { VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_CAP_DEVICE_CFG } from '../../pci-core/regs.js';
import { fail, ok, type Result } from '../../util/result.js';
import { VCOMMON_DF, VCOMMON_DFSELECT } from '../../virtio-core/regs.js';
import { VIOMMU_CFG_TOPO_CONFIG, VIOMMU_F_X_TOPOLOGY, VIOMMU_TOPO_ENDPOINT, VIOMMU_TOPO_PCI_RANGE } from './regs.js';

/** A requester-ID range of one PCI segment ("hierarchy") and its first endpoint ID. */
export interface TopoPciRange {
  readonly hierarchy: number;
  readonly requesterStart: number;
  readonly requesterEnd: number;
  readonly endpointStart: number;
}

/** An MMIO endpoint, identified by its first MMIO address. */
export interface TopoEndpoint {
  readonly endpoint: number;
  readonly address: number;
}

export interface BuiltinTopology {
  readonly pciRanges: readonly TopoPciRange[];
  readonly endpoints: readonly TopoEndpoint[];
}

/** The union item is 16 bytes; longer items are read up to that, as the v1 driver does. */
const ITEM_MAX = 16;

/**
 * The PCI fixup of seed 003 (viommu_pci_parse_topology, v1 layout) run
 * before the virtio driver binds: with memory decode enabled, read device
 * feature word 0 through the common configuration; if
 * VIRTIO_IOMMU_F_X_TOPOLOGY (bit 23 here; bit 6 in the proposal, now
 * BYPASS_CONFIG) is set, copy topo_config {offset, num_items, item_length}
 * from device configuration offset 40 and the items it points at. Returns
 * undefined when the device has no description, a message when it is
 * malformed.
 */
export function readBuiltinTopology(k: GuestKernel, fn: PciFunction): Result<BuiltinTopology> | undefined {
  const at = (type: number): { addr: number; length: number } | undefined => {
    const c = fn.virtioCaps.find((x) => x.cfgType === type && x.bar < 6);
    const bar = c && fn.bars.find((b) => b.index === c.bar);
    return c && bar && bar.kind !== 'io' && bar.cpuAddress ? { addr: bar.cpuAddress + c.offset, length: c.length } : undefined;
  };
  const common = at(VIRTIO_PCI_CAP_COMMON_CFG);
  if (!common) return undefined;
  pciEnableDevice(fn);
  k.port.write(common.addr + VCOMMON_DFSELECT, 4, 0);
  const f = k.port.read(common.addr + VCOMMON_DF, 4).lo >>> 0;
  if (!(f & (1 << VIOMMU_F_X_TOPOLOGY))) return undefined;
  const dev = at(VIRTIO_PCI_CAP_DEVICE_CFG);
  if (!dev) return fail(`${fn.name}: topology offered without a device configuration`);
  const r32 = (off: number): number => k.port.read(dev.addr + off, 4).lo >>> 0;
  const offset = r32(VIOMMU_CFG_TOPO_CONFIG);
  const num = r32(VIOMMU_CFG_TOPO_CONFIG + 4);
  const itemLen = r32(VIOMMU_CFG_TOPO_CONFIG + 8);
  if (!offset || !num || !itemLen) return undefined;
  if (offset + num * itemLen > dev.length || itemLen < 4) return fail(`${fn.name}: topology of ${num} x ${itemLen} bytes at ${offset} runs past the configuration`);
  const pciRanges: TopoPciRange[] = [];
  const endpoints: TopoEndpoint[] = [];
  for (let i = 0; i < num; i++) {
    const item = new Uint8Array(ITEM_MAX);
    const len = Math.min(itemLen, ITEM_MAX);
    for (let b = 0; b < len; b += 4) new DataView(item.buffer).setUint32(b, r32(offset + i * itemLen + b), true);
    const v = new DataView(item.buffer);
    const type = v.getUint16(0, true);
    if (type === VIOMMU_TOPO_PCI_RANGE && len >= 12) {
      pciRanges.push({ hierarchy: v.getUint16(2, true), requesterStart: v.getUint16(4, true), requesterEnd: v.getUint16(6, true), endpointStart: v.getUint32(8, true) });
    } else if (type === VIOMMU_TOPO_ENDPOINT && len >= 16) {
      endpoints.push({ endpoint: v.getUint32(4, true), address: Number(v.getBigUint64(8, true)) });
    }
  }
  return ok({ pciRanges, endpoints });
}

/** viommu_parse_pci: the endpoint ID of a requester through a range, or undefined. */
export function topoEndpointId(r: TopoPciRange, segment: number, rid: number): number | undefined {
  if (segment !== r.hierarchy || rid < r.requesterStart || rid > r.requesterEnd) return undefined;
  return (rid - r.requesterStart + r.endpointStart) >>> 0;
}
