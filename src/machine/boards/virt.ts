import type { MemoryRegion } from '../../memory/region.js';
import { PCIBus } from '../../pci/bus.js';
import { PCIDevice, type PCIDeviceIdentity } from '../../pci/device.js';
import { PCIHostConfig } from '../../pci/host.js';
import { PCI_CLASS_BRIDGE_HOST, PCI_DEVFN, PCI_VENDOR_ID_REDHAT } from '../../pci/regs.js';
import { ConfigError } from '../../base/config-error.js';
import { createVirtSmmuv3 } from '../devices/smmuv3.js';
import type { Machine } from '../machine.js';
import type { Props } from '../properties.js';
import { InterruptLines, type Board, type BoardOwnDescription, type BoardType, type Range } from './board.js';
import { mainRam } from './ram.js';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
// hw/arm/virt.c base_memmap / extended_memmap as QEMU 7.2 lays them out with the default RAM.
const VIRT_GIC_V2M = 0x08020000;
const VIRT_FW_CFG = 0x09020000;
const VIRT_SMMU = 0x09050000;
const VIRT_PCIE_MMIO = { base: 0x10000000, size: 0x2eff0000 };
const VIRT_PCIE_PIO = { base: 0x3eff0000, size: 0x10000 };
const VIRT_PCIE_ECAM = { base: 0x3f000000, size: 0x01000000 };
const VIRT_MEM = 0x40000000;
const VIRT_HIGH_PCIE_ECAM = { base: 0x4010000000, size: 256 * MIB };
const VIRT_HIGH_PCIE_MMIO = { base: 0x8000000000, size: 512 * GIB };
/** SPI numbers: PCIe INTx on SPI 3..6, GICv2m's 64 MSI SPIs from 48 (interrupt IDs 80..143). */
const PCIE_IRQ = 3;
const V2M_SPI = 48;
const V2M_NUM_SPI = 64;
const ARM_SPI_BASE = 32;

/** GPEX's root function "gpex-root" (1b36:0008, a conventional host bridge at 00.0). */
class GpexRoot extends PCIDevice {
  readonly typeName = 'gpex-root';
  readonly identity: PCIDeviceIdentity = { vendorId: PCI_VENDOR_ID_REDHAT, deviceId: 0x0008, classId: PCI_CLASS_BRIDGE_HOST };
  protected realizeDevice(): void {}
}

/**
 * The arm "virt" board as QEMU 7.2 builds it (hw/arm/virt.c,
 * hw/pci-host/gpex.c): RAM at 0x40000000, the GPEX PCIe host with its ECAM
 * at 0x4010000000 (high ECAM, the 7.2 default; 0x3f000000 with
 * highmem-ecam=off), the 32-bit MMIO window at 0x10000000, the 512 GiB
 * window at 0x8000000000, I/O at 0x3eff0000, INTx on GIC SPIs 3-6 and the
 * GICv2m MSI doorbell at 0x08020000. PCI memory and I/O space read all-ones
 * where nothing decodes (gpex's unassigned_io_ops). 0x09050000 is left for
 * SMMUv3 and 0x09020000 for fw_cfg.
 */
export class VirtBoard implements Board {
  readonly name = 'virt';
  readonly rootBus: PCIBus;
  /** GIC inputs by SPI number; qtest names it by QEMU's QOM path too (the CPU is device[0], the GIC device[1]). */
  readonly intc = new InterruptLines('gic', ['gic', '/machine/unattached/device[1]'], 256);
  readonly ram: Range[];
  readonly host: PCIHostConfig;
  private readonly ecam: Range;
  /** highmem=off: no high ECAM and no 512 GiB window (mapped nowhere, described nowhere). */
  private readonly highmem: boolean;

  constructor(m: Machine, props: Props) {
    const mem = m.mem;
    m.systemMemory.addSubregion(mainRam(mem, 'mach-virt.ram', m.ramSize), VIRT_MEM);
    this.ram = [{ name: 'mach-virt.ram', base: VIRT_MEM, size: m.ramSize }];
    const allOnes = { read: () => 0xffffffff, write: () => undefined };
    const pcieMmio = mem.mmio('gpex_mmio', 1n << 64n, allOnes);
    const mmioWindow = mem.container('gpex_mmio_window', 1n << 64n);
    mmioWindow.addSubregion(pcieMmio, 0);
    const pcieIo = mem.mmio('gpex_ioport', VIRT_PCIE_PIO.size, allOnes);
    const ioWindow: MemoryRegion = mem.container('gpex_ioport_window', VIRT_PCIE_PIO.size);
    ioWindow.addSubregion(pcieIo, 0);
    this.rootBus = new PCIBus('pcie.0', m.pciContext, true, pcieMmio, pcieIo);
    this.host = new PCIHostConfig(this.rootBus);
    this.highmem = props.bool('highmem');
    const high = this.highmem && props.bool('highmem-ecam');
    this.ecam = high ? { name: 'pcie-ecam', ...VIRT_HIGH_PCIE_ECAM } : { name: 'pcie-ecam', ...VIRT_PCIE_ECAM };
    const mmcfg = mem.mmio('pcie-mmcfg-mmio', this.ecam.size, this.host.mmcfgOps());
    const sys = m.systemMemory;
    sys.addSubregion(mem.alias('pcie-ecam', mmcfg, 0, this.ecam.size), this.ecam.base);
    sys.addSubregion(mem.alias('pcie-mmio', mmioWindow, VIRT_PCIE_MMIO.base, VIRT_PCIE_MMIO.size), VIRT_PCIE_MMIO.base);
    if (this.highmem) {
      sys.addSubregion(mem.alias('pcie-mmio-high', mmioWindow, VIRT_HIGH_PCIE_MMIO.base, VIRT_HIGH_PCIE_MMIO.size), VIRT_HIGH_PCIE_MMIO.base);
    }
    sys.addSubregion(ioWindow, VIRT_PCIE_PIO.base);
    // GICv2m (QEMU hw/intc/arm_gicv2m.c): MSI_TYPER (0x8) gives the first
    // SPI's interrupt ID and the count, IIDR (0xfcc) QEMU's product ID; a
    // write of an SPI's interrupt ID to MSI_SETSPI_NS (0x40) pulses it.
    sys.addSubregion(mem.mmio('gicv2m', 0x1000, {
      read: (off) => (off === 0x8 ? (((V2M_SPI + ARM_SPI_BASE) << 16) | V2M_NUM_SPI) >>> 0 : off === 0xfcc ? 0x05100000 : 0),
      write: (off, _size, value) => {
        if (off !== 0x40) return;
        m.deliverMsi(BigInt(VIRT_GIC_V2M + off), value >>> 0);
        const spi = (value & 0x3ff) - (V2M_SPI + ARM_SPI_BASE);
        if (spi >= 0 && spi < V2M_NUM_SPI) this.intc.lines[V2M_SPI + spi]!.pulse();
        else m.log.warn('gicv2m', `invalid SPI (${value & 0x3ff}) for MSI`);
      },
    }), VIRT_GIC_V2M);
    this.rootBus.plug(new GpexRoot(), PCI_DEVFN(0, 0));
    this.rootBus.setIntxRouting({ mapIrq: (d, pin) => PCIBus.swizzle(d, pin), lines: this.intc.lines.slice(PCIE_IRQ, PCIE_IRQ + 4) });
    const iommu = props.str('iommu') ?? 'none';
    if (iommu !== 'none' && iommu !== 'smmuv3') throw new ConfigError('', 'Invalid iommu value\nValid values are none, smmuv3.');
    if (iommu === 'smmuv3') createVirtSmmuv3(m, this.rootBus, this.intc);
  }

  reset(): void {}

  describe(): BoardOwnDescription {
    return {
      ram: this.ram,
      pciHosts: [{
        name: 'pcie@10000000', rootBus: 'pcie.0', busRange: [0, this.ecam.size / MIB - 1],
        ecam: { ...this.ecam, enabled: true },
        windows: [
          { name: 'pcie-mmio', kind: 'mmio32', ...VIRT_PCIE_MMIO, pciBase: VIRT_PCIE_MMIO.base },
          ...(this.highmem ? [{ name: 'pcie-mmio-high', kind: 'mmio64' as const, ...VIRT_HIGH_PCIE_MMIO, pciBase: VIRT_HIGH_PCIE_MMIO.base }] : []),
          { name: 'pcie-pio', kind: 'io', ...VIRT_PCIE_PIO, pciBase: 0 },
        ],
        intx: [PCIE_IRQ, PCIE_IRQ + 1, PCIE_IRQ + 2, PCIE_IRQ + 3],
      }],
      interrupts: { controller: 'gic', lines: 256, msi: { name: 'gicv2m', base: VIRT_GIC_V2M, size: 0x1000 } },
      reserved: [{ name: 'smmuv3', base: VIRT_SMMU, size: 0x20000 }, { name: 'fw_cfg', base: VIRT_FW_CFG, size: 0x18 }],
      firmware: { fwCfg: { kind: 'mmio', base: VIRT_FW_CFG }, dtbAddress: VIRT_MEM },
    };
  }
}

export const virtType: BoardType = {
  names: ['virt', 'virt-7.2'],
  qomType: 'virt-7.2-machine',
  desc: 'QEMU 7.2 ARM Virtual Machine (alias of virt-7.2)',
  props: [
    { name: 'highmem', type: { kind: 'bool' }, default: true, desc: 'Set on/off to enable/disable using physical address space above 32 bits' },
    { name: 'highmem-ecam', type: { kind: 'bool' }, default: true, desc: 'Set on/off to enable/disable high ECAM' },
    { name: 'gic-version', type: { kind: 'enum', values: ['2', '3', 'host', 'max'] }, default: '2', desc: 'viommu models GICv2m MSIs only' },
    { name: 'acpi', type: { kind: 'enum', values: ['on', 'off', 'auto'] }, default: 'auto', desc: 'Enable ACPI' },
    { name: 'dumpdtb', type: { kind: 'string' }, desc: 'Dump current dtb to a file and quit' },
    { name: 'iommu', type: { kind: 'string' }, default: 'none', desc: 'Set the IOMMU type. Valid values are none and smmuv3' },
  ],
  defaultRamSize: 128 * MIB,
  bigEndian: false,
  pcieHotplug: 'native',
  allowZeroBar: true,
  build: (m, props) => new VirtBoard(m, props),
};
