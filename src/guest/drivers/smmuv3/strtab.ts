import type { GuestPort } from '../../port.js';
import type { PageAllocator } from '../../page-alloc.js';
import {
  STE_CFG_ABORT, STE_CFG_BYPASS, STE_CFG_S1_TRANS, STE_EATS_TRANS, STE_S1CDMAX_SHIFT, STE_V,
  STE_W3_SHCFG_INCOMING, STRTAB_BASE_CFG_FMT_2LVL, STRTAB_L1_DESC_SPAN, STRTAB_SPLIT,
} from './regs.js';

const TWO32 = 0x1_0000_0000;
const STE_SIZE = 64;

/** What an STE says (IHI 0070 5.2): abort, bypass, or stage-1 translation through a CD (table). */
export type SteKind =
  | { readonly kind: 'abort' }
  | { readonly kind: 'bypass' }
  /** cdTable: S1ContextPtr with S1Fmt in bits [5:4]; s1dss: 0 terminate, 1 bypass, 2 CD 0 for non-PASID traffic. */
  | { readonly kind: 's1'; readonly cdTable: number; readonly s1cdmax: number; readonly s1dss: number; readonly ats: boolean };

/** The eight u32 words of an STE's first 32 bytes (the rest stays zero). */
export function steWords(s: SteKind): number[] {
  const w = [0, 0, 0, 0, 0, 0, 0, 0];
  if (s.kind === 'abort') w[0] = STE_V | STE_CFG_ABORT;
  else if (s.kind === 'bypass') {
    w[0] = STE_V | STE_CFG_BYPASS;
    w[3] = STE_W3_SHCFG_INCOMING;
  } else {
    w[0] = (STE_V | STE_CFG_S1_TRANS | ((s.cdTable % TWO32) & 0xfffffff0)) >>> 0;
    w[1] = ((Math.floor(s.cdTable / TWO32) & 0xffffff) | (s.s1cdmax << STE_S1CDMAX_SHIFT)) >>> 0;
    w[2] = ((s.s1cdmax > 0 ? s.s1dss : 0) | (s.ats ? STE_EATS_TRANS : 0)) >>> 0;
  }
  return w;
}

/**
 * The stream table as Linux arm_smmu_init_strtab sets it up: linear for a
 * small StreamID space (SIDSIZE <= STRTAB_SPLIT), else 2-level with SPLIT 8
 * and level-2 tables of 256 STEs allocated when a master at those
 * StreamIDs appears (arm_smmu_init_l2_strtab). Unused STEs abort
 * (disable_bypass).
 */
export class GuestStreamTable {
  readonly base: number;
  readonly cfg: number;
  readonly twoLevel: boolean;
  private readonly l2 = new Map<number, number>();

  constructor(private readonly port: GuestPort, private readonly mem: PageAllocator, readonly sidBits: number) {
    this.twoLevel = sidBits > STRTAB_SPLIT;
    if (this.twoLevel) {
      const l1Bytes = 2 ** (sidBits - STRTAB_SPLIT) * 8;
      this.base = this.allocZero(l1Bytes);
      this.cfg = STRTAB_BASE_CFG_FMT_2LVL | (STRTAB_SPLIT << 6) | sidBits;
    } else {
      this.base = this.allocZero(2 ** sidBits * STE_SIZE);
      this.initAbort(this.base, 2 ** sidBits);
      this.cfg = sidBits;
    }
  }

  private allocZero(bytes: number): number {
    const size = Math.max(bytes, 4096);
    const a = this.mem.alloc(size, size);
    if (a === undefined) throw new RangeError('out of memory for the stream table');
    this.port.writeBytes(a, new Uint8Array(size));
    return a;
  }

  private initAbort(at: number, n: number): void {
    const w = steWords({ kind: 'abort' });
    for (let i = 0; i < n; i++) this.port.write(at + i * STE_SIZE, 8, w[0]!, w[1]!);
  }

  /** Makes the STE of `sid` addressable (a level-2 table for its group in 2-level mode). */
  ensure(sid: number): void {
    if (!this.twoLevel) return;
    const group = Math.floor(sid / 2 ** STRTAB_SPLIT);
    if (this.l2.has(group)) return;
    const l2 = this.allocZero(2 ** STRTAB_SPLIT * STE_SIZE);
    this.initAbort(l2, 2 ** STRTAB_SPLIT);
    this.l2.set(group, l2);
    this.port.write(this.base + group * 8, 8, (l2 % TWO32) + STRTAB_L1_DESC_SPAN, Math.floor(l2 / TWO32));
  }

  steAddress(sid: number): number {
    if (!this.twoLevel) return this.base + sid * STE_SIZE;
    this.ensure(sid);
    return this.l2.get(Math.floor(sid / 2 ** STRTAB_SPLIT))! + (sid % 2 ** STRTAB_SPLIT) * STE_SIZE;
  }

  /** Writes an STE: the upper words first, word 0 (V, Config) last, as arm_smmu_write_ste orders a live update. */
  write(sid: number, s: SteKind): void {
    const at = this.steAddress(sid);
    const w = steWords(s);
    this.port.write(at + 24, 8, w[6]!, w[7]!);
    this.port.write(at + 16, 8, w[4]!, w[5]!);
    this.port.write(at + 8, 8, w[2]!, w[3]!);
    this.port.write(at, 8, w[0]!, w[1]!);
  }

  /** Word 0 and 1 of an STE as it is in memory (info and tests). */
  read(sid: number): [number, number] {
    const r = this.port.read(this.steAddress(sid), 8);
    return [r.lo, r.hi];
  }
}
