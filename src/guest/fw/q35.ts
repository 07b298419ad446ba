import type { GuestKernel } from '../kernel.js';
import { cf8Access, type PciConfigAccess } from '../pci-core/config-access.js';
import { enumeratePci } from '../pci-core/enumerate.js';
import { assignResources, SEABIOS_HOTPLUG_RESERVE, type HostWindows } from '../pci-core/resources.js';
import { loadAcpi } from './acpi-load.js';
import { fwCfgIo } from './fw-cfg-regs.js';
import { FwCfgClient } from './fw-cfg.js';

/** Q35 MCH (Intel 3 Series Chipset Datasheet, section 5.1): 00:00.0 is 8086:29c0; PCIEXBAR at 0x60 (64-bit). */
export const Q35_MCH_DEVICE = 0x29c0;
export const MCH_PCIEXBAR = 0x60;
/** PCIEXBAR: enable bit 0, length bits 2:1 (00 = 256 buses, 256 MiB), base bits 35:28. SeaBIOS puts it at 0xb0000000. */
export const MCH_PCIEXBAR_ENABLE = 0x1;
export const Q35_PCIEXBAR_BASE = 0xb000_0000;
/** SeaBIOS's q35 PCI windows: I/O from 0xc000, 32-bit memory above MMCONFIG up to the IOAPIC at 0xfec00000. */
export const Q35_WINDOWS: HostWindows = {
  io: { pciBase: 0xc000, cpuBase: 0xc000, size: 0x4000 },
  mem32: { pciBase: 0xc000_0000, cpuBase: 0xc000_0000, size: 0xfec0_0000 - 0xc000_0000 },
};

/**
 * The q35 boot path, firmware then OS. Firmware (as SeaBIOS): enable
 * MMCONFIG in the MCH, number the buses and assign BARs through 0xcf8/0xcfc
 * (keeping windows for empty hot-plug ports, as SeaBIOS does),
 * then run the ACPI table loader over fw_cfg (QEMU builds its tables at that
 * moment, from the bus numbers it sees). OS: walk ACPI from the RSDP and
 * scan PCI again through ECAM from MCFG (extended capabilities need it), or
 * through 0xcf8 when there is no MCFG.
 */
export function bootQ35(k: GuestKernel): PciConfigAccess | undefined {
  const cf8 = cf8Access(k.port);
  if (!cf8) {
    k.firmware.errors.push('q35: no port I/O');
    return undefined;
  }
  const id = cf8.read(0, 0, 0, 4) >>> 0;
  if ((id & 0xffff) === 0x8086 && id >>> 16 === Q35_MCH_DEVICE) {
    cf8.write(0, 0, MCH_PCIEXBAR + 4, 4, 0);
    cf8.write(0, 0, MCH_PCIEXBAR, 4, Q35_PCIEXBAR_BASE | MCH_PCIEXBAR_ENABLE);
  }
  const fwTopo = enumeratePci(cf8, { assignBuses: true });
  k.firmware.windows = Q35_WINDOWS;
  for (const f of assignResources(fwTopo.root, Q35_WINDOWS, undefined, SEABIOS_HOTPLUG_RESERVE)) k.firmware.errors.push(f);
  const regs = fwCfgIo(k.port);
  const fw = regs ? FwCfgClient.open(k.port, regs, k.mem) : undefined;
  if (!fw || !fw.ok) {
    k.firmware.errors.push(fw ? fw.error : 'fw_cfg: no port I/O');
    k.log.err('fw_cfg', fw && !fw.ok ? fw.error : 'not found');
    return cf8;
  }
  k.firmware.fwCfg = fw.value;
  k.log.info('fw_cfg', `QEMU fw_cfg at I/O 0x510, ${fw.value.files.length} files, ${fw.value.hasDma ? 'DMA interface' : 'traditional interface'}`);
  const walk = loadAcpi(k, fw.value);
  if (!walk.ok) {
    k.firmware.errors.push(walk.error);
    k.log.err('ACPI', walk.error);
    return cf8;
  }
  k.firmware.kind = 'acpi';
  k.firmware.acpi = walk.value;
  k.firmware.errors.push(...walk.value.errors);
  return cf8;
}
