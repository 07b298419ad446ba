import { ConfigError } from '../../../../base/config-error.js';
import {
  acpiTableBegin, acpiTableEnd, appendGas, AML_AS_SYSTEM_IO, AML_AS_SYSTEM_MEMORY, tablePointer,
  type AcpiBuildContext, type AcpiTableGenerator,
} from '../acpi-table.js';

/** A register block of the FADT: address space, bit width, address. */
interface Gas { space: number; bitWidth: number; address: number }
const NONE: Gas = { space: AML_AS_SYSTEM_MEMORY, bitWidth: 0, address: 0 };

/** QEMU's AcpiFadtData (include/hw/acpi/acpi-defs.h). */
interface FadtData {
  rev: 3 | 6;
  minorVer: number;
  intModel: number;
  sciInt: number;
  smiCmd: number;
  acpiEnable: number;
  acpiDisable: number;
  pm1aEvt: Gas;
  pm1aCnt: Gas;
  pmTmr: Gas;
  gpe0: Gas;
  plvl2Lat: number;
  plvl3Lat: number;
  rtcCentury: number;
  iapcBootArch: number;
  flags: number;
  resetReg: Gas;
  resetVal: number;
  armBootArch: number;
  /** 32-bit FIRMWARE_CTRL / DSDT pointers are patched too (x86). */
  legacyPointers: boolean;
}

/** FADT flags (ACPI 6.4 table 5.10) QEMU sets on q35: WBINVD, PROC_C1, SLP_BUTTON, RTC_S4, RESET_REG_SUP, USE_PLATFORM_CLOCK. */
const Q35_FADT_FLAGS = (1 << 0) | (1 << 2) | (1 << 5) | (1 << 7) | (1 << 10) | (1 << 15);
/** HW_REDUCED_ACPI (bit 20). */
const HW_REDUCED_ACPI = 1 << 20;
/** ARM_BOOT_ARCH: PSCI_COMPLIANT (bit 0), PSCI_USE_HVC (bit 1). */
const ARM_PSCI_COMPLIANT = 1;
const ARM_PSCI_USE_HVC = 2;

function fadtData(ctx: AcpiBuildContext): FadtData {
  const { x86, arm } = ctx.desc;
  if (x86) {
    // hw/i386/acpi-build.c acpi_get_pm_info + build_fadt rev 3 (ICH9 PM block at PMBASE).
    const io = (bitWidth: number, address: number): Gas => ({ space: AML_AS_SYSTEM_IO, bitWidth, address });
    return {
      rev: 3, minorVer: 0, intModel: 1, sciInt: x86.sciIrq, smiCmd: x86.smiCmd, acpiEnable: 2, acpiDisable: 3,
      pm1aEvt: io(32, x86.pmBase), pm1aCnt: io(16, x86.pmBase + 4), pmTmr: io(32, x86.pmBase + 8),
      gpe0: io(128, x86.pmBase + 0x20), plvl2Lat: 0xfff, plvl3Lat: 0xfff, rtcCentury: 0x32, iapcBootArch: 2,
      flags: Q35_FADT_FLAGS, resetReg: io(8, 0xcf9), resetVal: 0xf, armBootArch: 0, legacyPointers: true,
    };
  }
  if (arm) {
    // hw/arm/virt-acpi-build.c build_fadt_rev6: hardware-reduced, PSCI.
    return {
      rev: 6, minorVer: 0, intModel: 0, sciInt: 0, smiCmd: 0, acpiEnable: 0, acpiDisable: 0,
      pm1aEvt: NONE, pm1aCnt: NONE, pmTmr: NONE, gpe0: NONE, plvl2Lat: 0, plvl3Lat: 0, rtcCentury: 0,
      iapcBootArch: 0, flags: HW_REDUCED_ACPI, resetReg: NONE, resetVal: 0,
      armBootArch: ARM_PSCI_COMPLIANT | (arm.psciConduit === 'hvc' ? ARM_PSCI_USE_HVC : 0), legacyPointers: false,
    };
  }
  throw new ConfigError('acpi', `no FADT for machine ${ctx.desc.machine}`);
}

/** FADT "FACP" (ACPI 6.4 section 5.2.9), laid out as QEMU's build_fadt (hw/acpi/aml-build.c). */
export const fadt: AcpiTableGenerator = {
  signature: 'FACP',
  build(ctx) {
    const f = fadtData(ctx);
    const b = ctx.tables;
    const t = acpiTableBegin(ctx, 'FACP', f.rev);
    const facs = ctx.offsets.get('FACS');
    const dsdt = ctx.offsets.get('DSDT');
    const fwCtrl = b.u32(0);
    if (facs !== undefined) tablePointer(ctx, fwCtrl, 4, facs);
    const dsdt32 = b.u32(0);
    if (dsdt !== undefined && f.legacyPointers) tablePointer(ctx, dsdt32, 4, dsdt);
    b.u8(f.intModel);
    b.u8(0); // Preferred_PM_Profile: unspecified
    b.u16(f.sciInt);
    b.u32(f.smiCmd);
    b.u8(f.acpiEnable);
    b.u8(f.acpiDisable);
    b.u8(0); // S4BIOS_REQ
    b.u8(0); // PSTATE_CNT
    for (const a of [f.pm1aEvt.address, 0, f.pm1aCnt.address, 0, 0, f.pmTmr.address, f.gpe0.address, 0]) b.u32(a);
    b.u8(f.pm1aEvt.bitWidth / 8);
    b.u8(f.pm1aCnt.bitWidth / 8);
    b.u8(0); // PM2_CNT_LEN
    b.u8(f.pmTmr.bitWidth / 8);
    b.u8(f.gpe0.bitWidth / 8);
    b.zeros(3); // GPE1_BLK_LEN, GPE1_BASE, CST_CNT
    b.u16(f.plvl2Lat);
    b.u16(f.plvl3Lat);
    b.zeros(8); // FLUSH_SIZE, FLUSH_STRIDE, DUTY_OFFSET, DUTY_WIDTH, DAY_ALRM, MON_ALRM
    b.u8(f.rtcCentury);
    b.u16(f.iapcBootArch);
    b.u8(0);
    b.u32(f.flags);
    const gas = (g: Gas): void => appendGas(b, g.space, g.bitWidth, 0, 0, g.address);
    gas(f.resetReg);
    b.u8(f.resetVal);
    if (f.rev >= 6) {
      b.u16(f.armBootArch);
      b.u8(f.minorVer);
    } else {
      b.zeros(3);
    }
    b.u64(0); // X_FIRMWARE_CTRL
    const xdsdt = b.u64(0);
    if (dsdt !== undefined) tablePointer(ctx, xdsdt, 8, dsdt);
    for (const g of [f.pm1aEvt, NONE, f.pm1aCnt, NONE, NONE, f.pmTmr, f.gpe0, NONE]) gas(g);
    if (f.rev >= 5) {
      gas(NONE); // SLEEP_CONTROL_REG
      gas(NONE); // SLEEP_STATUS_REG
    }
    if (f.rev >= 6) b.padded('QEMU', 8); // Hypervisor Vendor Identity
    acpiTableEnd(ctx, t);
  },
};
