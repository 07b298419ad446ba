import type { GuestDevice } from './device.js';

/** DMA data direction (Linux enum dma_data_direction). */
export type DmaDirection = 'bidirectional' | 'to-device' | 'from-device';

/** Linux DMA_MAPPING_ERROR (~0): what a failed map returns; check with dmaMappingError. */
export const DMA_MAPPING_ERROR = -1;

export function dmaMappingError(addr: number): boolean {
  return addr === DMA_MAPPING_ERROR;
}

/** A scatterlist entry: physically contiguous guest memory. */
export interface SgEntry {
  readonly paddr: number;
  readonly length: number;
}

/** A DMA segment after mapping (sg_dma_address / sg_dma_len). */
export interface DmaSegment {
  readonly dma: number;
  readonly length: number;
}

/**
 * A device's DMA operations (Linux struct dma_map_ops): the IOMMU DMA path,
 * direct DMA (with bounce buffering when an address is beyond the device's
 * mask), or a platform driver's own ops (sPAPR TCE).
 */
export interface DmaOps {
  readonly name: string;
  map(dev: GuestDevice, paddr: number, size: number, dir: DmaDirection): number;
  unmap(dev: GuestDevice, dma: number, size: number, dir: DmaDirection): void;
  /** Ops without their own scatterlist mapping get mapSgPerEntry / unmapSgPerEntry. */
  mapSg?(dev: GuestDevice, sg: readonly SgEntry[], dir: DmaDirection): DmaSegment[] | undefined;
  unmapSg?(dev: GuestDevice, sg: readonly SgEntry[], segs: readonly DmaSegment[], dir: DmaDirection): void;
  /** dma_supported. */
  supported(dev: GuestDevice, mask: number): boolean;
}

/**
 * A scatterlist mapped one entry at a time (Linux dma_direct_map_sg and
 * ppc_iommu_map_sg without merging): on a failure, the entries already
 * mapped are unmapped and the whole map fails.
 */
export function mapSgPerEntry(ops: DmaOps, dev: GuestDevice, sg: readonly SgEntry[], dir: DmaDirection): DmaSegment[] | undefined {
  const out: DmaSegment[] = [];
  for (const s of sg) {
    const dma = ops.map(dev, s.paddr, s.length, dir);
    if (dma === DMA_MAPPING_ERROR) {
      unmapSgPerEntry(ops, dev, sg.slice(0, out.length), out, dir);
      return undefined;
    }
    out.push({ dma, length: s.length });
  }
  return out;
}

/** dma_direct_unmap_sg: each segment unmapped with its entry's length. */
export function unmapSgPerEntry(ops: DmaOps, dev: GuestDevice, sg: readonly SgEntry[], segs: readonly DmaSegment[], dir: DmaDirection): void {
  segs.forEach((s, i) => ops.unmap(dev, s.dma, sg[i]?.length ?? s.length, dir));
}
