import type { GuestKernel } from '../kernel.js';
import { fail, type Result } from '../util/result.js';
import { walkAcpi, type AcpiWalk } from './acpi/walk.js';
import type { FwCfgClient } from './fw-cfg.js';
import { runTableLoader } from './table-loader.js';

/**
 * The FSEG zone: on x86 the BIOS area below 1 MiB where an ACPI 1.0 OS
 * looks for the RSDP (here simply low memory); other firmware (UEFI on Arm)
 * has no such zone and allocates it like any other.
 */
const FSEG_LIMIT = 0x10_0000;

/**
 * Firmware's ACPI step: run `etc/table-loader` against fw_cfg (placing
 * `etc/acpi/rsdp` and `etc/acpi/tables` in guest RAM, patching pointers
 * and checksums), then walk the tables from the RSDP in guest memory, as
 * the OS does.
 */
export function loadAcpi(k: GuestKernel, fw: FwCfgClient): Result<AcpiWalk> {
  const x86 = fw.regs.kind === 'io';
  const script = fw.readFile('etc/table-loader');
  if (!script.ok) return script;
  const loaded = runTableLoader(script.value, {
    readFile: (name) => fw.readFile(name),
    alloc: (size, align, zone) => k.mem.alloc(size, align, zone === 'fseg' && x86 ? FSEG_LIMIT : undefined),
    writeMem: (addr, bytes) => {
      k.port.writeBytes(addr, bytes);
    },
    writeFwCfg: (name, off, bytes) => fw.writeFile(name, off, bytes),
  });
  if (!loaded.ok) return loaded;
  const c = loaded.value.commands;
  k.log.info('ACPI', `table-loader: ${c.allocate} allocations, ${c.addPointer} pointers, ${c.addChecksum} checksums, ${c.writePointer} fw_cfg pointers${c.skipped ? `, ${c.skipped} unknown commands skipped` : ''}`);
  const rsdp = loaded.value.files.get('etc/acpi/rsdp');
  if (!rsdp) return fail('ACPI: the table loader placed no etc/acpi/rsdp');
  const walk = walkAcpi(k.port, rsdp.addr);
  if (!walk.ok) return walk;
  const w = walk.value;
  k.log.info('ACPI', `RSDP 0x${w.rsdp.addr.toString(16)} (v${String(w.rsdp.revision).padStart(2, '0')} ${w.rsdp.oemId})`);
  for (const t of [w.root, ...w.tables]) {
    k.log.info('ACPI', `${t.signature} 0x${t.addr.toString(16).padStart(16, '0')} ${t.length.toString(16).padStart(6, '0')} (v${String(t.revision).padStart(2, '0')} ${t.oemId} ${t.oemTableId})`);
  }
  for (const e of w.errors) k.log.err('ACPI', e);
  return walk;
}
