import { ConfigError } from '../../base/config-error.js';
import { QEMU_OEM, type FirmwareDescription, type MemRange, type PciFunction, type PciHostBridge } from './description.js';

const GiB = 0x4000_0000;
const GB4 = 0x1_0000_0000;

export interface PresetOptions {
  /** RAM size in bytes (QEMU -m). */
  ramSize: number;
  cpus?: number;
  devices?: readonly PciFunction[];
}

function cpusOf(opts: PresetOptions, max: number): number {
  const n = opts.cpus ?? 1;
  if (!Number.isInteger(n) || n < 1 || n > max) throw new ConfigError('smp', `${n} CPUs is not supported here`, [`1..${max}`]);
  return n;
}

/** q35 MMCONFIG (PCIEXBAR as SeaBIOS programs it: 256 MiB at 0xb0000000). */
export const Q35_MMCONFIG: MemRange = Object.freeze({ base: 0xb000_0000, size: 0x1000_0000 });

/**
 * q35 as QEMU 7.2 lays it out (hw/i386/pc_q35.c): RAM below 4 GiB up to
 * 0x80000000 when -m is 2.75 GiB or more, else up to 0xb0000000, the rest
 * from 4 GiB; the 32-bit PCI hole up to the IOAPIC, the 64-bit hole (32 GiB)
 * 1 GiB-aligned above RAM. pmBase is what SeaBIOS programs (0x600).
 */
export function q35Description(opts: PresetOptions & { pmBase?: number; mmconfig?: MemRange | null }): FirmwareDescription {
  const lowmem = opts.ramSize >= 0xb000_0000 ? 0x8000_0000 : 0xb000_0000;
  const below = Math.min(opts.ramSize, lowmem);
  const above = opts.ramSize - below;
  const ram: MemRange[] = [{ base: 0, size: below }];
  if (above > 0) ram.push({ base: GB4, size: above });
  const hole64 = Math.ceil((GB4 + above) / GiB) * GiB;
  const mmconfig = opts.mmconfig === undefined ? Q35_MMCONFIG : opts.mmconfig;
  const mem32Base = Math.max(below, mmconfig ? mmconfig.base + mmconfig.size : below);
  const host: PciHostBridge = {
    name: 'pcie.0', segment: 0, busStart: 0, busEnd: 0xff,
    ...(mmconfig ? { ecam: mmconfig } : {}),
    windows: [
      { kind: 'io', cpuBase: 0x0d00, pciBase: 0x0d00, size: 0x10000 - 0x0d00 },
      { kind: 'mem32', cpuBase: mem32Base, pciBase: mem32Base, size: 0xfec0_0000 - mem32Base },
      { kind: 'mem64', cpuBase: hole64, pciBase: hole64, size: 32 * GiB },
    ],
  };
  return {
    machine: 'q35', ram, cpus: cpusOf(opts, 254), pciHosts: [host], devices: opts.devices ?? [],
    fwCfg: { kind: 'io', base: 0x510 }, oem: QEMU_OEM,
    x86: {
      lapicBase: 0xfee0_0000, ioapic: { id: 0, base: 0xfec0_0000, gsiBase: 0 },
      pmBase: opts.pmBase ?? 0x600, sciIrq: 9, smiCmd: 0xb2, pciIrqs: [5, 9, 10, 11],
    },
  };
}

/** virt's high ECAM window, the default in QEMU 7.2 (VIRT_HIGH_PCIE_ECAM). */
export const VIRT_HIGH_ECAM: MemRange = Object.freeze({ base: 0x40_1000_0000, size: 0x1000_0000 });

/**
 * Arm virt as QEMU 7.2 lays it out (hw/arm/virt.c memmap): RAM at 1 GiB,
 * GICv2 at 0x08000000 with the v2m frame at 0x08020000 (SPIs 48..111, so
 * GIC INTIDs 80..143), fw_cfg at 0x09020000, PCIe MMIO 0x10000000, PIO
 * 0x3eff0000, the high ECAM and the 512 GiB high MMIO window.
 */
export function virtDescription(opts: PresetOptions): FirmwareDescription {
  const host: PciHostBridge = {
    name: 'pcie.0', segment: 0, busStart: 0, busEnd: 0xff, ecam: VIRT_HIGH_ECAM,
    windows: [
      { kind: 'io', cpuBase: 0x3eff_0000, pciBase: 0, size: 0x10000 },
      { kind: 'mem32', cpuBase: 0x1000_0000, pciBase: 0x1000_0000, size: 0x2eff_0000 },
      { kind: 'mem64', cpuBase: 0x80_0000_0000, pciBase: 0x80_0000_0000, size: 0x80_0000_0000 },
    ],
  };
  return {
    machine: 'virt', ram: [{ base: GiB, size: opts.ramSize }], cpus: cpusOf(opts, 8), pciHosts: [host],
    devices: opts.devices ?? [], fwCfg: { kind: 'mmio', base: 0x0902_0000, size: 0x18 }, oem: QEMU_OEM,
    arm: {
      gic: {
        version: 2, distBase: 0x0800_0000, cpuBase: 0x0801_0000, hypBase: 0x0803_0000, vcpuBase: 0x0804_0000,
        v2m: { base: 0x0802_0000, spiBase: 48 + 32, spiCount: 64 },
      },
      timerPpis: { s: 13, ns: 14, virt: 11, hyp: 10 },
      pmuPpi: 7,
      psciConduit: 'hvc',
    },
  };
}

/** QEMU 7.2's RTAS tokens (hw/ppc/spapr_rtas.c, RTAS_TOKEN_BASE 0x2000), in token order. */
export const SPAPR_RTAS_TOKENS: readonly (readonly [string, number])[] = Object.freeze(([
  ['display-character', 0x2000], ['get-time-of-day', 0x2001], ['set-time-of-day', 0x2002], ['power-off', 0x2003],
  ['system-reboot', 0x2004], ['query-cpu-stopped-state', 0x2005], ['start-cpu', 0x2006], ['stop-self', 0x2007],
  ['ibm,get-system-parameter', 0x2008], ['ibm,set-system-parameter', 0x2009], ['ibm,set-xive', 0x200a],
  ['ibm,get-xive', 0x200b], ['ibm,int-off', 0x200c], ['ibm,int-on', 0x200d], ['check-exception', 0x200e],
  ['event-scan', 0x200f], ['ibm,set-tce-bypass', 0x2010], ['quiesce', 0x2011], ['nvram-fetch', 0x2012],
  ['nvram-store', 0x2013], ['read-pci-config', 0x2014], ['write-pci-config', 0x2015], ['ibm,read-pci-config', 0x2016],
  ['ibm,write-pci-config', 0x2017], ['ibm,query-interrupt-source-number', 0x2018], ['ibm,change-msi', 0x2019],
  ['set-indicator', 0x201a], ['set-power-level', 0x201b], ['get-power-level', 0x201c], ['get-sensor-state', 0x201d],
  ['ibm,configure-connector', 0x201e], ['ibm,os-term', 0x201f], ['ibm,set-eeh-option', 0x2020],
  ['ibm,get-config-addr-info2', 0x2021], ['ibm,read-slot-reset-state2', 0x2022], ['ibm,set-slot-reset', 0x2023],
  ['ibm,configure-pe', 0x2024], ['ibm,slot-error-detail', 0x2025], ['ibm,query-pe-dma-window', 0x2026],
  ['ibm,create-pe-dma-window', 0x2027], ['ibm,remove-pe-dma-window', 0x2028], ['ibm,reset-pe-dma-window', 0x2029],
  ['ibm,suspend-me', 0x202a], ['ibm,nmi-register', 0x202b], ['ibm,nmi-interlock', 0x202c],
] as [string, number][]).map(([n, v]) => Object.freeze([n, v] as const)));

/** sPAPR PHB index -> its facts and windows (hw/ppc/spapr_pci.c, spapr_phb_placement). */
export function spaprPhb(index: number): PciHostBridge {
  const base = 0x2000_0000_0000; // SPAPR_PCI_BASE (1 << 45)
  const mem32Size = 0x8000_0000; // SPAPR_PCI_MEM32_WIN_SIZE
  const mem64Size = 0x100_0000_0000; // SPAPR_PCI_MEM64_WIN_SIZE
  const buid = 0x0800_0000_2000_0000n + BigInt(index);
  return {
    name: index === 0 ? 'pci.0' : `pci.${index}`, segment: index, busStart: 0, busEnd: 0xff,
    windows: [
      { kind: 'io', cpuBase: base + index * 0x10000, pciBase: 0, size: 0x10000 },
      { kind: 'mem32', cpuBase: base + (index + 1) * mem32Size, pciBase: 0x8000_0000, size: mem32Size },
      { kind: 'mem64', cpuBase: base + (index + 1) * mem64Size, pciBase: base + (index + 1) * mem64Size, size: mem64Size },
    ],
    spapr: {
      index, buid, ddw: true, lsiBase: 0x1200 + index * 4,
      dmaWindow: { liobn: (0x8000_0000 | (index << 8)) >>> 0, busAddr: 0, size: 0x4000_0000 },
    },
  };
}

/** pseries as QEMU 7.2 builds it (hw/ppc/spapr.c): RAM at 0, one PHB (index 0). */
export function pseriesDescription(opts: PresetOptions & { phbs?: number }): FirmwareDescription {
  const phbs = Array.from({ length: opts.phbs ?? 1 }, (_, i) => spaprPhb(i));
  return {
    machine: 'pseries', ram: [{ base: 0, size: opts.ramSize }], cpus: cpusOf(opts, 1024), pciHosts: phbs,
    devices: opts.devices ?? [], oem: QEMU_OEM, spapr: { rtasTokens: SPAPR_RTAS_TOKENS },
  };
}
