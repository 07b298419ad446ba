import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AcpiBlobs } from './acpi/acpi-build.js';
import { BIOS_LINKER_LOADER_COMMAND_ADD_CHECKSUM, BIOS_LINKER_LOADER_COMMAND_ADD_POINTER, BIOS_LINKER_LOADER_ENTRY_SIZE } from './acpi/bios-linker.js';
import { ACPI_BUILD_TABLE_FILE } from './fw-cfg/fw-cfg-keys.js';

/** One table split out of etc/acpi/tables. */
export interface SplitTable {
  /** File name: SIG.dat, then SIG2.dat ... for repeated signatures (as acpixtract numbers SSDTs). */
  readonly file: string;
  readonly sig: string;
  /** Offset in the blob. */
  readonly offset: number;
  /** The table with its checksum filled; pointers stay blob offsets (as QEMU's tests/data/acpi files). */
  readonly bytes: Uint8Array;
}

const name = (b: Uint8Array, at: number): string => {
  let s = '';
  for (let i = at; i < at + 56 && b[i] !== 0; i++) s += String.fromCharCode(b[i]!);
  return s;
};

function sum(b: Uint8Array): number {
  let s = 0;
  for (const x of b) s += x;
  return s & 0xff;
}

/**
 * Splits the tables blob using the loader: every ADD_CHECKSUM on the blob
 * covers one table (its header's byte 9), and every pointer target that is
 * a FACS (no checksum) is added. Each table's checksum is filled. The RSDP
 * comes out as RSDP.dat with its checksums filled.
 */
export function splitAcpiTables(blobs: AcpiBlobs): SplitTable[] {
  const t = blobs.tables;
  const dv = new DataView(t.buffer, t.byteOffset, t.byteLength);
  const found = new Map<number, Uint8Array>();
  const l = blobs.loader;
  const lv = new DataView(l.buffer, l.byteOffset, l.byteLength);
  for (let at = 0; at + BIOS_LINKER_LOADER_ENTRY_SIZE <= l.length; at += BIOS_LINKER_LOADER_ENTRY_SIZE) {
    const cmd = lv.getUint32(at, true);
    if (cmd === BIOS_LINKER_LOADER_COMMAND_ADD_CHECKSUM && name(l, at + 4) === ACPI_BUILD_TABLE_FILE) {
      const start = lv.getUint32(at + 64, true);
      const len = lv.getUint32(at + 68, true);
      const bytes = t.slice(start, start + len);
      bytes[9] = 0;
      bytes[9] = (0x100 - sum(bytes)) & 0xff;
      found.set(start, bytes);
    } else if (cmd === BIOS_LINKER_LOADER_COMMAND_ADD_POINTER && name(l, at + 60) === ACPI_BUILD_TABLE_FILE && name(l, at + 4) === ACPI_BUILD_TABLE_FILE) {
      const dst = lv.getUint32(at + 116, true);
      const size = l[at + 120]!;
      const target = size === 8 ? Number(dv.getBigUint64(dst, true)) : dv.getUint32(dst, true);
      if (target + 8 <= t.length && String.fromCharCode(...t.subarray(target, target + 4)) === 'FACS') {
        found.set(target, t.slice(target, target + dv.getUint32(target + 4, true)));
      }
    }
  }
  const counts = new Map<string, number>();
  const out: SplitTable[] = [];
  for (const [offset, bytes] of [...found].sort((a, b) => a[0] - b[0])) {
    const sig = String.fromCharCode(...bytes.subarray(0, 4));
    const n = (counts.get(sig) ?? 0) + 1;
    counts.set(sig, n);
    out.push({ file: n === 1 ? `${sig}.dat` : `${sig}${n}.dat`, sig, offset, bytes });
  }
  const rsdp = blobs.rsdp.slice();
  if (rsdp.length >= 20) {
    rsdp[8] = 0;
    rsdp[8] = (0x100 - sum(rsdp.subarray(0, 20))) & 0xff;
  }
  if (rsdp.length >= 36) {
    rsdp[32] = 0;
    rsdp[32] = (0x100 - sum(rsdp.subarray(0, 36))) & 0xff;
  }
  out.push({ file: 'RSDP.dat', sig: 'RSD PTR ', offset: 0, bytes: rsdp });
  return out;
}

/**
 * `viommu firmware --out DIR`: every ACPI table as SIG.dat (for `iasl -d`)
 * and the device tree as machine.dtb (for `dtc -I dtb`). Returns the names
 * written, in order.
 */
export function writeFirmwareFiles(dir: string, fw: { acpi?: AcpiBlobs; dtb?: Uint8Array }): string[] {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  if (fw.acpi) {
    for (const tbl of splitAcpiTables(fw.acpi)) {
      writeFileSync(join(dir, tbl.file), tbl.bytes);
      written.push(tbl.file);
    }
  }
  if (fw.dtb) {
    writeFileSync(join(dir, 'machine.dtb'), fw.dtb);
    written.push('machine.dtb');
  }
  return written;
}

/** `-machine dumpdtb=FILE`: writes the blob; QEMU then prints this line and exits. */
export function dumpDtb(file: string, dtb: Uint8Array): string {
  writeFileSync(file, dtb);
  return `dtb dumped to ${file}. Exiting.`;
}
