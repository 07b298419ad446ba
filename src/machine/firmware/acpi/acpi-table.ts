import type { FirmwareDescription } from '../description.js';
import { ByteBuffer } from '../byte-buffer.js';
import { ACPI_BUILD_TABLE_FILE } from '../fw-cfg/fw-cfg-keys.js';
import type { BiosLinker } from './bios-linker.js';

/** Bytes of the System Description Table header (ACPI 6.4 section 5.2.6). */
export const ACPI_TABLE_HEADER_SIZE = 36;
/** QEMU's Creator ID and revision (ACPI_BUILD_APPNAME8 prefix, 1). */
export const ACPI_CREATOR_ID = 'BXPC';

/** What every table generator gets: the description, the blob, the linker. */
export interface AcpiBuildContext {
  readonly desc: FirmwareDescription;
  /** The `etc/acpi/tables` blob. */
  readonly tables: ByteBuffer;
  readonly linker: BiosLinker;
  /** Offsets of the tables the RSDT/XSDT lists, in order (acpi_add_table). */
  readonly listed: number[];
  /** Offsets of tables others point at (FACS, DSDT), by signature. */
  readonly offsets: Map<string, number>;
}

/** A table being written (QEMU's AcpiTable between acpi_table_begin and _end). */
export interface AcpiTable {
  readonly sig: string;
  readonly offset: number;
}

/**
 * acpi_table_begin: appends the 36-byte header (signature, length patched
 * at the end, revision, checksum 0, OEM ID, OEM table ID, OEM revision 1,
 * creator "BXPC", creator revision 1). Listed tables are recorded for the
 * root table; `offsets` remembers every table by signature.
 */
export function acpiTableBegin(ctx: AcpiBuildContext, sig: string, rev: number, listed = true): AcpiTable {
  const b = ctx.tables;
  const offset = b.length;
  if (listed) ctx.listed.push(offset);
  ctx.offsets.set(sig, offset);
  b.padded(sig, 4);
  b.u32(0);
  b.u8(rev);
  b.u8(0);
  b.padded(ctx.desc.oem.id, 6);
  b.padded(ctx.desc.oem.tableId, 8);
  b.u32(1);
  b.padded(ACPI_CREATOR_ID, 4);
  b.u32(1);
  return { sig, offset };
}

/** acpi_table_end: patches the length and asks the loader for the checksum (byte 9). */
export function acpiTableEnd(ctx: AcpiBuildContext, t: AcpiTable): void {
  const len = ctx.tables.length - t.offset;
  ctx.tables.setInt(t.offset + 4, len, 4);
  ctx.linker.addChecksum(ACPI_BUILD_TABLE_FILE, t.offset, len, t.offset + 9);
}

/** A pointer inside etc/acpi/tables to another table in it. */
export function tablePointer(ctx: AcpiBuildContext, at: number, size: 4 | 8, target: number): void {
  ctx.linker.addPointer(ACPI_BUILD_TABLE_FILE, at, size, ACPI_BUILD_TABLE_FILE, target);
}

/**
 * One ACPI table of a board: a vIOMMU issue adds a table by writing one
 * generator (a file exporting an AcpiTableGenerator) and adding it to the
 * board's list in acpi-boards.ts at the place QEMU puts it.
 */
export interface AcpiTableGenerator {
  readonly signature: string;
  /** Whether this machine has the table (default: always). */
  applies?(desc: FirmwareDescription): boolean;
  /** Appends the table to ctx.tables (acpiTableBegin ... acpiTableEnd). */
  build(ctx: AcpiBuildContext): void;
}

/** Generic Address Structure (ACPI 6.4 section 5.2.3.2), 12 bytes. */
export function appendGas(b: ByteBuffer, spaceId: number, bitWidth: number, bitOffset: number, accessWidth: number, address: number | bigint): void {
  b.u8(spaceId);
  b.u8(bitWidth);
  b.u8(bitOffset);
  b.u8(accessWidth);
  b.u64(address);
}
export const AML_AS_SYSTEM_MEMORY = 0;
export const AML_AS_SYSTEM_IO = 1;
