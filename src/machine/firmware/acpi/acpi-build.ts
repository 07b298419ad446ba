import type { FirmwareDescription } from '../description.js';
import { ByteBuffer } from '../byte-buffer.js';
import { ACPI_BUILD_TABLE_FILE } from '../fw-cfg/fw-cfg-keys.js';
import { BiosLinker } from './bios-linker.js';
import type { AcpiBuildContext, AcpiTableGenerator } from './acpi-table.js';
import { buildRootTable, buildRsdp } from './tables/root-table.js';

/** The three fw_cfg files of QEMU's ACPI hand-off. */
export interface AcpiBlobs {
  /** etc/acpi/tables: every table back to back, checksums 0, pointers as blob offsets. */
  readonly tables: Uint8Array;
  /** etc/acpi/rsdp. */
  readonly rsdp: Uint8Array;
  /** etc/table-loader: 128-byte BIOS linker commands. */
  readonly loader: Uint8Array;
}

export interface AcpiBuildOptions {
  /** RSDP revision 0 points at an RSDT (QEMU 7.2 x86); 2 at an XSDT (Arm). */
  readonly rsdpRevision: 0 | 2;
  /** Pads etc/acpi/tables to a multiple of this (ACPI_BUILD_TABLE_SIZE, 0x20000). */
  readonly tablesAlign?: number;
  /** Pads etc/table-loader to a multiple of this (x86: ACPI_BUILD_ALIGN_SIZE, 0x1000). */
  readonly loaderAlign?: number;
}

/** Offset of each table in a blob (for tests, inspection and vIOMMU code). */
export interface AcpiBuildResult extends AcpiBlobs {
  readonly offsets: ReadonlyMap<string, number>;
}

/**
 * Runs the generators in order over one blob, then the root table (RSDT or
 * XSDT, listing the tables generators listed) and the RSDP, as QEMU's
 * acpi_build / virt_acpi_build do. The blob is allocated 64-byte aligned in
 * high memory, the RSDP 16-byte aligned in the F segment.
 */
export function buildAcpi(desc: FirmwareDescription, generators: readonly AcpiTableGenerator[], opts: AcpiBuildOptions): AcpiBuildResult {
  const tables = new ByteBuffer();
  const linker = new BiosLinker();
  linker.alloc(ACPI_BUILD_TABLE_FILE, tables, 64, false);
  const ctx: AcpiBuildContext = { desc, tables, linker, listed: [], offsets: new Map() };
  for (const g of generators) {
    if (g.applies && !g.applies(desc)) continue;
    g.build(ctx);
  }
  const root = buildRootTable(ctx, opts.rsdpRevision === 0 ? 'RSDT' : 'XSDT');
  const rsdp = new ByteBuffer();
  buildRsdp(ctx, rsdp, opts.rsdpRevision, root);
  if (opts.tablesAlign) tables.align(opts.tablesAlign);
  if (opts.loaderAlign) linker.cmds.align(opts.loaderAlign);
  return { tables: tables.toBytes(), rsdp: rsdp.toBytes(), loader: linker.cmds.toBytes(), offsets: new Map(ctx.offsets) };
}
