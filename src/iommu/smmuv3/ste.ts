import { EVT_C_BAD_STE, EVT_C_BAD_STREAMID, EVT_F_STE_FETCH } from './events.js';
import { SMMU_BASE_ADDR_HI_MASK, SMMU_BASE_ADDR_LO_MASK, SMMU_SIDSIZE } from './regs.js';

const TWO32 = 0x1_0000_0000;

/** Reads `count` little-endian u32 words of guest memory at `addr` (SMMU-originated, address_space_memory), or null. */
export type ReadWords = (addr: number, count: number) => Uint32Array | null;

/** What decoding depends on: the model's options. */
export interface SmmuDecodeOptions {
  readonly ssidsize: number;
  readonly ats: boolean;
  /** Reproduce QEMU 7.2's departures from the architecture (see smmuv3.ts, property x-qemu72). */
  readonly qemu72: boolean;
}

/** A configuration-stage failure: the event to record (or none), and a log line. */
export interface ConfigFault {
  readonly event: number;
  /** FetchAddr for F_STE_FETCH / F_CD_FETCH. */
  readonly fetchAddr?: number;
  readonly why: string;
}

/** A decoded STE (IHI 0070 5.2). */
export interface SteConfig {
  readonly kind: 'abort' | 'bypass' | 's1';
  /** Effective EATS (0 when ATS is not implemented or translation is bypassed). */
  readonly eats: number;
  readonly s1cdmax: number;
  readonly s1fmt: number;
  readonly s1dss: number;
  /** S1ContextPtr, address bits [55:6]. */
  readonly cdPtr: number;
}

export interface StreamTable {
  readonly baseLo: number;
  readonly baseHi: number;
  /** STRTAB_BASE_CFG as written. */
  readonly cfg: number;
  /** The effective format (QEMU 7.2 keeps 2-level after a later FMT=0 write). */
  readonly twoLevel: boolean;
}

function alignDown(v: number, shift: number): number {
  const a = 2 ** shift;
  return Math.floor(v / a) * a;
}

/**
 * The address of a StreamID's STE (IHI 0070 3.3; QEMU smmu_find_ste).
 * SID >= 2^min(LOG2SIZE, SIDSIZE) is C_BAD_STREAMID. Linear: the table is
 * aligned to its size, 2^(LOG2SIZE + 6) bytes (QEMU aligns to half of it).
 * 2-level: the L1 table (2^(LOG2SIZE - SPLIT) 8-byte descriptors) is
 * aligned to its size or 64 bytes (QEMU: half, or 32); an L1STD with Span
 * 0 or a reserved Span (12..31), or an L2 index beyond its 2^(Span - 1)
 * STEs, is C_BAD_STREAMID (5.1.1; QEMU allows 2^Span STEs and reports
 * C_BAD_STE beyond). An unreadable descriptor is F_STE_FETCH.
 */
export function steAddress(read: ReadWords, t: StreamTable, sid: number, qemu72: boolean): number | ConfigFault {
  const log2size = Math.min(t.cfg & 0x3f, SMMU_SIDSIZE);
  if (sid >= 2 ** log2size) return { event: EVT_C_BAD_STREAMID, why: `sid 0x${sid.toString(16)} beyond LOG2SIZE ${log2size}` };
  const base = (t.baseHi & SMMU_BASE_ADDR_HI_MASK) * TWO32 + ((t.baseLo & SMMU_BASE_ADDR_LO_MASK) >>> 0);
  if (!t.twoLevel) return alignDown(base, qemu72 ? log2size + 5 : log2size + 6) + sid * 64;
  const split = (t.cfg >>> 6) & 0x1f;
  const l1shift = qemu72 ? Math.max(5, log2size - split + 2) : Math.max(6, log2size - split + 3);
  const l1 = alignDown(base, l1shift) + Math.floor(sid / 2 ** split) * 8;
  const d = read(l1, 2);
  if (!d) return { event: EVT_F_STE_FETCH, fetchAddr: l1, why: `cannot read L1STD at 0x${l1.toString(16)}` };
  const span = d[0]! & 0x1f;
  if (span === 0 || (!qemu72 && span > 11)) return { event: EVT_C_BAD_STREAMID, why: `L1STD span ${span} for sid 0x${sid.toString(16)}` };
  const index = sid % 2 ** split;
  const l2 = (d[1]! & SMMU_BASE_ADDR_HI_MASK) * TWO32 + ((d[0]! & 0xffffffc0) >>> 0);
  if (qemu72) {
    if (index > 2 ** span - 1) return { event: EVT_C_BAD_STE, why: `L2 index ${index} beyond span ${span}` };
    return l2 + index * 64;
  }
  if (index >= 2 ** (span - 1)) return { event: EVT_C_BAD_STREAMID, why: `L2 index ${index} beyond span ${span}` };
  return alignDown(l2, span + 5) + index * 64;
}

/**
 * STE decoding (IHI 0070 5.2; QEMU decode_ste). Words: w0 V [0], Config
 * [3:1], S1Fmt [5:4], S1ContextPtr [31:6]; w1 S1ContextPtr [55:32] in
 * [23:0], S1CDMax [31:27]; w2 S1DSS [1:0], S1STALLD [27], EATS [29:28].
 * Config 0b0xx aborts with no event, 0b100 bypasses, 0b101 translates at
 * stage 1; stage 2 (0b11x) is ILLEGAL with IDR0.S2P = 0. ILLEGAL
 * configurations are C_BAD_STE: V = 0, stage 2, S1STALLD with no stall
 * model, S1CDMax > SSIDSIZE, S1DSS = 0b11 with substreams, EATS 0b10
 * (split-stage ATS needs stage 2) or 0b11. With SSIDSIZE = 0 the spec
 * IGNOREs S1CDMax (QEMU 7.2 reports C_BAD_STE).
 */
export function decodeSte(w: Uint32Array, o: SmmuDecodeOptions): SteConfig | ConfigFault {
  const bad = (why: string): ConfigFault => ({ event: EVT_C_BAD_STE, why });
  if (!(w[0]! & 1)) return bad('STE.V = 0');
  const config = (w[0]! >>> 1) & 7;
  const none = { eats: 0, s1cdmax: 0, s1fmt: 0, s1dss: 0, cdPtr: 0 };
  if (!(config & 4)) return { kind: 'abort', ...none };
  if (config & 2) return bad('SMMUv3 does not support stage 2 (STE.Config 0b11x, IDR0.S2P = 0)');
  if (config === 4) return { kind: 'bypass', ...none };
  let s1cdmax = w[1]! >>> 27;
  let s1fmt = (w[0]! >>> 4) & 3;
  const s1dss = w[2]! & 3;
  const eats = o.ats ? (w[2]! >>> 28) & 3 : 0;
  if ((w[2]! >>> 27) & 1) return bad('STE.S1STALLD = 1 with no stall model');
  if (o.ssidsize === 0) {
    if (s1cdmax !== 0 && o.qemu72) return bad('SMMUv3 does not support multiple context descriptors (S1CDMax != 0)');
    s1cdmax = 0;
  } else if (s1cdmax > o.ssidsize) {
    return bad(`STE.S1CDMax ${s1cdmax} > SSIDSIZE ${o.ssidsize}`);
  }
  if (s1cdmax > 0 && s1dss === 3) return bad('STE.S1DSS = 0b11 (reserved)');
  if (s1fmt === 3) s1fmt = 0;
  if (eats > 1) return bad(`STE.EATS = ${eats} (split-stage ATS needs stage 2)`);
  const cdPtr = (w[1]! & 0xffffff) * TWO32 + ((w[0]! & 0xffffffc0) >>> 0);
  return { kind: 's1', eats, s1cdmax, s1fmt: s1cdmax > 0 ? s1fmt : 0, s1dss: s1cdmax > 0 ? s1dss : 0, cdPtr };
}

export function isConfigFault<T extends object>(x: T | ConfigFault): x is ConfigFault {
  return 'event' in x;
}
