import { VIRTIO_IOMMU_DEFAULTS, type ReservedRegion, type TopologyItem } from '../../iommu/virtio-iommu/options.js';
import { VIRTIO_IOMMU_RESV_MEM_T_MSI } from '../../iommu/virtio-iommu/regs.js';
import { VirtioIommuPci, VIOMMU_TOPOLOGIES, type ViommuTopology } from '../../virtio/iommu/virtio-iommu-pci.js';
import type { DeviceHost, PCIDeviceType } from '../device-registry.js';
import { parseCInteger, PropError, type PropDef, type Props } from '../properties.js';

/** QEMU's reserved-regions array: len-reserved-regions plus this many reserved-regions[i] slots. */
const MAX_RESERVED = 8;
const GRANULES: Record<string, bigint> = { '4k': 12n, '8k': 13n, '16k': 14n, '64k': 16n };

/** QEMU's generic virtio-pci properties that viommu does not implement. */
const UNSUPPORTED = [
  'class', 'disable-legacy', 'disable-modern', 'event_idx', 'indirect_desc', 'iommu_platform', 'packed', 'page-per-vq',
  'queue_reset', 'any_layout', 'notify_on_empty', 'modern-pio-notify', 'aer', 'migrate-extra', 'use-disabled-flag',
  'use-started', 'x-ats-page-aligned', 'x-disable-legacy-check', 'x-disable-pcie', 'x-ignore-backend-features',
  'virtio-pci-bus-master-bug-migration', 'x-pcie-deverr-init', 'x-pcie-flr-init', 'x-pcie-lnkctl-init', 'x-pcie-pm-init',
  'primary-bus', 'virtio-backend',
];

const props: PropDef[] = [
  { name: 'x-qemu-compat', type: { kind: 'bool' }, default: false, desc: "QEMU 7.2's departures from the virtio-iommu specification" },
  { name: 'boot-bypass', type: { kind: 'bool' }, default: true, desc: 'config.bypass after a system reset' },
  { name: 'topology', type: { kind: 'enum', values: VIOMMU_TOPOLOGIES }, default: 'auto',
    desc: 'how the guest learns the topology: the board default (auto), ACPI VIOT, device tree, configuration space, none' },
  { name: 'granule', type: { kind: 'enum', values: Object.keys(GRANULES) }, default: '4k', desc: 'page granule (page_size_mask)' },
  { name: 'aw-bits', type: { kind: 'uint', bits: 8 }, default: 64n, desc: 'input address width (input_range)' },
  { name: 'ats', type: { kind: 'bool' }, default: false, desc: 'on/off' },
  { name: 'x-max-domains', type: { kind: 'uint', bits: 32 }, default: BigInt(VIRTIO_IOMMU_DEFAULTS.maxDomains), desc: 'domains before NOMEM' },
  { name: 'x-max-mappings', type: { kind: 'uint', bits: 32 }, default: BigInt(VIRTIO_IOMMU_DEFAULTS.maxMappings), desc: 'mappings before NOMEM' },
  { name: 'len-reserved-regions', type: { kind: 'uint', bits: 32 }, default: 0n },
  ...Array.from({ length: MAX_RESERVED }, (_, i): PropDef => ({ name: `reserved-regions[${i}]`, type: { kind: 'string' } })),
];

/** qdev_prop_reserved_region: "low:high:type" (hex or decimal), type 0 reserved or 1 MSI. */
function reservedRegions(p: Props): ReservedRegion[] {
  const n = p.num('len-reserved-regions');
  if (n > MAX_RESERVED) throw new PropError(`len-reserved-regions: viommu takes at most ${MAX_RESERVED}`);
  const out: ReservedRegion[] = [];
  for (let i = 0; i < n; i++) {
    const text = p.str(`reserved-regions[${i}]`);
    const parts = text?.split(':') ?? [];
    const [low, high, type] = parts.map((x) => parseCInteger(x));
    if (parts.length !== 3 || low === undefined || high === undefined || type === undefined || low > high) {
      throw new PropError(`Property 'virtio-iommu-pci.reserved-regions[${i}]' doesn't take value '${text ?? ''}'`);
    }
    if (type !== 0n && type !== 1n) throw new PropError(`reserved region ${i} has an invalid type\nValid values are 0 and 1`);
    out.push({ low, high, type: Number(type) });
  }
  return out;
}

/** The board's MSI doorbell as an MSI reserved region (QEMU's machines set reserved-regions so: pc 0xfee00000, virt GICv2m). */
function boardRegions(host: DeviceHost): ReservedRegion[] {
  const w = host.msiWindow;
  if (!w || host.boardName === 'pseries') return [];
  return [{ low: BigInt(w.base), high: BigInt(w.base + w.size - 1), type: VIRTIO_IOMMU_RESV_MEM_T_MSI }];
}

/** `-device virtio-iommu-pci` (QEMU hw/virtio/virtio-iommu-pci.c and virtio-iommu.c). */
export const virtioIommuPciType: PCIDeviceType = {
  driver: 'virtio-iommu-pci',
  desc: 'virtio-iommu: a paravirtualized IOMMU (virtio 1.2 section 5.13)',
  bus: 'pci',
  props,
  unsupported: UNSUPPORTED,
  create: (p, host) => {
    if (host.coldPlug === false) throw new PropError("Device 'virtio-iommu-pci' does not support hotplugging");
    const aw = p.big('aw-bits');
    if (aw < 32n || aw > 64n) throw new PropError(`aw-bits must be within [32, 64], got ${aw}`);
    const topology = (p.str('topology') ?? 'auto') as ViommuTopology;
    const items: TopologyItem[] = topology === 'config'
      ? [{ kind: 'pci-range', hierarchy: 0, requesterStart: 0, requesterEnd: 0xffff, endpointStart: 0 }] : [];
    const regions = reservedRegions(p);
    const dev = new VirtioIommuPci({
      ...VIRTIO_IOMMU_DEFAULTS,
      qemuCompat: p.bool('x-qemu-compat'),
      bootBypass: p.bool('boot-bypass'),
      pageSizeMask: BigInt.asUintN(64, -(1n << GRANULES[p.str('granule') ?? '4k']!)),
      inputEnd: (1n << aw) - 1n,
      maxDomains: p.num('x-max-domains'),
      maxMappings: p.num('x-max-mappings'),
      reservedRegions: regions.length ? regions : boardRegions(host),
      topology: items,
    }, topology, p.bool('ats'));
    host.iommuInfo?.push({ name: 'virtio-iommu-pci', info: () => dev.info() });
    return dev;
  },
};
