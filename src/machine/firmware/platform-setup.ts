import { PCIBridge } from '../../pci/bridge.js';
import type { PCIBus } from '../../pci/bus.js';
import { PCI_PRIMARY_BUS, PCI_SECONDARY_BUS, PCI_SUBORDINATE_BUS } from '../../pci/regs.js';
import { Q35Board } from '../boards/q35/q35.js';
import { MCH_HOST_BRIDGE_PCIEXBAR } from '../boards/q35/mch.js';
import type { Machine } from '../machine.js';

/** SeaBIOS's q35 MMCONFIG: 256 MiB at 0xb0000000 (src/hw/pci.h Q35_HOST_BRIDGE_PCIEXBAR_ADDR), enable bit 0. */
const Q35_PCIEXBAR = 0xb000_0000 | 1;
/** SeaBIOS PORT_ACPI_PM_BASE, with the PMBASE resource-type bit (src/fw/pciinit.c ich9_lpc_setup). */
const ICH9_LPC_PMBASE = 0x40;
const PORT_ACPI_PM_BASE = 0x600;
const ICH9_LPC_ACPI_CTRL = 0x44;
const ICH9_LPC_ACPI_CTRL_ACPI_EN = 0x80;

/**
 * pci_bios_init_bus_rec (SeaBIOS src/fw/pciinit.c; EDK2 numbers the same
 * way): every bridge in devfn order gets primary = its bus, secondary =
 * the next number, subordinate = 0xff while its side is scanned, then the
 * last number used below it.
 */
function numberBuses(bus: PCIBus, next: { n: number }): void {
  for (const d of bus.devices) {
    if (!(d instanceof PCIBridge)) continue;
    d.configWrite(PCI_PRIMARY_BUS, bus.number, 1);
    d.configWrite(PCI_SECONDARY_BUS, ++next.n, 1);
    d.configWrite(PCI_SUBORDINATE_BUS, 0xff, 1);
    numberBuses(d.secondaryBus, next);
    d.configWrite(PCI_SUBORDINATE_BUS, next.n, 1);
  }
}

/**
 * What the firmware programs before it reads its tables, through config
 * space as it does: q35 MMCONFIG (mch_mem_addr_setup) and the ACPI PM base
 * (ich9_lpc_setup), then bridge bus numbers. pseries needs nothing: QEMU
 * numbers its buses at reset (spapr_phb_pci_enumerate). `viommu firmware`
 * runs this so its tables are those a booted guest reads (q35 has no MCFG
 * before PCIEXBAR is enabled).
 */
export function firmwarePlatformSetup(m: Machine): void {
  const b = m.board;
  if (b instanceof Q35Board) {
    b.mch.configWrite(MCH_HOST_BRIDGE_PCIEXBAR + 4, 0, 4);
    b.mch.configWrite(MCH_HOST_BRIDGE_PCIEXBAR, Q35_PCIEXBAR, 4);
    b.lpc.configWrite(ICH9_LPC_PMBASE, PORT_ACPI_PM_BASE | 1, 4);
    b.lpc.configWrite(ICH9_LPC_ACPI_CTRL, ICH9_LPC_ACPI_CTRL_ACPI_EN, 1);
  }
  if (m.boardName !== 'pseries') numberBuses(m.rootBus, { n: m.rootBus.number });
}
