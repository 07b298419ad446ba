import type { GuestDevice } from '../device.js';
import type { IommuDomain } from '../iommu-core/driver.js';
import type { GuestKernel } from '../kernel.js';
import type { PseriesHv } from './hv.js';
import type { IommuTable } from './iommu-table.js';
import type { PseriesTableGroup } from './table-group.js';

/** A device's powerpc archdata: its TCE table (set_iommu_table_base) and the direct-DMA offset of a direct-mapped DDW. */
export interface DevArch {
  readonly group: PseriesTableGroup;
  table: IommuTable | undefined;
  /** dev->archdata.dma_offset: added to physical addresses when DMA bypasses the table. */
  dmaOffset: number;
  /** dev->dma_ops_bypass: a direct-mapped DDW serves this device's mask. */
  bypass: boolean;
}

/** What the pseries IOMMU pieces share (one per guest kernel). */
export interface PseriesContext {
  readonly k: GuestKernel;
  readonly hv: PseriesHv;
  /** The static PLATFORM default domain: the oracle's view of everything the DMA API maps in TCE windows. */
  readonly platform: IommuDomain;
  archOf(dev: GuestDevice): DevArch | undefined;
}

/** Tells the oracle what the hypervisor now translates: [iova, iova + size) -> paddr with prot. */
export function reportMapped(ctx: PseriesContext, iova: number, paddr: number, size: number, prot: number): void {
  ctx.k.iommu.notifyMapped(ctx.platform, iova, paddr, size, prot);
}

/** ... and what it no longer does: the clearing hypercall returned, so the invalidation is complete. */
export function reportUnmapped(ctx: PseriesContext, iova: number, size: number): void {
  ctx.k.iommu.notifyUnmapped(ctx.platform, iova, size);
  ctx.k.iommu.notifyInvalidated(ctx.platform, iova, size);
}
