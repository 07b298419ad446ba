import type { ByteBuffer } from '../../byte-buffer.js';
import { ACPI_BUILD_RSDP_FILE, ACPI_BUILD_TABLE_FILE } from '../../fw-cfg/fw-cfg-keys.js';
import { acpiTableBegin, acpiTableEnd, tablePointer, type AcpiBuildContext } from '../acpi-table.js';

/**
 * RSDT (4-byte entries) or XSDT (8-byte entries), ACPI 6.4 sections 5.2.7
 * and 5.2.8, revision 1, listing every table generators listed, in order
 * (QEMU build_rsdt / build_xsdt). Returns the table's offset.
 */
export function buildRootTable(ctx: AcpiBuildContext, kind: 'RSDT' | 'XSDT'): number {
  const size = kind === 'RSDT' ? 4 : 8;
  const listed = [...ctx.listed];
  const t = acpiTableBegin(ctx, kind, 1, false);
  for (const off of listed) tablePointer(ctx, ctx.tables.int(0, size), size, off);
  acpiTableEnd(ctx, t);
  return t.offset;
}

/**
 * RSDP (ACPI 6.4 section 5.2.5.3) in its own file as QEMU's build_rsdp:
 * revision 0 (20 bytes, RSDT pointer) or 2 (36 bytes, XSDT pointer), with
 * the ACPI 1.0 checksum over 20 bytes and, for revision 2, the extended
 * checksum over 36, both filled by the loader.
 */
export function buildRsdp(ctx: AcpiBuildContext, rsdp: ByteBuffer, revision: 0 | 2, rootOffset: number): void {
  ctx.linker.alloc(ACPI_BUILD_RSDP_FILE, rsdp, 16, true);
  rsdp.padded('RSD PTR ', 8);
  rsdp.u8(0); // checksum
  rsdp.padded(ctx.desc.oem.id, 6);
  rsdp.u8(revision);
  rsdp.u32(0); // RsdtAddress
  if (revision === 0) ctx.linker.addPointer(ACPI_BUILD_RSDP_FILE, 16, 4, ACPI_BUILD_TABLE_FILE, rootOffset);
  ctx.linker.addChecksum(ACPI_BUILD_RSDP_FILE, 0, 20, 8);
  if (revision === 0) return;
  rsdp.u32(36); // Length
  rsdp.u64(0); // XsdtAddress
  ctx.linker.addPointer(ACPI_BUILD_RSDP_FILE, 24, 8, ACPI_BUILD_TABLE_FILE, rootOffset);
  rsdp.u8(0); // extended checksum
  rsdp.zeros(3);
  ctx.linker.addChecksum(ACPI_BUILD_RSDP_FILE, 0, 36, 32);
}
