import { EBUSY, ENOMEM } from '../../errno.js';
import type { GuestPort } from '../../port.js';
import { DMA_PTE_LARGE_PAGE, DMA_PTE_READ, DMA_PTE_WRITE } from './regs.js';

const TWO32 = 0x1_0000_0000;

/** Span of one entry at `level` (1: 4K, 2: 2M, 3: 1G, 4: 512G). */
export function levelSize(level: number): number {
  return 2 ** (12 + 9 * (level - 1));
}

/** The level whose leaves are `pgsize`. */
export function levelOf(pgsize: number): number {
  return pgsize === 1 << 30 ? 3 : pgsize === 2 << 20 ? 2 : 1;
}

/**
 * A domain's second-level page table (spec 9.8; Linux
 * drivers/iommu/intel/iommu.c pfn_to_dma_pte, __domain_mapping,
 * dma_pte_clear_range): `levels` levels from `pgd`, 512 eight-byte entries
 * per table, leaves at level 1 or superpages (PS) at 2 and 3; non-leaf
 * entries carry R|W so that the leaf decides. Tables are written through
 * the guest's own memory; freed tables are not reclaimed (the IOTLB hint
 * IH can then always be set).
 */
export class DmarPgtable {
  constructor(private readonly port: GuestPort, readonly pgd: number, readonly levels: number,
    private readonly page: () => number | undefined) {}

  private ld(addr: number): { lo: number; hi: number } {
    const r = this.port.read(addr, 8);
    return { lo: r.lo >>> 0, hi: r.hi >>> 0 };
  }
  private st(addr: number, v: number): void {
    this.port.write(addr, 8, v % TWO32, Math.floor(v / TWO32));
  }
  private entryAddr(table: number, iova: number, level: number): number {
    return table + (Math.floor(iova / levelSize(level)) % 512) * 8;
  }
  private static addr(e: { lo: number; hi: number }): number {
    return (e.hi & 0xfffff) * TWO32 + ((e.lo & 0xfffff000) >>> 0);
  }

  /** Maps one page of `pgsize` at iova -> paddr with prot (IOMMU_READ 1, IOMMU_WRITE 2). 0, -ENOMEM or -EBUSY. */
  mapOne(iova: number, paddr: number, pgsize: number, prot: number): number {
    const leaf = levelOf(pgsize);
    let table = this.pgd;
    for (let level = this.levels; level > leaf; level--) {
      const at = this.entryAddr(table, iova, level);
      const e = this.ld(at);
      if (e.lo & 3) {
        if (e.lo & DMA_PTE_LARGE_PAGE) return -EBUSY;
        table = DmarPgtable.addr(e);
        continue;
      }
      const next = this.page();
      if (next === undefined) return -ENOMEM;
      this.st(at, next + DMA_PTE_READ + DMA_PTE_WRITE);
      table = next;
    }
    const at = this.entryAddr(table, iova, leaf);
    if (this.ld(at).lo & 3) return -EBUSY;
    const bits = (prot & 1 ? DMA_PTE_READ : 0) | (prot & 2 ? DMA_PTE_WRITE : 0) | (leaf > 1 ? DMA_PTE_LARGE_PAGE : 0);
    this.st(at, paddr + bits);
    return 0;
  }

  /** The leaf covering iova: its entry address, level and value, or undefined when not mapped. */
  leaf(iova: number): { at: number; level: number; addr: number; perm: number } | undefined {
    let table = this.pgd;
    for (let level = this.levels; level >= 1; level--) {
      const at = this.entryAddr(table, iova, level);
      const e = this.ld(at);
      if (!(e.lo & 3)) return undefined;
      if (level === 1 || e.lo & DMA_PTE_LARGE_PAGE) return { at, level, addr: DmarPgtable.addr(e), perm: e.lo & 3 };
      table = DmarPgtable.addr(e);
    }
    return undefined;
  }

  /** Clears the leaf covering iova (a superpage goes whole); returns its size, or 0 when nothing was mapped. */
  unmapOne(iova: number): number {
    const l = this.leaf(iova);
    if (!l) return 0;
    this.st(l.at, 0);
    return levelSize(l.level);
  }

  /** iova_to_phys. */
  toPhys(iova: number): number {
    const l = this.leaf(iova);
    return l ? l.addr + (iova % levelSize(l.level)) : 0;
  }
}
