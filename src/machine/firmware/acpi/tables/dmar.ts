import type { FirmwareDescription, FirmwareIommu } from '../../description.js';
import { acpiTableBegin, acpiTableEnd, type AcpiTableGenerator } from '../acpi-table.js';

/** DMAR structure and device-scope types (Intel VT-d specification 3.4, chapter 8). */
const DMAR_TYPE_DRHD = 0;
const DMAR_TYPE_ATSR = 2;
const SCOPE_ENDPOINT = 1;
const SCOPE_BRIDGE = 2;
const SCOPE_IOAPIC = 3;
/** DMAR flags: INTR_REMAP (bit 0). ATSR flags: ALL_PORTS (bit 0). */
const DMAR_INTR_REMAP = 1;
const ATSR_ALL_PORTS = 1;
/** QEMU's IOAPIC scope: ACPI_BUILD_IOAPIC_ID 0 on the pseudo bus Q35_PSEUDO_BUS_PLATFORM 0xff, devfn 0. */
const IOAPIC_ID = 0;
const PSEUDO_BUS_PLATFORM = 0xff;

function vtdOf(desc: FirmwareDescription): FirmwareIommu | undefined {
  return desc.iommus?.find((i) => i.model === 'intel-iommu');
}

/** The device scopes QEMU 7.2 lists: every function directly on each non-bypassed root bus, bridges as sub-hierarchies. */
function scopes(desc: FirmwareDescription): { type: number; bus: number; devfn: number }[] {
  const roots = desc.pciHosts.filter((h) => !h.bypassIommu && h.segment === 0);
  const out: { type: number; bus: number; devfn: number }[] = [];
  for (const h of roots) {
    const onRoot = desc.devices.filter((d) => d.segment === 0 && d.bdf >>> 8 === h.busStart).sort((a, b) => a.bdf - b.bdf);
    for (const d of onRoot) out.push({ type: d.bridge ? SCOPE_BRIDGE : SCOPE_ENDPOINT, bus: h.busStart, devfn: d.bdf & 0xff });
  }
  return out;
}

/**
 * DMAR as QEMU 7.2 builds it for q35 (hw/i386/acpi-build.c build_dmar_q35;
 * ref/firmware.md): revision 1; host address width aw-bits - 1; flags
 * INTR_REMAP with intremap; one DRHD (flags 0: no INCLUDE_PCI_ALL, segment
 * 0, base 0xfed90000) whose scopes are the IOAPIC (enumeration id 0, bus
 * 0xff, path 00.0) then every function present on each non-bypassed root
 * bus in devfn order (endpoints type 1, bridges type 2, start bus = that
 * root bus); with device-iotlb an ATSR (ALL_PORTS, segment 0). The scopes
 * reflect the bus numbers and devices when the tables are built.
 */
export const dmar: AcpiTableGenerator = {
  signature: 'DMAR',
  applies: (desc) => vtdOf(desc) !== undefined,
  build(ctx) {
    const iommu = vtdOf(ctx.desc)!;
    const o = iommu.options;
    const b = ctx.tables;
    const t = acpiTableBegin(ctx, 'DMAR', 1);
    b.u8(Number(o['aw-bits'] ?? 39) - 1);
    b.u8(o['intremap'] ? DMAR_INTR_REMAP : 0);
    b.zeros(10);
    const list = scopes(ctx.desc);
    b.u16(DMAR_TYPE_DRHD);
    b.u16(16 + 8 * (1 + list.length));
    b.u8(0);
    b.u8(0);
    b.u16(0);
    b.u64(iommu.mmio?.base ?? 0xfed90000);
    b.bytes([SCOPE_IOAPIC, 8, 0, 0, IOAPIC_ID, PSEUDO_BUS_PLATFORM, 0, 0]);
    for (const s of list) b.bytes([s.type, 8, 0, 0, 0, s.bus, s.devfn >> 3, s.devfn & 7]);
    if (o['device-iotlb']) {
      b.u16(DMAR_TYPE_ATSR);
      b.u16(8);
      b.u8(ATSR_ALL_PORTS);
      b.u8(0);
      b.u16(0);
    }
    acpiTableEnd(ctx, t);
  },
};
