import type { GuestDevice } from '../device.js';
import { DMA_MAPPING_ERROR, type DmaDirection, type DmaOps } from '../dma-ops.js';
import type { Swiotlb } from './swiotlb.js';

/**
 * Direct DMA (Linux kernel/dma/direct.c): the bus address is the physical
 * address. A buffer the device's mask cannot reach is bounced through
 * swiotlb; without a usable bounce slot the map fails. Used with no IOMMU,
 * with an IDENTITY domain, and for devices no IOMMU translates.
 */
export class DirectDmaOps implements DmaOps {
  readonly name: string;

  constructor(private readonly swiotlb: Swiotlb | undefined, private readonly minMask: number, readonly tag = 'dma-direct') {
    this.name = tag;
  }

  map(dev: GuestDevice, paddr: number, size: number, dir: DmaDirection): number {
    if (paddr + size - 1 <= dev.dmaMask) return paddr;
    const b = this.swiotlb?.map(paddr, size, dir, dev.dmaMask);
    return b ?? DMA_MAPPING_ERROR;
  }

  unmap(_dev: GuestDevice, dma: number, _size: number, dir: DmaDirection): void {
    if (this.swiotlb?.isBounce(dma)) this.swiotlb.unmap(dma, dir);
  }

  /** dma_direct_supported: the mask must cover the lowest DMA zone (ZONE_DMA, 24 bits) or all of RAM if that is less. */
  supported(_dev: GuestDevice, mask: number): boolean {
    return mask >= this.minMask;
  }
}
