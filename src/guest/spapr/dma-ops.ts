import type { GuestDevice } from '../device.js';
import { DMA_MAPPING_ERROR, type DmaDirection, type DmaOps } from '../dma-ops.js';
import { IOMMU_READ, IOMMU_WRITE } from '../iommu-core/domain-types.js';
import { reportMapped, reportUnmapped, type PseriesContext } from './context.js';
import { enableDdw } from './ddw.js';

const MASK32 = 0xffff_ffff;

/**
 * dma_iommu_ops (arch/powerpc/kernel/dma-iommu.c, iommu.c): map allocates
 * TCE entries from the device's table below its DMA mask and writes them
 * with the LPAR hypercalls (READ always, WRITE unless the DMA only goes to
 * the device); unmap clears them, and the hypercall's return is the
 * invalidation. A device whose direct-mapped DDW covers its mask bypasses
 * the table: bus address = physical address + the window's start.
 */
export class TceDmaOps implements DmaOps {
  constructor(private readonly ctx: PseriesContext, private readonly dev: GuestDevice) {}

  get name(): string {
    return this.ctx.archOf(this.dev)?.bypass ? 'dma-direct (DDW)' : 'dma-iommu (TCE)';
  }

  map(dev: GuestDevice, paddr: number, size: number, dir: DmaDirection): number {
    const a = this.ctx.archOf(dev);
    if (!a) return DMA_MAPPING_ERROR;
    if (a.bypass) {
      const dma = paddr + a.dmaOffset;
      if (dma + size - 1 <= dev.dmaMask) return dma;
    }
    const tbl = a.table;
    if (!tbl || size <= 0) return DMA_MAPPING_ERROR;
    const ps = tbl.pageSize;
    const off = paddr % ps;
    const npages = Math.ceil((off + size) / ps);
    const entry = tbl.alloc(npages, Math.floor(dev.dmaMask / ps));
    if (entry < 0) {
      this.ctx.k.log.warn(`pseries-iommu ${dev.name}`, `iommu_alloc failed, tbl LIOBN 0x${tbl.itIndex.toString(16)}, npages ${npages}`);
      return DMA_MAPPING_ERROR;
    }
    const write = dir !== 'to-device';
    if (!tbl.set(entry, npages, paddr - off, write)) {
      tbl.free(entry, npages);
      return DMA_MAPPING_ERROR;
    }
    const bus = (tbl.itOffset + entry) * ps;
    reportMapped(this.ctx, bus, paddr - off, npages * ps, IOMMU_READ | (write ? IOMMU_WRITE : 0));
    return bus + off;
  }

  unmap(dev: GuestDevice, dma: number, size: number, _dir: DmaDirection): void {
    const a = this.ctx.archOf(dev);
    const tbl = a?.table;
    if (!a || !tbl) return;
    const ps = tbl.pageSize;
    const first = Math.floor(dma / ps);
    if (first < tbl.itOffset || first >= tbl.itOffset + tbl.itSize) return; // a bypass address
    const npages = Math.ceil(((dma % ps) + size) / ps);
    const entry = first - tbl.itOffset;
    tbl.clear(entry, npages);
    reportUnmapped(this.ctx, first * ps, npages * ps);
    tbl.free(entry, npages);
  }

  /**
   * dma_iommu_dma_supported: a mask above 32 bits first tries the DDW
   * (iommu_bypass_supported_pSeriesLP -> enable_ddw) and bypasses the
   * table when the direct window covers the mask; otherwise the device
   * needs a table whose window starts within its mask.
   */
  supported(dev: GuestDevice, mask: number): boolean {
    const a = this.ctx.archOf(dev);
    if (!a) return false;
    const hex = `0x${mask.toString(16).padStart(8, '0')}`;
    if (mask > MASK32 && enableDdw(this.ctx, a.group, dev)) {
      const top = Math.max(...this.ctx.k.port.ramRanges.map((r) => r.base + r.size));
      if (mask >= a.dmaOffset + top - 1) {
        a.bypass = true;
        this.ctx.k.log.info(`pseries-iommu ${dev.name}`, 'iommu: 64-bit OK, using fixed ops');
        return true;
      }
    }
    const tbl = a.table;
    if (!tbl) {
      this.ctx.k.log.err(`pseries-iommu ${dev.name}`, `Warning: IOMMU dma not supported: mask ${hex}, table unavailable`);
      return false;
    }
    if (tbl.itOffset > Math.floor(mask / tbl.pageSize)) {
      this.ctx.k.log.info(`pseries-iommu ${dev.name}`, `Warning: IOMMU offset too big for device mask ${hex}, table offset 0x${tbl.itOffset.toString(16)}`);
      return false;
    }
    a.bypass = false;
    return true;
  }
}
