import type { FirmwareDescription, PciWindow } from '../description.js';
import { Fdt, fdtU64Cells } from './fdt.js';

/** What every device-tree contributor gets. */
export interface FdtBuildContext {
  readonly desc: FirmwareDescription;
  readonly fdt: Fdt;
  /** Phandles by role ("gic", "msi", "clock", "cpu0", "intc", and later "iommu"). */
  readonly phandles: Map<string, number>;
  /** qemu_fdt_alloc_phandle: the next free phandle. */
  allocPhandle(): number;
}

/**
 * One part of a board's device tree. A vIOMMU issue adds its node (and
 * patches e.g. the host bridge's iommu-map through ctx.fdt.find) by writing
 * one contributor and adding it to the board's list in fdt-boards.ts.
 */
export interface FdtContributor {
  readonly name: string;
  applies?(desc: FirmwareDescription): boolean;
  build(ctx: FdtBuildContext): void;
}

/** Runs the contributors in order; phandles start where the board's do (virt 0x8000). */
export function buildFdt(desc: FirmwareDescription, contributors: readonly FdtContributor[], firstPhandle: number): Fdt {
  const fdt = new Fdt();
  let next = firstPhandle;
  const ctx: FdtBuildContext = { desc, fdt, phandles: new Map(), allocPhandle: () => next++ };
  for (const c of contributors) if (!c.applies || c.applies(desc)) c.build(ctx);
  return fdt;
}

/** PCI address space codes of the phys.hi cell (IEEE 1275 PCI binding, "ss" bits). */
const PCI_SPACE: Record<PciWindow['kind'], number> = { io: 0x0100_0000, mem32: 0x0200_0000, mem64: 0x0300_0000 };

/** `ranges` of a PCI host bridge: phys.hi, 2 cells PCI address, 2 cells CPU address, 2 cells size. */
export function pciRanges(windows: readonly PciWindow[]): number[] {
  return windows.flatMap((w) => [PCI_SPACE[w.kind], ...fdtU64Cells(w.pciBase), ...fdtU64Cells(w.cpuBase), ...fdtU64Cells(w.size)]);
}

/**
 * The legacy INTx swizzle both boards use: slot s, pin p (1..4) -> base +
 * (s + p - 1) % 4 (hw/arm/virt.c create_pcie_irq_map, spapr_pci.c).
 */
export function intxSwizzle(slot: number, pin: number): number {
  return (slot + pin - 1) % 4;
}
