import { EVT_C_BAD_CD, EVT_C_BAD_SUBSTREAMID, EVT_F_CD_FETCH } from './events.js';
import { SMMU_OAS_BITS } from './regs.js';
import type { ConfigFault, ReadWords, SteConfig } from './ste.js';

const TWO32 = 0x1_0000_0000;

/** One translation table of a CD. */
export interface CdTable {
  readonly disabled: boolean;
  /** log2 of the granule: 12, 14 or 16. */
  readonly granule: number;
  readonly tsz: number;
  /** TTBx, address bits [51:4]. */
  readonly ttb: number;
  /** HADx: hierarchical attribute disable (APTable ignored). */
  readonly had: boolean;
}

/** A decoded Context Descriptor (IHI 0070 5.4). */
export interface CdConfig {
  readonly asid: number;
  /** Effective output address size: min(CD.IPS, IDR5.OAS). */
  readonly oas: number;
  /** CD.R: record translation, access, permission and address-size faults. */
  readonly recordFaults: boolean;
  readonly affd: boolean;
  readonly tt: readonly [CdTable, CdTable];
}

/** CD.IPS -> bits (IHI 0070 5.4: 32, 36, 40, 42, 44, 48, 52). */
const IPS_BITS = [32, 36, 40, 42, 44, 48, 52, 52];

/** TG0: 0 4K, 1 64K, 2 16K; TG1: 1 16K, 2 4K, 3 64K (QEMU tg2granule). 0 = reserved. */
const TG0 = [12, 16, 14, 0];
const TG1 = [0, 14, 12, 16];

/**
 * The address of the CD for `index` (IHI 0070 5.2 S1Fmt, 5.5 L1CD). With
 * S1CDMax = 0 the STE points at one CD. Linear (S1Fmt 0): a table aligned
 * to its size. 2-level: an L1 table of 8-byte L1CDs (V [0], L2Ptr
 * [55:12]) indexed by SubstreamID[S1CDMax-1:6] (4 KiB leaves of 64 CDs,
 * S1Fmt 1) or [S1CDMax-1:10] (64 KiB leaves of 1024 CDs, S1Fmt 2); an L1CD
 * with V = 0 is C_BAD_SUBSTREAMID. An unreadable L1CD is F_CD_FETCH.
 */
export function cdAddress(read: ReadWords, ste: SteConfig, index: number): number | ConfigFault {
  if (ste.s1cdmax === 0) return ste.cdPtr;
  if (ste.s1fmt === 0) {
    const a = 2 ** (ste.s1cdmax + 6);
    return Math.floor(ste.cdPtr / a) * a + index * 64;
  }
  const leafBits = ste.s1fmt === 1 ? 6 : 10;
  const l1Entries = ste.s1cdmax > leafBits ? 2 ** (ste.s1cdmax - leafBits) : 1;
  const align = Math.max(64, l1Entries * 8);
  const l1 = Math.floor(ste.cdPtr / align) * align + Math.floor(index / 2 ** leafBits) * 8;
  const d = read(l1, 2);
  if (!d) return { event: EVT_F_CD_FETCH, fetchAddr: l1, why: `cannot read L1CD at 0x${l1.toString(16)}` };
  if (!(d[0]! & 1)) return { event: EVT_C_BAD_SUBSTREAMID, why: `L1CD for substream ${index} is invalid` };
  const leafMask = leafBits === 6 ? 0xfffff000 : 0xffff0000;
  const l2 = (d[1]! & 0xffffff) * TWO32 + ((d[0]! & leafMask) >>> 0);
  return l2 + (index % 2 ** leafBits) * 64;
}

/**
 * CD decoding (IHI 0070 5.4; QEMU decode_cd). Words: w0 T0SZ [5:0], TG0
 * [7:6], EPD0 14, ENDI 15, T1SZ [21:16], TG1 [23:22], EPD1 30, V 31; w1
 * IPS [2:0], AFFD 3, AA64 9, HD 10, HA 11, S 12, R 13, A 14, ASID [31:16];
 * w2-3 HAD0 bit 1, TTB0 [51:4]; w4-5 HAD1, TTB1. C_BAD_CD for: V = 0; AA64
 * = 0 (IDR0.TTF is AArch64 only); A = 0 (TERM_MODEL = 1 needs abort); S = 1
 * (no stall model); HA or HD (no HTTU); and, for a table not disabled by
 * EPDx, TxSZ outside 16..39 (IDR3.STT = 0), a reserved granule, ENDI = 1
 * (little-endian tables only) or TTBx beyond the effective OAS.
 */
export function decodeCd(w: Uint32Array): CdConfig | ConfigFault {
  const bad = (why: string): ConfigFault => ({ event: EVT_C_BAD_CD, why });
  const w0 = w[0]!;
  const w1 = w[1]!;
  if (!(w0 >>> 31)) return bad('CD.V = 0');
  if (!((w1 >>> 9) & 1)) return bad('CD.AA64 = 0');
  if (!((w1 >>> 14) & 1)) return bad('CD.A = 0');
  if ((w1 >>> 12) & 1) return bad('CD.S = 1');
  if ((w1 >>> 10) & 3) return bad('CD.HA/HD set (no HTTU)');
  const oas = Math.min(IPS_BITS[w1 & 7]!, SMMU_OAS_BITS);
  const tables: CdTable[] = [];
  for (let i = 0; i < 2; i++) {
    const disabled = ((i === 0 ? w0 >>> 14 : w0 >>> 30) & 1) === 1;
    const lo = w[2 + 2 * i]!;
    const hi = w[3 + 2 * i]!;
    const ttb = (hi & 0xfffff) * TWO32 + ((lo & 0xfffffff0) >>> 0);
    const had = ((lo >>> 1) & 1) === 1;
    const tsz = (i === 0 ? w0 : w0 >>> 16) & 0x3f;
    const tg = (i === 0 ? w0 >>> 6 : w0 >>> 22) & 3;
    const granule = (i === 0 ? TG0 : TG1)[tg]!;
    if (!disabled) {
      if (tsz < 16 || tsz > 39) return bad(`CD.T${i}SZ = ${tsz}`);
      if (granule === 0) return bad(`CD.TG${i} = ${tg} (reserved)`);
      if ((w0 >>> 15) & 1) return bad('CD.ENDI = 1');
      if (ttb >= 2 ** oas) return bad(`CD.TTB${i} 0x${ttb.toString(16)} beyond the ${oas}-bit OAS`);
    }
    tables.push({ disabled, granule, tsz, ttb, had });
  }
  return {
    asid: w1 >>> 16, oas, recordFaults: ((w1 >>> 13) & 1) === 1, affd: ((w1 >>> 3) & 1) === 1,
    tt: [tables[0]!, tables[1]!],
  };
}
