import { ByteBuffer } from '../byte-buffer.js';
import type { MemRange } from '../description.js';
import type { FwCfgItems } from './fw-cfg-items.js';
import { FW_CFG_IRQ0_OVERRIDE, FW_CFG_MAX_CPUS, FW_CFG_NB_CPUS, FW_CFG_RAM_SIZE } from './fw-cfg-keys.js';

/** E820 entry types (ACPI 6.4 section 15.1, table 15.312). */
export const E820_RAM = 1;
export const E820_RESERVED = 2;
/**
 * The AMD HyperTransport range below 1 TiB (hw/i386/pc.c AMD_HT_START,
 * AMD_HT_SIZE = AMD_ABOVE_1TB_START - AMD_HT_START). QEMU 7.2 reserves it in
 * the e820 map because its default CPU (qemu64) has the AMD vendor id.
 */
export const AMD_HT_START = 0xfd_0000_0000;
export const AMD_HT_SIZE = 0x3_0000_0000;

/** etc/e820: packed {le64 address, le64 length, le32 type} entries (hw/i386/e820_memory_layout.h). */
export function e820Table(ram: readonly MemRange[]): Uint8Array {
  const b = new ByteBuffer();
  const entry = (address: number, length: number, type: number): void => {
    b.u64(address);
    b.u64(length);
    b.u32(type);
  };
  // pc_memory_init adds the HT reservation before the RAM entries (order as QEMU 7.2's etc/e820 reads).
  entry(AMD_HT_START, AMD_HT_SIZE, E820_RESERVED);
  for (const r of ram) entry(r.base, r.size, E820_RAM);
  return b.toBytes();
}

/**
 * The numbered items and files a QEMU 7.2 q35 puts in fw_cfg besides the
 * generic ones (hw/i386/fw_cfg.c fw_cfg_arch_create, hw/i386/pc.c): CPU
 * counts (one CPU; MAX_CPUS is the APIC id limit), the RAM size, the IRQ0
 * override flag and etc/e820. Left out because viommu has no such device:
 * FW_CFG_HPET, the legacy e820 reserve table and ACPI table items, SMBIOS,
 * SMI feature negotiation, etc/system-states, etc/tpm/log, option ROMs.
 */
export function addX86Items(fw: FwCfgItems, ram: readonly MemRange[], cpus: number): void {
  fw.addI16(FW_CFG_NB_CPUS, cpus);
  fw.addI16(FW_CFG_MAX_CPUS, cpus);
  fw.addI64(FW_CFG_RAM_SIZE, BigInt(ram.reduce((n, r) => n + r.size, 0)));
  fw.addI32(FW_CFG_IRQ0_OVERRIDE, 1);
  fw.addFile('etc/e820', e820Table(ram));
}

/** virt adds only the CPU count (hw/arm/virt.c create_fw_cfg); RAM is in the device tree. */
export function addVirtItems(fw: FwCfgItems, cpus: number): void {
  fw.addI16(FW_CFG_NB_CPUS, cpus);
}
