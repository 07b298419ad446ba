import type { FirmwareDescription } from './description.js';
import { buildMachineAcpi } from './acpi/acpi-boards.js';
import type { AcpiBlobs } from './acpi/acpi-build.js';
import type { AcpiTableGenerator } from './acpi/acpi-table.js';
import { buildMachineFdt } from './fdt/fdt-boards.js';
import type { FdtContributor } from './fdt/fdt-build.js';

/** Tables and nodes a machine adds to its board's defaults (its vIOMMU, for one). */
export interface FirmwareExtensions {
  readonly acpi?: readonly AcpiTableGenerator[];
  readonly fdt?: readonly FdtContributor[];
}

/** What a machine hands its firmware: q35 ACPI; virt ACPI and a DTB; pseries a DTB. */
export interface MachineFirmware {
  readonly acpi?: AcpiBlobs;
  readonly dtb?: Uint8Array;
}

/** Builds every firmware blob of a description (for `viommu firmware --out DIR` and dumpdtb). */
export function buildMachineFirmware(desc: FirmwareDescription, ext: FirmwareExtensions = {}): MachineFirmware {
  const acpi = desc.machine === 'pseries' ? undefined : buildMachineAcpi(desc, ext.acpi);
  const dtb = desc.machine === 'q35' ? undefined : buildMachineFdt(desc, ext.fdt).toDtb();
  return { ...(acpi ? { acpi } : {}), ...(dtb ? { dtb } : {}) };
}
