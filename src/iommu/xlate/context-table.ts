import { ConfigError } from '../../base/index.js';

/**
 * Translation contexts shared with workers: for each context id (the IOTLB
 * context tag a vIOMMU allocates per domain, ASID/VMID or LIOBN) the table
 * format and root a walker needs on a miss. One 64-byte line per context:
 *
 *   word 0  sequence (odd while the owner rewrites the line)
 *   word 1  format (CTX_FMT_*)
 *   word 2  root, low half      word 3  root, high half
 *   words 4-7  format parameters:
 *     VTD_SL:  levels, MGAW bits, HAW bits, VTD_SL_* flags
 *     LPAE_S1: granule shift, TSZ, OAS bits, LPAE_* flags
 *     TCE:     nb_table, page shift, TCE_* flags, 0
 *
 * The main thread (the vIOMMU) is the only writer. Readers copy a line
 * under the sequence word (a seqlock: Atomics on word 0 only) and keep the
 * copy until the context is invalidated, so the hot path never reads here.
 */
export const CTX_FMT_NONE = 0;
/** Intel VT-d second-level table (walk/vtd-sl.ts). */
export const CTX_FMT_VTD_SL = 1;
/** Arm LPAE stage-1 table (walk/lpae.ts). */
export const CTX_FMT_LPAE_S1 = 2;
/** sPAPR TCE table (walk/tce.ts). */
export const CTX_FMT_TCE = 3;
/** Pass-through: identity, read/write, 4 KiB granules, not cached (VT-d TT=2). */
export const CTX_FMT_IDENTITY = 4;

export const CTX_WORDS = 16;
const SEQ = 0;
/** Readers give up after this many torn reads and see the context as absent (a fault, never a hang). */
const MAX_READ_TRIES = 64;
const TWO32 = 0x1_0000_0000;

export interface ContextDescriptor {
  readonly format: number;
  /** Root table address (number below 2^53). */
  readonly root: number;
  /** Up to four format parameters (words 4-7). */
  readonly params: readonly number[];
}

export interface ContextTableDescriptor {
  readonly sab: SharedArrayBuffer;
  readonly size: number;
}

export class ContextTable {
  readonly words: Int32Array;
  readonly size: number;

  constructor(readonly desc: ContextTableDescriptor) {
    this.size = desc.size;
    this.words = new Int32Array(desc.sab, 0, desc.size * CTX_WORDS);
  }

  static create(size = 4096): ContextTable {
    if (!Number.isInteger(size) || size < 1 || size > 1 << 20) throw new ConfigError('contexts', `${size} is not 1..${1 << 20}`);
    return new ContextTable({ sab: new SharedArrayBuffer(size * CTX_WORDS * 4), size });
  }

  private check(ctx: number): void {
    if (!Number.isInteger(ctx) || ctx < 0 || ctx >= this.size) throw new RangeError(`context id ${ctx} is not 0..${this.size - 1}`);
  }

  /** Owner only: publishes a context. Callers then invalidate it (coherence.ts) before reporting completion. */
  set(ctx: number, d: ContextDescriptor): void {
    this.check(ctx);
    const w = this.words;
    const o = ctx * CTX_WORDS;
    Atomics.add(w, o + SEQ, 1);
    try {
      w[o + 1] = d.format;
      w[o + 2] = d.root % TWO32;
      w[o + 3] = Math.floor(d.root / TWO32);
      for (let i = 0; i < 4; i++) w[o + 4 + i] = d.params[i] ?? 0;
    } finally {
      Atomics.add(w, o + SEQ, 1);
    }
  }

  clear(ctx: number): void {
    this.set(ctx, { format: CTX_FMT_NONE, root: 0, params: [] });
  }

  /**
   * Copies words 1-7 of a context into `dst` at `at` (a consistent
   * snapshot). Returns false (and writes format NONE) if the line kept
   * changing or the id is out of range.
   */
  read(ctx: number, dst: Int32Array, at: number): boolean {
    if (!(ctx >= 0 && ctx < this.size)) {
      dst[at + 1] = CTX_FMT_NONE;
      return false;
    }
    const w = this.words;
    const o = ctx * CTX_WORDS;
    for (let tries = 0; tries < MAX_READ_TRIES; tries++) {
      const s1 = Atomics.load(w, o + SEQ);
      if (s1 & 1) continue;
      for (let i = 1; i < 8; i++) dst[at + i] = w[o + i]!;
      if (Atomics.load(w, o + SEQ) === s1) return true;
    }
    dst[at + 1] = CTX_FMT_NONE;
    return false;
  }

  /** Control-path view of a context (info iommu, tests). */
  get(ctx: number): ContextDescriptor {
    this.check(ctx);
    const tmp = new Int32Array(CTX_WORDS);
    this.read(ctx, tmp, 0);
    return { format: tmp[1]!, root: (tmp[3]! >>> 0) * TWO32 + (tmp[2]! >>> 0), params: [tmp[4]!, tmp[5]!, tmp[6]!, tmp[7]!] };
  }
}
