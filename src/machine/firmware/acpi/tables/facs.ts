import type { AcpiTableGenerator } from '../acpi-table.js';

/**
 * FACS (ACPI 6.4 section 5.2.10) as QEMU's x86 build_facs: "FACS", length
 * 64, everything else zero; no checksum and not listed in the RSDT (the
 * FADT points at it). The blob is allocated 64-byte aligned, so at offset 0
 * the FACS meets its alignment.
 */
export const facs: AcpiTableGenerator = {
  signature: 'FACS',
  applies: (desc) => desc.x86 !== undefined,
  build(ctx) {
    const b = ctx.tables;
    ctx.offsets.set('FACS', b.length);
    b.padded('FACS', 4);
    b.u32(64);
    b.zeros(56);
  },
};
