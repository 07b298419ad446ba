import type { Machine } from '../machine.js';
import { buildMachineAcpi } from './acpi/acpi-boards.js';
import { AcpiFwCfgFiles } from './acpi/acpi-fw-cfg.js';
import { buildMachineFdt } from './fdt/fdt-boards.js';
import { firmwareDescription } from './from-board.js';
import { addVirtItems, addX86Items } from './fw-cfg/fw-cfg-board-items.js';
import { FwCfgIo, FW_CFG_IO_DMA_OFFSET } from './fw-cfg/fw-cfg-io.js';
import { FwCfgMem } from './fw-cfg/fw-cfg-mem.js';
import type { FwCfg } from './fw-cfg/fw-cfg.js';
import type { MachineFirmware } from './machine-firmware.js';

/**
 * A machine's firmware hand-off, as QEMU 7.2 wires it at machine-done:
 * q35 gets the I/O-port fw_cfg (0x510/0x511, DMA at 0x514; hw/i386/fw_cfg.c
 * fw_cfg_arch_create) and virt the MMIO one (0x09020000; hw/arm/virt.c
 * create_fw_cfg), both DMA-ing through system memory, carrying the
 * standard items and, unless acpi=off, etc/acpi/tables, etc/acpi/rsdp and
 * etc/table-loader rebuilt at the firmware's first select after each reset
 * (acpi_setup / acpi_build_update). virt's device tree is built once at
 * machine-done (arm_load_dtb); pseries rebuilds its tree at every reset
 * (spapr_machine_reset -> spapr_build_fdt), after its bus numbering.
 * Every blob is built from firmwareDescription(machine.describe()).
 */
export class FirmwareHandOff {
  fwCfg: FwCfg | undefined;
  acpi: AcpiFwCfgFiles | undefined;
  /** The flattened device tree the board hands over (GuestPort.fdt()). */
  fdt: Uint8Array | undefined;
  private machine: Machine | undefined;

  /** Attaches everything; Machine.create calls it once every cold-plugged device is in. */
  attach(m: Machine): void {
    this.machine = m;
    const d = m.describe();
    const slot = d.firmware.fwCfg;
    if (slot?.kind === 'io') {
      const fw = new FwCfgIo(m.mem, { dmaAs: m.systemAs });
      fw.map(m.ioRoot, slot.base, slot.base + FW_CFG_IO_DMA_OFFSET);
      addX86Items(fw, d.ram, 1);
      this.fwCfg = fw;
    } else if (slot?.kind === 'mmio') {
      const fw = new FwCfgMem(m.mem, { dmaAs: m.systemAs });
      fw.map(m.systemMemory, slot.base);
      addVirtItems(fw, 1);
      this.fwCfg = fw;
    }
    if (this.fwCfg && acpiEnabled(m)) {
      this.acpi = new AcpiFwCfgFiles(this.fwCfg, () => buildMachineAcpi(firmwareDescription(m.describe())));
    }
    if (d.board === 'virt') this.fdt = this.buildFdt();
  }

  /** Machine reset: fw_cfg selects the signature, ACPI rebuilds at the next select, pseries rebuilds its tree. */
  reset(): void {
    this.fwCfg?.reset();
    this.acpi?.reset();
    if (this.machine?.boardName === 'pseries') this.fdt = this.buildFdt();
  }

  /** What the firmware gets now: the ACPI files (rebuilt first if not yet since reset) and the DTB. */
  served(): MachineFirmware {
    const acpi = this.acpi?.current();
    return { ...(acpi ? { acpi } : {}), ...(this.fdt ? { dtb: this.fdt } : {}) };
  }

  private buildFdt(): Uint8Array {
    return buildMachineFdt(firmwareDescription(this.machine!.describe())).toDtb();
  }
}

/** The acpi machine property (OnOffAuto; auto means on for q35 and virt). */
function acpiEnabled(m: Machine): boolean {
  return m.props.str('acpi') !== 'off';
}
