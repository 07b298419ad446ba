import { fdtCells, type FdtNode } from './fdt.js';
import type { FdtContributor } from './fdt-build.js';

/** GIC interrupt specifier: SPI, edge rising (hw/arm/virt.c create_smmu: GIC_FDT_IRQ_FLAGS_EDGE_LO_HI). */
const GIC_FDT_IRQ_TYPE_SPI = 0;
const GIC_FDT_IRQ_FLAGS_EDGE_LO_HI = 1;
const hex = (n: number): string => n.toString(16);

/**
 * virt's SMMUv3 node and the host bridge's iommu-map as QEMU 7.2 writes
 * them (hw/arm/virt.c create_smmu; Linux binding arm,smmu-v3.yaml): the
 * node `smmuv3@9050000` before the PCIe node, with the next phandle (0x8004
 * after the v2m frame), its reg, the four edge SPIs named eventq, priq,
 * cmdq-sync, gerror, dma-coherent and #iommu-cells = 1; `iommu-map = <0
 * &smmu 0 0x10000>` (every RID, StreamID = RID) as the PCIe node's first
 * property. With the SMMU's ats=on, the host node also gets `ats-supported`.
 */
export const smmuv3Fdt: FdtContributor = {
  name: 'smmuv3',
  applies: (desc) => desc.iommus?.some((i) => i.model === 'smmuv3') === true,
  build(ctx) {
    const smmu = ctx.desc.iommus!.find((i) => i.model === 'smmuv3')!;
    const base = smmu.mmio!.base;
    const ph = ctx.allocPhandle();
    ctx.phandles.set('iommu', ph);
    // The contributor runs after `pcie` (VIRT_FDT_NODES), so the host node exists.
    const pcie = ctx.fdt.root.children.find((c) => c.name.startsWith('pcie@'));
    const n: FdtNode = ctx.fdt.root.node(`smmuv3@${hex(base)}`, pcie ? { before: pcie.name } : {});
    n.phandle(ph);
    n.u32('#iommu-cells', 1).empty('dma-coherent').strings('interrupt-names', 'eventq', 'priq', 'cmdq-sync', 'gerror')
      .u32('interrupts', ...(smmu.irqs ?? []).flatMap((spi) => [GIC_FDT_IRQ_TYPE_SPI, spi, GIC_FDT_IRQ_FLAGS_EDGE_LO_HI]))
      .u64('reg', base, smmu.mmio!.size).string('compatible', 'arm,smmu-v3');
    pcie?.props.unshift({ name: 'iommu-map', value: fdtCells(0, ph, 0, 0x10000) });
    // Beyond QEMU 7.2 (no ATS): with ats=on the root complex says it supports ATS (pci-host-generic binding), which
    // Linux requires before it enables ATS on an endpoint.
    if (smmu.options['ats'] === true) pcie?.empty('ats-supported');
  },
};
