import { acpiTableBegin, acpiTableEnd, type AcpiTableGenerator } from '../acpi-table.js';

/**
 * MCFG (PCI Firmware Specification 3.2 section 4.1.2), as QEMU's build_mcfg
 * (hw/acpi/pci.c): revision 1, 8 reserved bytes, then one 16-byte
 * allocation per host bridge with an ECAM window: base (8), segment (2),
 * start bus (1), end bus (1), reserved (4). No table without ECAM.
 */
export const mcfg: AcpiTableGenerator = {
  signature: 'MCFG',
  applies: (desc) => desc.pciHosts.some((h) => h.ecam !== undefined),
  build(ctx) {
    const b = ctx.tables;
    const t = acpiTableBegin(ctx, 'MCFG', 1);
    b.zeros(8);
    for (const h of ctx.desc.pciHosts) {
      if (!h.ecam) continue;
      b.u64(h.ecam.base);
      b.u16(h.segment);
      b.u8(h.busStart);
      // QEMU: end bus from the window size (1 MiB per bus).
      b.u8(h.busStart + h.ecam.size / 0x10_0000 - 1);
      b.u32(0);
    }
    acpiTableEnd(ctx, t);
  },
};
