import { SMMU_BASE_ADDR_HI_MASK, SMMU_BASE_ADDR_LO_MASK } from './regs.js';

const TWO32 = 0x1_0000_0000;

/**
 * An SMMUv3 circular queue (IHI 0070 3.5; QEMU smmuv3-internal.h Q_*): the
 * *_BASE register (address [51:6], LOG2SIZE [4:0]), PROD and CONS. An index
 * is the low LOG2SIZE bits and the wrap flag the next bit: empty when index
 * and wrap agree, full when the indexes agree and the wraps differ. The
 * base need not be aligned to the queue size. PROD increments keep only
 * wrap and index (QEMU queue_prod_incr); CONS increments touch only those
 * bits, so CMDQ_CONS.ERR survives (queue_cons_incr).
 */
export class SmmuQueue {
  /** The *_BASE register as written (two halves); reads return it. */
  baseLo = 0;
  baseHi = 0;
  log2size = 0;
  prod = 0;
  cons = 0;

  constructor(readonly entrySize: number, readonly maxLog2size: number) {
    this.reset();
  }

  /** Reset: LOG2SIZE reads as the maximum (QEMU smmuv3_init_regs deposits CMDQS/EVENTQS). */
  reset(): void {
    this.baseLo = this.maxLog2size;
    this.baseHi = 0;
    this.log2size = this.maxLog2size;
    this.prod = 0;
    this.cons = 0;
  }

  /** A write to *_BASE (either half); LOG2SIZE is capped at the implemented maximum. */
  setBase(lo: number, hi: number): void {
    this.baseLo = lo >>> 0;
    this.baseHi = hi >>> 0;
    this.log2size = Math.min(this.baseLo & 0x1f, this.maxLog2size);
  }

  /** The queue's guest-physical base, bits [51:6]. */
  get base(): number {
    return (this.baseHi & SMMU_BASE_ADDR_HI_MASK) * TWO32 + ((this.baseLo & SMMU_BASE_ADDR_LO_MASK) >>> 0);
  }

  private get indexMask(): number {
    return 2 ** this.log2size - 1;
  }
  private get wrapIndexMask(): number {
    return 2 ** (this.log2size + 1) - 1;
  }

  get empty(): boolean {
    return (this.cons & this.wrapIndexMask) === (this.prod & this.wrapIndexMask);
  }

  get full(): boolean {
    return ((this.cons ^ this.prod) & this.wrapIndexMask) === 2 ** this.log2size;
  }

  /** Address of the entry at CONS (command queue) or PROD (event queue). */
  consEntry(): number {
    return this.base + this.entrySize * (this.cons & this.indexMask);
  }
  prodEntry(): number {
    return this.base + this.entrySize * (this.prod & this.indexMask);
  }

  incProd(): void {
    this.prod = (this.prod + 1) & this.wrapIndexMask;
  }

  incCons(): void {
    const m = this.wrapIndexMask;
    this.cons = ((this.cons & ~m) | ((this.cons + 1) & m)) >>> 0;
  }
}
