import { acpiTableBegin, acpiTableEnd, type AcpiTableGenerator } from '../acpi-table.js';

/** MADT structure types (ACPI 6.4 section 5.2.12). */
const MADT_LOCAL_APIC = 0;
const MADT_IO_APIC = 1;
const MADT_INT_SRC_OVERRIDE = 2;
const MADT_LOCAL_APIC_NMI = 4;
/** PCAT_COMPAT: dual 8259s present. */
const MADT_PCAT_COMPAT = 1;

/**
 * x86 MADT "APIC" as QEMU's build_madt (hw/i386/acpi-common.c), revision 1:
 * local APIC address and PCAT_COMPAT, one Processor Local APIC per CPU
 * (UID = APIC ID = index), the IOAPIC, the ISA overrides (IRQ0 -> GSI 2,
 * then the PCI IRQs level/active-high) and the Local APIC NMI on LINT1.
 */
export const madtX86: AcpiTableGenerator = {
  signature: 'APIC',
  applies: (desc) => desc.x86 !== undefined,
  build(ctx) {
    const x86 = ctx.desc.x86!;
    const b = ctx.tables;
    const t = acpiTableBegin(ctx, 'APIC', 1);
    b.u32(x86.lapicBase);
    b.u32(MADT_PCAT_COMPAT);
    for (let i = 0; i < ctx.desc.cpus; i++) {
      b.bytes([MADT_LOCAL_APIC, 8, i, i]);
      b.u32(1); // enabled
    }
    b.bytes([MADT_IO_APIC, 12, x86.ioapic.id, 0]);
    b.u32(x86.ioapic.base);
    b.u32(x86.ioapic.gsiBase);
    const override = (source: number, gsi: number, flags: number): void => {
      b.bytes([MADT_INT_SRC_OVERRIDE, 10, 0, source]);
      b.u32(gsi);
      b.u16(flags);
    };
    override(0, 2, 0);
    // MPS INTI flags 0x000d: active high (01), level triggered (11 << 2).
    for (const irq of x86.pciIrqs) override(irq, irq, 0x000d);
    b.bytes([MADT_LOCAL_APIC_NMI, 6, 0xff]);
    b.u16(0);
    b.u8(1); // LINT1
    acpiTableEnd(ctx, t);
  },
};
