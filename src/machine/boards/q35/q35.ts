import type { MemoryRegion, MmioRegion } from '../../../memory/region.js';
import { PCIBus } from '../../../pci/bus.js';
import { PCIHostConfig } from '../../../pci/host.js';
import { PCI_DEVFN } from '../../../pci/regs.js';
import type { Machine } from '../../machine.js';
import type { Props } from '../../properties.js';
import { InterruptLines, type Board, type BoardOwnDescription, type BoardType, type Range } from '../board.js';
import { mainRam } from '../ram.js';
import { Ich9Ahci, Ich9Lpc, Ich9Smbus } from './ich9.js';
import { Mch, type Pciexbar } from './mch.js';

const GIB = 1024 * 1024 * 1024;
const MIB = 1024 * 1024;
/** QEMU's q35 32-bit PCI hole: after the largest MMCONFIG window at 0xb0000000, up to the I/O APIC. */
const PCI_HOLE_START = 0xc0000000;
const IO_APIC_DEFAULT_ADDRESS = 0xfec00000;
const APIC_MSI_BASE = 0xfee00000;
const INTEL_IOMMU_BASE = 0xfed90000;
const PCIE_MMCFG_SIZE_MAX = 256 * MIB;
/** Q35_PCI_HOST_HOLE64_SIZE_DEFAULT. */
const HOLE64_SIZE = 32 * GIB;

/**
 * The q35 board as QEMU 7.2 builds it (hw/i386/pc_q35.c, hw/pci-host/q35.c)
 * with -nodefaults: RAM from 0 split below/above 4 GiB by pc_q35_init's
 * lowmem rule, the "pci" container under it at priority -1, the PCIe root
 * bus "pcie.0" with mch at 00.0 and the ICH9 functions 1f.0, 1f.2, 1f.3,
 * configuration access through ports 0xcf8/0xcfc and through MMCONFIG once
 * firmware enables PCIEXBAR, the apic-msi doorbell at 0xfee00000, and the
 * I/O APIC's 24 inputs (PCI INTx on PIRQ A-H = GSI 16-23). 0xfed90000 is
 * left for intel-iommu and I/O ports 0x510/0x511 for fw_cfg.
 */
export class Q35Board implements Board {
  readonly name = 'q35';
  readonly rootBus: PCIBus;
  readonly intc = new InterruptLines('ioapic', ['ioapic'], 24);
  readonly ram: Range[] = [];
  readonly host: PCIHostConfig;
  readonly mch: Mch;
  readonly lpc: Ich9Lpc;
  private readonly mmcfg: MmioRegion;
  private mmcfgMapped = false;
  private ecam: Range & { enabled: boolean } = { name: 'pcie-mmcfg-mmio', base: 0xb0000000, size: PCIE_MMCFG_SIZE_MAX, enabled: false };

  constructor(private readonly m: Machine, props: Props) {
    const mem = m.mem;
    const size = m.ramSize;
    // pc_q35_init: keep 0.5 GiB for PCI and 256 MiB for MMCONFIG below 4 GiB.
    let lowmem = size >= 0xb0000000 ? 0x80000000 : 0xb0000000;
    const maxBelow = props.num('max-ram-below-4g') || 4 * GIB;
    if (lowmem > maxBelow) lowmem = maxBelow;
    const below = size >= lowmem ? lowmem : size;
    const above = size - below;
    const pcRam = mainRam(mem, 'pc.ram', size);
    m.systemMemory.addSubregion(mem.alias('ram-below-4g', pcRam, 0, below), 0);
    this.ram.push({ name: 'ram-below-4g', base: 0, size: below });
    if (above > 0) {
      m.systemMemory.addSubregion(mem.alias('ram-above-4g', pcRam, below, above), 4 * GIB);
      this.ram.push({ name: 'ram-above-4g', base: 4 * GIB, size: above });
    }
    const pci: MemoryRegion = mem.container('pci', 1n << 64n);
    m.systemMemory.addSubregion(pci, 0, -1);
    this.rootBus = new PCIBus('pcie.0', m.pciContext, true, pci, m.ioRoot);
    this.host = new PCIHostConfig(this.rootBus);
    m.ioRoot.addSubregion(mem.mmio('pci-conf-idx', 4, this.host.confAddrOps()), 0xcf8);
    m.ioRoot.addSubregion(mem.mmio('pci-conf-data', 4, this.host.confDataOps()), 0xcfc);
    this.mmcfg = mem.mmio('pcie-mmcfg-mmio', PCIE_MMCFG_SIZE_MAX, this.host.mmcfgOps());
    m.systemMemory.addSubregion(mem.mmio('apic-msi', 0x100000, {
      read: () => 0,
      write: (off, _size, value) => m.deliverMsi(BigInt(APIC_MSI_BASE + off), value >>> 0),
      valid: { min: 1, max: 4 },
    }), APIC_MSI_BASE, 4096);
    this.mch = new Mch((bar) => this.mapMmcfg(bar), (t) => m.log.warn('mch', t));
    this.lpc = new Ich9Lpc();
    this.rootBus.plug(this.mch, PCI_DEVFN(0, 0));
    this.rootBus.plug(this.lpc, PCI_DEVFN(31, 0));
    this.rootBus.plug(new Ich9Ahci(), PCI_DEVFN(31, 2));
    this.rootBus.plug(new Ich9Smbus(), PCI_DEVFN(31, 3));
    this.rootBus.setIntxRouting({ mapIrq: (d, pin) => this.lpc.mapIrq(d, pin), lines: this.intc.lines.slice(16, 24) });
  }

  /** pcie_host_mmcfg_update: unmap, then map at the new base and size if enabled. */
  private mapMmcfg(bar: Pciexbar): void {
    const sys = this.m.systemMemory;
    this.m.mem.transaction(() => {
      if (this.mmcfgMapped) sys.removeSubregion(this.mmcfg);
      this.mmcfgMapped = false;
      this.ecam = { name: 'pcie-mmcfg-mmio', base: Number(bar.base), size: bar.length, enabled: bar.enabled };
      if (bar.enabled) {
        this.mmcfg.setSize(bar.length);
        sys.addSubregion(this.mmcfg, bar.base);
        this.mmcfgMapped = true;
      }
    });
  }

  reset(): void {}

  describe(): BoardOwnDescription {
    const last = this.ram[this.ram.length - 1]!;
    const hole64 = Math.ceil(Math.max(4 * GIB, last.base + last.size) / GIB) * GIB;
    return {
      ram: this.ram,
      pciHosts: [{
        name: 'q35-pcihost', rootBus: 'pcie.0', busRange: [0, 255],
        ecam: { ...this.ecam }, cf8: { address: 0xcf8, data: 0xcfc },
        windows: [
          { name: 'pci-hole', kind: 'mmio32', base: PCI_HOLE_START, size: IO_APIC_DEFAULT_ADDRESS - PCI_HOLE_START, pciBase: PCI_HOLE_START },
          { name: 'pci-hole64', kind: 'mmio64', base: hole64, size: HOLE64_SIZE, pciBase: hole64 },
          { name: 'io', kind: 'io', base: 0, size: 0x10000, pciBase: 0 },
        ],
        intx: [16, 17, 18, 19, 20, 21, 22, 23],
      }],
      interrupts: { controller: 'ioapic', lines: 24, msi: { name: 'apic-msi', base: APIC_MSI_BASE, size: 0x100000 } },
      reserved: [{ name: 'intel-iommu', base: INTEL_IOMMU_BASE, size: 0x1000 }, { name: 'fw_cfg', base: 0x510, size: 2 }],
      firmware: { fwCfg: { kind: 'io', base: 0x510 }, acpiPmBase: this.lpc.pmBase },
    };
  }
}

export const q35Type: BoardType = {
  names: ['q35', 'pc-q35-7.2'],
  qomType: 'pc-q35-7.2-machine',
  desc: 'Standard PC (Q35 + ICH9, 2009) (alias of pc-q35-7.2)',
  props: [
    { name: 'max-ram-below-4g', type: { kind: 'size' }, default: 0n, desc: 'Maximum ram below the 4G boundary (32bit boundary)' },
    { name: 'pit', type: { kind: 'enum', values: ['on', 'off', 'auto'] }, default: 'auto', desc: 'viommu models no i8254: any value behaves as off' },
    { name: 'acpi', type: { kind: 'enum', values: ['on', 'off', 'auto'] }, default: 'auto', desc: 'Enable ACPI' },
    // A generic machine property in QEMU 7.2: q35 accepts it and, having no device tree, ignores it.
    { name: 'dumpdtb', type: { kind: 'string' }, desc: 'Dump current dtb to a file and quit' },
  ],
  defaultRamSize: 128 * MIB,
  bigEndian: false,
  pcieHotplug: 'acpi',
  allowZeroBar: false,
  build: (m, props) => new Q35Board(m, props),
};
