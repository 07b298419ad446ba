import { ConfigError } from '../../../base/config-error.js';
import type { FirmwareDescription } from '../description.js';
import { buildAcpi, type AcpiBuildOptions, type AcpiBuildResult } from './acpi-build.js';
import type { AcpiTableGenerator } from './acpi-table.js';
import { dmar } from './tables/dmar.js';
import { dsdt } from './tables/dsdt.js';
import { facs } from './tables/facs.js';
import { fadt } from './tables/fadt.js';
import { gtdt } from './tables/gtdt.js';
import { iort } from './tables/iort.js';
import { madtGic } from './tables/madt-gic.js';
import { madtX86 } from './tables/madt-x86.js';
import { mcfg } from './tables/mcfg.js';
import { viot } from './tables/viot.js';

/**
 * Each board's tables in QEMU 7.2's blob order (hw/i386/acpi-build.c
 * acpi_build; hw/arm/virt-acpi-build.c virt_acpi_build). A vIOMMU issue adds
 * its generator at QEMU's place: DMAR after MCFG on q35; IORT after MCFG
 * on virt (QEMU: after SPCR/DBG2, which viommu does not emit); VIOT after
 * those. Generators skip themselves (applies) when the machine lacks the device.
 * Tables QEMU has that do not describe the DMA path (HPET, WAET, PPTT, SPCR,
 * DBG2, SRAT) are not generated.
 */
export const Q35_ACPI_TABLES: readonly AcpiTableGenerator[] = Object.freeze([facs, dsdt, fadt, madtX86, mcfg, dmar, viot]);
/** virt: QEMU puts VIOT last, after IORT. */
export const VIRT_ACPI_TABLES: readonly AcpiTableGenerator[] = Object.freeze([dsdt, fadt, madtGic, gtdt, mcfg, iort, viot]);

const ACPI_BUILD_TABLE_SIZE = 0x20000;
const ACPI_BUILD_ALIGN_SIZE = 0x1000;

/** How QEMU 7.2 packs each board's files (RSDP revision, padding). */
export const Q35_ACPI_OPTIONS: AcpiBuildOptions = { rsdpRevision: 0, tablesAlign: ACPI_BUILD_TABLE_SIZE, loaderAlign: ACPI_BUILD_ALIGN_SIZE };
export const VIRT_ACPI_OPTIONS: AcpiBuildOptions = { rsdpRevision: 2, tablesAlign: ACPI_BUILD_TABLE_SIZE };

/** The ACPI blobs of a q35 or virt description; `extra` generators are appended before the root table. */
export function buildMachineAcpi(desc: FirmwareDescription, extra: readonly AcpiTableGenerator[] = []): AcpiBuildResult {
  if (desc.machine === 'q35') return buildAcpi(desc, [...Q35_ACPI_TABLES, ...extra], Q35_ACPI_OPTIONS);
  if (desc.machine === 'virt') return buildAcpi(desc, [...VIRT_ACPI_TABLES, ...extra], VIRT_ACPI_OPTIONS);
  throw new ConfigError('machine', `${desc.machine} has no ACPI tables`, ['q35', 'virt']);
}
