import { acpiTableBegin, acpiTableEnd, type AcpiTableGenerator } from '../acpi-table.js';

/** MADT structure types (ACPI 6.4 section 5.2.12.14-16). */
const MADT_GICC = 0x0b;
const MADT_GICD = 0x0c;
const MADT_GIC_MSI_FRAME = 0x0d;

/** MPIDR affinity of CPU `i` on virt with GICv2 (virt_cpu_mp_affinity: 8 CPUs per cluster). */
export function virtMpidr(i: number): number {
  return ((Math.floor(i / 8) << 8) | (i % 8)) >>> 0;
}

/**
 * Arm MADT "APIC" as QEMU 7.2's virt build_madt (hw/arm/virt-acpi-build.c),
 * revision 4: GICD, one 80-byte GICC per CPU, and for GICv2 the v2m MSI frame.
 */
export const madtGic: AcpiTableGenerator = {
  signature: 'APIC',
  applies: (desc) => desc.arm !== undefined,
  build(ctx) {
    const arm = ctx.desc.arm!;
    const gic = arm.gic;
    const b = ctx.tables;
    const t = acpiTableBegin(ctx, 'APIC', 4);
    b.u32(0); // Local Interrupt Controller Address
    b.u32(0); // Flags
    b.bytes([MADT_GICD, 24, 0, 0]);
    b.u32(0); // GIC ID
    b.u64(gic.distBase);
    b.u32(0); // System Vector Base
    b.u8(gic.version);
    b.zeros(3);
    for (let i = 0; i < ctx.desc.cpus; i++) {
      b.bytes([MADT_GICC, 80, 0, 0]);
      b.u32(i); // CPU Interface Number
      b.u32(i); // ACPI Processor UID
      b.u32(1); // Flags: enabled
      b.u32(0); // Parking Protocol Version
      b.u32(arm.pmuPpi !== undefined ? arm.pmuPpi + 16 : 0); // Performance Interrupt GSIV
      b.u64(0); // Parked Address
      b.u64(gic.cpuBase);
      b.u64(gic.vcpuBase); // GICV
      b.u64(gic.hypBase); // GICH
      b.u32(0); // VGIC Maintenance interrupt (no EL2 in the guest)
      b.u64(0); // GICR Base Address
      b.u64(virtMpidr(i));
      b.u8(0); // Processor Power Efficiency Class
      b.u8(0);
      b.u16(0); // SPE overflow interrupt
    }
    b.bytes([MADT_GIC_MSI_FRAME, 24, 0, 0]);
    b.u32(0); // GIC MSI Frame ID
    b.u64(gic.v2m.base);
    b.u32(1); // Flags: SPI Count/Base Select
    b.u16(gic.v2m.spiCount);
    b.u16(gic.v2m.spiBase);
    acpiTableEnd(ctx, t);
  },
};
