import type { PseriesHv } from './hv.js';
import { H_SUCCESS } from './papr.js';

/**
 * Linux's struct iommu_table for a pSeries LPAR window
 * (arch/powerpc/include/asm/iommu.h, kernel/iommu.c): it_index is the
 * LIOBN, it_offset the window start in IOMMU pages, it_size its entries,
 * it_page_shift the IOMMU page. The DMA API allocates entries from the
 * table's bitmap (iommu_range_alloc, first fit after a hint, below the
 * device's mask); entry 0 of a window at bus address 0 is never handed
 * out. it_ops are the LPAR hypercalls (tce_buildmulti / tce_freemulti).
 */
export class IommuTable {
  /** The allocation bitmap (one byte an entry), made when the DMA API first allocates: VFIO tables never do. */
  private bitmap: Uint8Array | undefined;
  private hint = 0;
  private used = 0;
  private readonly reserved: number;

  constructor(private readonly hv: PseriesHv, readonly itIndex: number, readonly itOffset: number, readonly itSize: number,
    readonly itPageShift: number) {
    this.reserved = itOffset === 0 && itSize > 0 ? 1 : 0;
  }

  private get map(): Uint8Array {
    if (!this.bitmap) {
      this.bitmap = new Uint8Array(this.itSize);
      if (this.reserved) this.bitmap[0] = 1;
    }
    return this.bitmap;
  }

  get pageSize(): number {
    return 2 ** this.itPageShift;
  }
  /** The window's first bus address (exact: it can lie above 2^53). */
  get busStart(): bigint {
    return BigInt(this.itOffset) << BigInt(this.itPageShift);
  }
  get busSize(): bigint {
    return BigInt(this.itSize) << BigInt(this.itPageShift);
  }
  /** Whether bus address `a` is in the window. */
  contains(a: bigint): boolean {
    return a >= this.busStart && a < this.busStart + this.busSize;
  }

  /** iommu_table_in_use: anything allocated besides the reserved entry. */
  inUse(): boolean {
    return this.used > 0;
  }

  /**
   * iommu_range_alloc: `npages` consecutive free entries whose bus
   * addresses stay within `maskPages` (the device's DMA mask in IOMMU
   * pages, inclusive), first fit from the hint, then from the start.
   * Returns the entry index or -1.
   */
  alloc(npages: number, maskPages: number): number {
    const limit = Math.min(this.itSize, Math.max(0, maskPages - this.itOffset + 1));
    const tryFrom = (from: number): number => {
      let run = 0;
      for (let i = from; i < limit; i++) {
        run = this.map[i] ? 0 : run + 1;
        if (run === npages) return i - npages + 1;
      }
      return -1;
    };
    let e = this.hint < limit ? tryFrom(this.hint) : -1;
    if (e < 0) e = tryFrom(0);
    if (e < 0) return -1;
    this.map.fill(1, e, e + npages);
    this.used += npages;
    this.hint = e + npages;
    return e;
  }

  /** __iommu_free's bitmap part. */
  free(entry: number, npages: number): void {
    this.map.fill(0, entry, entry + npages);
    this.used -= npages;
    if (this.reserved) this.map[0] = 1;
  }

  /** it_ops->set: TCEs for entries [entry, entry + npages) from `paddr`. */
  set(entry: number, npages: number, paddr: number, write: boolean): boolean {
    return this.hv.build(this.itIndex, BigInt(this.itOffset + entry), this.itPageShift, npages, paddr, write) === H_SUCCESS;
  }

  /** it_ops->clear: the hypercall returns once the hypervisor dropped the translations. */
  clear(entry: number, npages: number): boolean {
    return this.hv.clear(this.itIndex, BigInt(this.itOffset + entry), this.itPageShift, npages) === H_SUCCESS;
  }

  /**
   * tce_exchange_pseries (the VFIO path): H_GET_TCE for the old TCE, then
   * H_PUT_TCE of the new one. The old TCE, or undefined when a call fails.
   */
  exchange(entry: number, tce: bigint): bigint | undefined {
    const ioba = BigInt(this.itOffset + entry) << BigInt(this.itPageShift);
    const old = this.hv.getTce(this.itIndex, ioba);
    if (old.ret !== H_SUCCESS) return undefined;
    return this.hv.putTce(this.itIndex, ioba, tce) === H_SUCCESS ? old.tce : undefined;
  }

  /** it_ops->get: the TCE of an entry (what H_GET_TCE returns), or undefined when the call fails. */
  get(entry: number): bigint | undefined {
    const r = this.hv.getTce(this.itIndex, BigInt(this.itOffset + entry) << BigInt(this.itPageShift));
    return r.ret === H_SUCCESS ? r.tce : undefined;
  }
}
