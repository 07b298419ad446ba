import { acpiTableBegin, acpiTableEnd, type AcpiTableGenerator } from '../acpi-table.js';

/** GTDT timer flags (ACPI 6.4 table 5.117): always-on capability. */
const ACPI_GTDT_CAP_ALWAYS_ON = 1 << 2;

/**
 * GTDT (ACPI 6.4 section 5.2.24) as QEMU 7.2's virt build_gtdt, revision 2:
 * no memory-mapped counter (all-ones addresses), the four PPIs as GSIVs
 * (PPI + 16), level-triggered, the non-secure EL1 timer always-on, no
 * platform timers.
 */
export const gtdt: AcpiTableGenerator = {
  signature: 'GTDT',
  applies: (desc) => desc.arm !== undefined,
  build(ctx) {
    const p = ctx.desc.arm!.timerPpis;
    const b = ctx.tables;
    const t = acpiTableBegin(ctx, 'GTDT', 2);
    b.u64(0xffff_ffff_ffff_ffffn); // CntControlBase
    b.u32(0);
    b.u32(p.s + 16);
    b.u32(0);
    b.u32(p.ns + 16);
    b.u32(ACPI_GTDT_CAP_ALWAYS_ON);
    b.u32(p.virt + 16);
    b.u32(0);
    b.u32(p.hyp + 16);
    b.u32(0);
    b.u64(0xffff_ffff_ffff_ffffn); // CntReadBase
    b.u32(0); // Platform Timer Count
    b.u32(0); // Platform Timer Offset
    acpiTableEnd(ctx, t);
  },
};
