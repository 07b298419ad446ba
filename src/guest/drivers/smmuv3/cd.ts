import type { GuestPort } from '../../port.js';
import type { PageAllocator } from '../../page-alloc.js';
import {
  CD_A, CD_AA64, CD_ASET, CD_ASID_SHIFT, CD_EPD1, CD_IRGN0_WBWA, CD_ORGN0_WBWA, CD_R, CD_SH0_ISH, CD_TG0_4K, CD_V,
  CTXDESC_L1_DESC_V, CTXDESC_L2_ENTRIES, STE_S1FMT_64K_L2, STE_S1FMT_LINEAR,
} from './regs.js';

const TWO32 = 0x1_0000_0000;
const CD_SIZE = 64;
/** MAIR as io-pgtable-arm programs it: attr0 non-cacheable, attr1 write-back (PTE AttrIndx 1), attr2 device, attr3 outer-cacheable. */
const MAIR = 0xf404ff44;

/** The u32 words of a stage-1 CD (Linux arm_smmu_write_ctx_desc / arm_smmu_make_s1_cd); IPS from the SMMU's OAS. */
export function cdWords(asid: number, ttb0: number, ias: number, ips: number): number[] {
  const w = new Array<number>(16).fill(0);
  w[0] = ((64 - ias) | CD_TG0_4K | CD_IRGN0_WBWA | CD_ORGN0_WBWA | CD_SH0_ISH | CD_EPD1 | CD_V) >>> 0;
  w[1] = (ips | CD_AA64 | CD_R | CD_A | CD_ASET | (asid << CD_ASID_SHIFT)) >>> 0;
  w[2] = (ttb0 % TWO32) & 0xfffffff0;
  w[3] = Math.floor(ttb0 / TWO32) & 0xfffff;
  w[6] = MAIR;
  return w.map((x) => x >>> 0);
}

/**
 * A master's context descriptors (Linux struct arm_smmu_ctx_desc_cfg): one
 * CD when the master has no substreams, else a table of 2^ssidBits CDs,
 * linear when it fits one 64 KiB leaf or the SMMU lacks CD2L, otherwise
 * 2-level with 64 KiB leaves of 1024 CDs allocated on first use
 * (arm_smmu_alloc_cd_tables, arm_smmu_get_cd_ptr). CD 0 is the RID's
 * domain (STE.S1DSS = SSID0); CD n is PASID n's.
 */
export class GuestCdTable {
  readonly base: number;
  readonly s1fmt: number;
  private readonly leaves = new Map<number, number>();
  private readonly allocs: { at: number; size: number }[] = [];

  constructor(private readonly port: GuestPort, private readonly mem: PageAllocator, readonly ssidBits: number, cd2l: boolean) {
    const n = 2 ** ssidBits;
    if (n <= CTXDESC_L2_ENTRIES || !cd2l) {
      this.s1fmt = STE_S1FMT_LINEAR;
      this.base = this.zero(n * CD_SIZE);
    } else {
      this.s1fmt = STE_S1FMT_64K_L2;
      this.base = this.zero(Math.ceil(n / CTXDESC_L2_ENTRIES) * 8);
    }
  }

  private zero(bytes: number): number {
    const size = Math.max(4096, bytes);
    const a = this.mem.alloc(size, size);
    if (a === undefined) throw new RangeError('out of memory for CD tables');
    this.port.writeBytes(a, new Uint8Array(size));
    this.allocs.push({ at: a, size });
    return a;
  }

  cdAddress(ssid: number): number {
    if (this.s1fmt === STE_S1FMT_LINEAR) return this.base + ssid * CD_SIZE;
    const i = Math.floor(ssid / CTXDESC_L2_ENTRIES);
    let leaf = this.leaves.get(i);
    if (leaf === undefined) {
      leaf = this.zero(CTXDESC_L2_ENTRIES * CD_SIZE);
      this.leaves.set(i, leaf);
      this.port.write(this.base + i * 8, 8, ((leaf % TWO32) | CTXDESC_L1_DESC_V) >>> 0, Math.floor(leaf / TWO32));
    }
    return leaf + (ssid % CTXDESC_L2_ENTRIES) * CD_SIZE;
  }

  /** Writes CD `ssid` (words 1.. first, word 0 with V last), or clears it (V = 0) with null. */
  write(ssid: number, words: readonly number[] | null): void {
    const at = this.cdAddress(ssid);
    if (!words) {
      this.port.write(at, 8, 0, 0);
      return;
    }
    for (let i = 2; i < 16; i += 2) this.port.write(at + i * 4, 8, words[i]!, words[i + 1]!);
    this.port.write(at, 8, words[0]!, words[1]!);
  }

  free(): void {
    for (const a of this.allocs) this.mem.freePages(a.at, a.size);
    this.allocs.length = 0;
  }
}
