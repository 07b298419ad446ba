import type { FirmwareDescription, FirmwareIommu, PciHostBridge } from '../../description.js';
import { acpiTableBegin, acpiTableEnd, type AcpiTableGenerator } from '../acpi-table.js';

/** Topology values of virtio-iommu-pci that describe it in ACPI (viommu's `topology` property). */
const VIOT_TOPOLOGIES = ['auto', 'viot'];
const VIOT_NODE_OFFSET = 48;
const VIOT_NODE_PCI_RANGE = 1;
const VIOT_NODE_VIRTIO_PCI_IOMMU = 3;

/** The virtio-iommu-pci the firmware describes with a VIOT, if any. */
export function viotIommu(desc: FirmwareDescription): FirmwareIommu | undefined {
  return desc.iommus?.find((i) => i.model === 'virtio-iommu-pci' && VIOT_TOPOLOGIES.includes(String(i.options['topology'] ?? 'auto')));
}

/**
 * The bus numbers in use below a host bridge (QEMU pci_bus_range): its root
 * bus, and the secondary..subordinate ranges its bridges were programmed
 * with when the tables are built.
 */
export function hostBusRange(desc: FirmwareDescription, h: PciHostBridge): [number, number] {
  let max = h.busStart;
  for (const d of desc.devices) {
    const bus = d.bdf >> 8;
    if (d.segment !== h.segment || bus < h.busStart || bus > h.busEnd || !d.bridge) continue;
    if (d.bridge.subordinate <= h.busEnd) max = Math.max(max, d.bridge.subordinate);
  }
  return [h.busStart, max];
}

/**
 * VIOT, the Virtual I/O Translation table (ACPI 6.5 section 5.2.32; Linux
 * include/acpi/actbl3.h; QEMU hw/acpi/viot.c build_viot), revision 0:
 * node_count u16 @36, node_offset u16 @38 (48), reserved[8]; then a
 * virtio-pci IOMMU node {u8 type 3, u8 reserved, u16 length 16, u16
 * segment, u16 bdf, reserved[8]} at 48, and one PCI range node {u8 type 1,
 * reserved, u16 length 24, u32 endpoint_start, u16 segment_start, u16
 * segment_end, u16 bdf_start, u16 bdf_end, u16 output_node, reserved[6]}
 * per host bridge that does not bypass the IOMMU, in bus order: BDFs
 * [min_bus << 8, max_bus << 8 | 0xff], endpoint ID = BDF, output node 48.
 * The range includes the IOMMU's own BDF, as QEMU's does (the guest skips
 * the IOMMU itself).
 */
export const viot: AcpiTableGenerator = {
  signature: 'VIOT',
  applies: (desc) => viotIommu(desc) !== undefined,
  build(ctx) {
    const b = ctx.tables;
    const iommu = viotIommu(ctx.desc)!;
    const hosts = ctx.desc.pciHosts.filter((h) => !h.bypassIommu).sort((x, y) => x.busStart - y.busStart);
    const t = acpiTableBegin(ctx, 'VIOT', 0);
    b.u16(1 + hosts.length);
    b.u16(VIOT_NODE_OFFSET);
    b.zeros(8);
    b.u8(VIOT_NODE_VIRTIO_PCI_IOMMU);
    b.u8(0);
    b.u16(16);
    b.u16(iommu.segment ?? 0);
    b.u16(iommu.bdf ?? 0);
    b.zeros(8);
    for (const h of hosts) {
      const [min, max] = hostBusRange(ctx.desc, h);
      b.u8(VIOT_NODE_PCI_RANGE);
      b.u8(0);
      b.u16(24);
      b.u32(min << 8);
      b.u16(h.segment);
      b.u16(h.segment);
      b.u16(min << 8);
      b.u16((max << 8) | 0xff);
      b.u16(VIOT_NODE_OFFSET);
      b.zeros(6);
    }
    acpiTableEnd(ctx, t);
  },
};
