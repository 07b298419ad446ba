import { ConfigError } from '../../base/config-error.js';
import type { BoardDescription, BoardDeviceDescription, PCIHostDescription } from '../boards/board.js';
import type { FirmwareDescription, PciFunction, PciHostBridge, PciWindow } from './description.js';
import { pseriesDescription, q35Description, spaprPhb, virtDescription } from './presets.js';

const WINDOW_KIND: Record<PCIHostDescription['windows'][number]['kind'], PciWindow['kind']> = { io: 'io', mmio32: 'mem32', mmio64: 'mem64' };
/** QEMU lists a host's windows I/O, 32-bit, 64-bit (DT ranges, ACPI _CRS). */
const WINDOW_ORDER: readonly PciWindow['kind'][] = ['io', 'mem32', 'mem64'];
/**
 * x86: I/O below the 0xcf8 config ports is described by the DSDT itself
 * (hw/i386/acpi-build.c build_dsdt: 0x0000-0x0cf7, the ports, then
 * 0x0d00-0xffff), so the root bus's I/O window starts at 0x0d00.
 */
const X86_PCI_IO_START = 0x0d00;

function hostBridge(h: PCIHostDescription, segment: number): PciHostBridge {
  const windows = h.windows.map((w): PciWindow => {
    const kind = WINDOW_KIND[w.kind];
    if (kind === 'io' && h.cf8) {
      const skip = X86_PCI_IO_START - w.pciBase;
      return { kind, cpuBase: w.base + skip, pciBase: X86_PCI_IO_START, size: w.size - skip };
    }
    return { kind, cpuBase: w.base, pciBase: w.pciBase, size: w.size };
  }).sort((a, b) => WINDOW_ORDER.indexOf(a.kind) - WINDOW_ORDER.indexOf(b.kind));
  return {
    name: h.rootBus, segment, busStart: h.busRange[0], busEnd: h.busRange[1],
    // q35: no MCFG until the firmware enables PCIEXBAR (acpi_get_mcfg returns false while unmapped).
    ...(h.ecam && h.ecam.enabled ? { ecam: { base: h.ecam.base, size: h.ecam.size } } : {}),
    windows,
  };
}

function pciFunction(d: BoardDeviceDescription, segment: number): PciFunction {
  return {
    segment, bdf: (d.busNumber << 8) | d.devfn, vendorId: d.vendorId, deviceId: d.deviceId, classCode: d.classCode,
    ...(d.bridge ? { bridge: d.bridge } : {}), driver: d.driver, ...(d.id !== undefined ? { id: d.id } : {}),
  };
}

/** The sPAPR facts of a PHB: QEMU's defaults for its index, with the DMA window the board reports (the TCE room). */
function spaprHost(h: PCIHostDescription, segment: number): PciHostBridge {
  const index = h.index ?? 0;
  const preset = spaprPhb(index);
  if (h.buid !== undefined && h.buid !== preset.spapr!.buid) {
    throw new ConfigError('pseries', `PHB ${index} has BUID 0x${h.buid.toString(16)}, expected 0x${preset.spapr!.buid.toString(16)}`);
  }
  return {
    ...hostBridge(h, segment),
    spapr: {
      ...preset.spapr!, ...(h.dmaWindow ? { dmaWindow: h.dmaWindow } : {}), ...(h.ddw !== undefined ? { ddw: h.ddw } : {}),
      ...(h.deviceNodes?.length ? { deviceNodes: h.deviceNodes } : {}),
    },
  };
}

/**
 * The one mapping from a machine as built (Machine.describe()) to what its
 * firmware tables say: RAM ranges, host bridges with the windows the board
 * decodes and the ECAM only once mapped, every PCI function with the bus
 * number the firmware programmed by now, vIOMMUs, the fw_cfg slot and the
 * platform facts the board does not model (taken from QEMU 7.2's presets).
 * Call it when the tables are built: QEMU builds them at the firmware's
 * first ACPI select after reset (acpi_build_update), and the device tree at
 * machine-done (virt) or at every reset (pseries).
 */
export function firmwareDescription(b: BoardDescription): FirmwareDescription {
  const ramSize = b.ram.reduce((n, r) => n + r.size, 0);
  const ram = b.ram.map((r) => ({ base: r.base, size: r.size }));
  const segmentOf = (rootBus: string): number => {
    const i = b.pciHosts.findIndex((h) => h.rootBus === rootBus);
    return b.pciHosts[i]?.index ?? 0;
  };
  const devices = b.devices.map((d) => pciFunction(d, segmentOf(d.rootBus)));
  const fw = b.firmware.fwCfg;
  const fwCfgSize = b.reserved.find((r) => r.name === 'fw_cfg')?.size ?? 0;
  const fwCfg: FirmwareDescription['fwCfg'] = fw?.kind === 'io' ? { kind: 'io', base: fw.base }
    : fw?.kind === 'mmio' ? { kind: 'mmio', base: fw.base, size: fwCfgSize } : undefined;
  const common = { ram, devices, iommus: b.iommus, fwCfg };
  switch (b.board) {
    case 'q35': {
      const preset = q35Description({ ramSize, pmBase: b.firmware.acpiPmBase ?? 0 });
      return { ...preset, ...common, pciHosts: b.pciHosts.map((h) => hostBridge(h, 0)) };
    }
    case 'virt':
      return { ...virtDescription({ ramSize }), ...common, pciHosts: b.pciHosts.map((h) => hostBridge(h, 0)) };
    case 'pseries':
      return { ...pseriesDescription({ ramSize }), ...common, pciHosts: b.pciHosts.map((h) => spaprHost(h, h.index ?? 0)) };
    default:
      throw new ConfigError('machine', `no firmware description for board '${b.board}'`, ['q35', 'virt', 'pseries']);
  }
}
