import type { PciHostBridge } from '../description.js';
import { virtMpidr } from '../acpi/tables/madt-gic.js';
import { intxSwizzle, pciRanges, type FdtContributor } from './fdt-build.js';
import { smmuv3Fdt } from './smmuv3-fdt.js';

/** GIC interrupt specifier (arm,gic binding): type SPI 0 / PPI 1, number, flags. */
const GIC_FDT_IRQ_TYPE_SPI = 0;
const GIC_FDT_IRQ_TYPE_PPI = 1;
const GIC_FDT_IRQ_FLAGS_LEVEL_HI = 4;
/** virt's PCIe INTx are SPIs 3..6 (VIRT_PCIE irq base). */
const VIRT_PCIE_IRQ_BASE = 3;
const VIRT_PCIE_IRQMAP_SLOTS = 4;

const hex = (n: number): string => n.toString(16);
const pcieName = (h: PciHostBridge): string => `pcie@${hex(h.windows.find((w) => w.kind === 'mem32')?.cpuBase ?? h.ecam?.base ?? 0)}`;

/** Phandles in QEMU 7.2's allocation order: clock 0x8000, cpus, gic, v2m. */
const phandles: FdtContributor = {
  name: 'phandles',
  build(ctx) {
    ctx.phandles.set('clock', ctx.allocPhandle());
    for (let i = 0; i < ctx.desc.cpus; i++) ctx.phandles.set(`cpu${i}`, ctx.allocPhandle());
    ctx.phandles.set('gic', ctx.allocPhandle());
    ctx.phandles.set('msi', ctx.allocPhandle());
  },
};

const root: FdtContributor = {
  name: 'root',
  build({ fdt, phandles: ph }) {
    fdt.root.u32('interrupt-parent', ph.get('gic')!).string('model', 'linux,dummy-virt')
      .u32('#size-cells', 2).u32('#address-cells', 2).string('compatible', 'linux,dummy-virt');
  },
};

/** PSCI 0.2+ function IDs (SMC32) QEMU lists for older kernels. */
const psci: FdtContributor = {
  name: 'psci',
  build({ fdt, desc }) {
    fdt.root.node('psci').u32('migrate', 0x84000005).u32('cpu_on', 0x84000003).u32('cpu_off', 0x84000002)
      .u32('cpu_suspend', 0x84000001).string('method', desc.arm!.psciConduit)
      .strings('compatible', 'arm,psci-1.0', 'arm,psci-0.2', 'arm,psci');
  },
};

const memory: FdtContributor = {
  name: 'memory',
  build({ fdt, desc }) {
    for (const r of desc.ram) fdt.root.node(`memory@${hex(r.base)}`).u64('reg', r.base, r.size).string('device_type', 'memory');
  },
};

const fwCfg: FdtContributor = {
  name: 'fw-cfg',
  applies: (desc) => desc.fwCfg?.kind === 'mmio',
  build({ fdt, desc }) {
    const f = desc.fwCfg as { base: number; size: number };
    fdt.root.node(`fw-cfg@${hex(f.base)}`).empty('dma-coherent').u64('reg', f.base, f.size).string('compatible', 'qemu,fw-cfg-mmio');
  },
};

/**
 * The generic ECAM host bridge (hw/arm/virt.c create_pcie): reg on the
 * ECAM window in use (the high one by default in 7.2), ranges for PIO,
 * 32-bit and 64-bit MMIO, the INTx map for 4 slots x 4 pins (masked on the
 * slot and pin), and msi-map sending every RID to the v2m frame.
 */
const pcie: FdtContributor = {
  name: 'pcie',
  build({ fdt, desc, phandles: ph }) {
    const gic = ph.get('gic')!;
    for (const h of desc.pciHosts) {
      const ecam = h.ecam!;
      const map: number[] = [];
      for (let slot = 0; slot < VIRT_PCIE_IRQMAP_SLOTS; slot++) {
        for (let pin = 1; pin <= 4; pin++) {
          map.push(slot << 11, 0, 0, pin, gic, 0, 0, GIC_FDT_IRQ_TYPE_SPI,
            VIRT_PCIE_IRQ_BASE + intxSwizzle(slot, pin), GIC_FDT_IRQ_FLAGS_LEVEL_HI);
        }
      }
      fdt.root.node(pcieName(h))
        .u32('interrupt-map-mask', 0x1800, 0, 0, 0x7).u32('interrupt-map', ...map).u32('#interrupt-cells', 1)
        .u32('ranges', ...pciRanges(h.windows)).u64('reg', ecam.base, ecam.size)
        .u32('msi-map', 0, ph.get('msi')!, 0, 0x10000).empty('dma-coherent')
        .u32('bus-range', h.busStart, h.busStart + ecam.size / 0x10_0000 - 1).u32('linux,pci-domain', h.segment)
        .u32('#size-cells', 2).u32('#address-cells', 3).string('device_type', 'pci')
        .string('compatible', 'pci-host-ecam-generic');
    }
  },
};

/** GICv2 with the v2m MSI frame (create_gic, fdt_add_v2m_gic_node). */
const intc: FdtContributor = {
  name: 'intc',
  build({ fdt, desc, phandles: ph }) {
    const g = desc.arm!.gic;
    const n = fdt.root.node(`intc@${hex(g.distBase)}`);
    n.phandle(ph.get('gic')!);
    n.u64('reg', g.distBase, 0x10000, g.cpuBase, 0x10000).string('compatible', 'arm,cortex-a15-gic').empty('ranges')
      .u32('#size-cells', 2).u32('#address-cells', 2).empty('interrupt-controller').u32('#interrupt-cells', 3);
    const v2m = n.node(`v2m@${hex(g.v2m.base)}`);
    v2m.phandle(ph.get('msi')!);
    v2m.u64('reg', g.v2m.base, 0x1000).empty('msi-controller').string('compatible', 'arm,gic-v2m-frame');
  },
};

/** Cortex-A15 and A7 are Armv7 (armv7-timer); others get the v8 timer compatible. */
const V7_CPUS = ['arm,cortex-a15', 'arm,cortex-a7'];

const cpus: FdtContributor = {
  name: 'cpus',
  build({ fdt, desc, phandles: ph }) {
    const compat = desc.arm!.cpuCompatible ?? 'arm,cortex-a15';
    const n = fdt.root.node('cpus').u32('#size-cells', 0).u32('#address-cells', 1);
    const cluster = n.node('cpu-map').node('socket0').node('cluster0');
    for (let i = 0; i < desc.cpus; i++) cluster.node(`core${i}`).u32('cpu', ph.get(`cpu${i}`)!);
    for (let i = 0; i < desc.cpus; i++) {
      const c = n.node(`cpu@${hex(virtMpidr(i))}`);
      c.phandle(ph.get(`cpu${i}`)!);
      c.u32('reg', virtMpidr(i)).string('compatible', compat).string('device_type', 'cpu');
      if (desc.cpus > 1) c.string('enable-method', 'psci');
    }
  },
};

const timer: FdtContributor = {
  name: 'timer',
  build({ fdt, desc }) {
    const arm = desc.arm!;
    // GICv2 PPI flags carry the CPU mask (GIC_FDT_IRQ_PPI_CPU_MASK) above the level/edge bits.
    const flags = (((1 << Math.min(desc.cpus, 8)) - 1) << 8) | GIC_FDT_IRQ_FLAGS_LEVEL_HI;
    const p = arm.timerPpis;
    const t = fdt.root.node('timer')
      .u32('interrupts', ...[p.s, p.ns, p.virt, p.hyp].flatMap((ppi) => [GIC_FDT_IRQ_TYPE_PPI, ppi, flags])).empty('always-on');
    if (V7_CPUS.includes(arm.cpuCompatible ?? 'arm,cortex-a15')) t.string('compatible', 'arm,armv7-timer');
    else t.strings('compatible', 'arm,armv8-timer', 'arm,armv7-timer');
  },
};

/** The 24 MHz APB clock the PL0xx devices reference (phandle 0x8000 in QEMU). */
const clock: FdtContributor = {
  name: 'apb-pclk',
  build({ fdt, phandles: ph }) {
    const n = fdt.root.node('apb-pclk');
    n.phandle(ph.get('clock')!);
    n.string('clock-output-names', 'clk24mhz').u32('clock-frequency', 24_000_000).u32('#clock-cells', 0)
      .string('compatible', 'fixed-clock');
  },
};

/** /chosen without QEMU's random rng-seed / kaslr-seed (determinism) and without a UART. */
const chosen: FdtContributor = {
  name: 'chosen',
  build({ fdt }) {
    fdt.root.node('chosen');
  },
};

/**
 * virt's device tree in QEMU 7.2's node order (`-machine dumpdtb`), reduced
 * to what the DMA path and a PCI enumeration need: the platform devices
 * (PL011, PL031, PL061, gpio-keys, flash, virtio-mmio, platform bus, pmu)
 * are left out. A vIOMMU contributor goes after `pcie` in the list (it needs
 * the host node to add iommu-map) and places an SMMU node before the host
 * node (`node(name, { before })`), where QEMU's blob has it.
 */
export const VIRT_FDT_NODES: readonly FdtContributor[] = Object.freeze([phandles, root, psci, memory, fwCfg, pcie, smmuv3Fdt, intc, cpus, timer, clock, chosen]);
export const VIRT_FIRST_PHANDLE = 0x8000;
export { pcieName as virtPcieNodeName };
