import { IOMMU_NONE, IOMMU_RO, IOMMU_RW, type AddressSpace, type IOMMUTLBEntry, type MemTxAttrs } from '../../memory/index.js';
import type { IotlbCoherence } from '../coherence/coherence.js';
import {
  LPAE_AFFD, LPAE_FAULT_ACCESS, LPAE_FAULT_ADDR_SIZE, LPAE_FAULT_PERMISSION, LPAE_FAULT_TRANSLATION, LPAE_FAULT_WALK_EABT,
  LPAE_HAD, LPAE_QEMU_BLOCKS,
} from '../walk/lpae.js';
import { cdAddress, decodeCd } from './cd.js';
import type { CdEntry, SmmuConfigCache } from './config-cache.js';
import type { SmmuContexts } from './contexts.js';
import {
  EVT_C_BAD_STREAMID, EVT_C_BAD_SUBSTREAMID, EVT_CLASS_IN, EVT_CLASS_TT, EVT_F_ACCESS, EVT_F_ADDR_SIZE, EVT_F_BAD_ATS_TREQ,
  EVT_F_CD_FETCH, EVT_F_PERMISSION, EVT_F_STE_FETCH, EVT_F_STREAM_DISABLED, EVT_F_TRANSL_FORBIDDEN, EVT_F_TRANSLATION,
  EVT_F_WALK_EABT, type SmmuEvent,
} from './events.js';
import { CR0_ATSCHK, CR0_SMMUEN, CR2_RECINVSID, GBPA_ABORT, SMMU_OAS_BITS } from './regs.js';
import { decodeSte, steAddress, type ConfigFault, type ReadWords, type SmmuDecodeOptions, type SteConfig, type StreamTable } from './ste.js';

/** The register state and services the translation path reads (implemented by Smmuv3). */
export interface SmmuXlateHost {
  readonly decode: SmmuDecodeOptions;
  readonly cr0: number;
  readonly cr2: number;
  readonly gbpa: number;
  readonly systemAs: AddressSpace;
  streamTable(): StreamTable;
  readonly readWords: ReadWords;
  recordEvent(e: SmmuEvent): void;
  logGuestError(text: string): void;
}

/** The configuration a transaction resolves to (STE, then CD). */
export type Resolved =
  | { readonly kind: 'abort' }
  | { readonly kind: 'fault'; readonly fault: ConfigFault; readonly ssid?: number }
  | { readonly kind: 'bypass'; readonly ste: SteConfig }
  | { readonly kind: 's1'; readonly ste: SteConfig; readonly entry: CdEntry };

const LPAE_EVENT: Readonly<Record<number, number>> = {
  [LPAE_FAULT_TRANSLATION]: EVT_F_TRANSLATION, [LPAE_FAULT_ADDR_SIZE]: EVT_F_ADDR_SIZE,
  [LPAE_FAULT_ACCESS]: EVT_F_ACCESS, [LPAE_FAULT_PERMISSION]: EVT_F_PERMISSION,
};

/**
 * The SMMUv3 translation path (IHI 0070 3.1-3.9; QEMU smmuv3_translate):
 * SMMUEN and GBPA, the StreamID's STE and the CD for the SubstreamID
 * through the configuration cache, then the stage-1 walk through the
 * shared engine (IOTLB tagged by the CD's regime, walk cache, lpae walker).
 * Faults are recorded in the event queue: configuration errors always,
 * translation/access/permission/address-size faults when CD.R = 1, and
 * nothing for ATS Translation Requests except F_BAD_ATS_TREQ (3.9.1).
 */
export class SmmuTranslator {
  constructor(private readonly h: SmmuXlateHost, readonly cache: SmmuConfigCache, private readonly contexts: SmmuContexts,
    readonly coherence: IotlbCoherence) {}

  /** STE, then the CD of `ssid` (or of the default substream), through the cache. */
  resolve(sid: number, ssid: number | undefined): Resolved {
    let e = this.cache.get(sid);
    if (e) this.cache.hits++;
    else {
      this.cache.misses++;
      const q = this.h.decode.qemu72;
      const at = steAddress(this.h.readWords, this.h.streamTable(), sid, q);
      if (typeof at !== 'number') return { kind: 'fault', fault: at };
      const w = this.h.readWords(at, 16);
      if (!w) return { kind: 'fault', fault: { event: EVT_F_STE_FETCH, fetchAddr: at, why: `cannot fetch STE at 0x${at.toString(16)}` } };
      const ste = decodeSte(w, this.h.decode);
      if ('event' in ste) return { kind: 'fault', fault: ste };
      e = this.cache.putSte(sid, ste);
    }
    const ste = e.ste;
    if (ste.kind === 'abort') return { kind: 'abort' };
    const badSsid = (why: string): Resolved => ({ kind: 'fault', fault: { event: EVT_C_BAD_SUBSTREAMID, why }, ssid: ssid ?? 0 });
    if (ste.kind === 'bypass') return ssid === undefined ? { kind: 'bypass', ste } : badSsid('SubstreamID with stage 1 bypassed');
    let index = 0;
    if (ssid !== undefined) {
      if (ste.s1cdmax === 0) return badSsid('SubstreamID with substreams disabled (S1CDMax = 0)');
      if (ssid >= 2 ** ste.s1cdmax) return badSsid(`SubstreamID ${ssid} >= 2^S1CDMax`);
      if (ste.s1dss === 2 && ssid === 0) return { kind: 'fault', fault: { event: EVT_F_STREAM_DISABLED, why: 'SubstreamID 0 reserved (S1DSS = 0b10)' } };
      index = ssid;
    } else if (ste.s1cdmax > 0) {
      if (ste.s1dss === 0) return { kind: 'fault', fault: { event: EVT_F_STREAM_DISABLED, why: 'no SubstreamID (S1DSS = 0b00)' } };
      if (ste.s1dss === 1) return { kind: 'bypass', ste };
    }
    let entry = e.cds.get(index);
    if (!entry) {
      const r = this.fetchCd(ste, index);
      if ('event' in r) return { kind: 'fault', fault: r, ...(ssid !== undefined ? { ssid } : {}) };
      entry = r;
      this.cache.putCd(e, index, entry);
    }
    return { kind: 's1', ste, entry };
  }

  private fetchCd(ste: SteConfig, index: number): CdEntry | ConfigFault {
    const at = cdAddress(this.h.readWords, ste, index);
    if (typeof at !== 'number') return at;
    const w = this.h.readWords(at, 16);
    if (!w) return { event: EVT_F_CD_FETCH, fetchAddr: at, why: `cannot fetch CD at 0x${at.toString(16)}` };
    const cd = decodeCd(w);
    if ('event' in cd) return cd;
    const tt0 = cd.tt[0];
    if (tt0.disabled) return { cd, ctx: -1 };
    const flags = (cd.affd ? LPAE_AFFD : 0) | (tt0.had ? LPAE_HAD : 0) | (this.h.decode.qemu72 ? LPAE_QEMU_BLOCKS : 0);
    const regime = { asid: cd.asid, ttb: tt0.ttb, granule: tt0.granule, tsz: tt0.tsz, oas: cd.oas, flags };
    let ctx = this.contexts.acquire(regime);
    if (ctx < 0) {
      // Every context is held by a cached configuration: drop the cache (a cache may always be emptied).
      this.cache.flushAll();
      ctx = this.contexts.acquire(regime);
    }
    return { cd, ctx };
  }

  /** The engine context an untranslated, non-substream access of `sid` uses, or -event (the bench, tests). */
  contextFor(sid: number, ssid?: number): number {
    const r = this.resolve(sid, ssid);
    if (r.kind === 's1') return r.entry.ctx >= 0 ? r.entry.ctx : -EVT_F_TRANSLATION;
    return r.kind === 'fault' ? -r.fault.event : -EVT_F_TRANSLATION;
  }

  private recordConfigFault(sid: number, r: Extract<Resolved, { kind: 'fault' }>, iova: number, flag: number): void {
    const f = r.fault;
    this.h.logGuestError(`sid 0x${sid.toString(16)}: ${f.why}`);
    if (f.event === EVT_C_BAD_STREAMID && !(this.h.cr2 & CR2_RECINVSID) && !this.h.decode.qemu72) return;
    const ev: SmmuEvent = { type: f.event, sid, addr: iova, rnw: (flag & IOMMU_RO) !== 0 };
    if (r.ssid !== undefined) ev.ssid = r.ssid;
    if (f.event === EVT_F_STE_FETCH) ev.addr2 = f.fetchAddr ?? 0;
    if (f.event === EVT_F_CD_FETCH) {
      // QEMU puts the CD address in ADDR; the architecture's FetchAddr is ADDR2 (7.3.10).
      if (this.h.decode.qemu72) ev.addr = f.fetchAddr ?? 0;
      else ev.addr2 = f.fetchAddr ?? 0;
    }
    this.h.recordEvent(ev);
  }

  private fail(addr: number): IOMMUTLBEntry {
    return { targetAs: null, iova: addr - (addr % 4096), translatedAddr: 0, addrMask: 0xfff, perm: IOMMU_NONE };
  }

  private identity(addr: number): IOMMUTLBEntry {
    const page = addr - (addr % 4096);
    return { targetAs: this.h.systemAs, iova: page, translatedAddr: page, addrMask: 0xfff, perm: IOMMU_RW };
  }

  private event(type: number, sid: number, ssid: number | undefined, iova: number, flag: number, cls = 0): void {
    const ev: SmmuEvent = { type, sid, addr: iova, rnw: (flag & IOMMU_RO) !== 0, class: cls };
    if (ssid !== undefined) ev.ssid = ssid;
    this.h.recordEvent(ev);
  }

  /** Stage-1 fault CLASS: IN as the architecture says (7.3.13); QEMU 7.2 leaves 0 (CD). */
  private get inClass(): number {
    return this.h.decode.qemu72 ? 0 : EVT_CLASS_IN;
  }

  /** translate(iommu, addr, flag, idx) of a StreamID's region. */
  translate(sid: number, iova: number, flag: number, attrs: MemTxAttrs): IOMMUTLBEntry {
    const ssid = attrs.pasid;
    const at = attrs.addressType ?? 'untranslated';
    const h = this.h;
    if (at !== 'untranslated') return this.atsAccess(sid, ssid, iova, flag, at);
    if (!(h.cr0 & CR0_SMMUEN)) return h.gbpa & GBPA_ABORT ? this.fail(iova) : this.identity(iova);
    const r = this.resolve(sid, ssid);
    if (r.kind === 'abort') return this.fail(iova);
    if (r.kind === 'fault') {
      this.recordConfigFault(sid, r, iova, flag);
      return this.fail(iova);
    }
    if (r.kind === 'bypass') {
      // Stage-1 bypass output beyond the OAS is F_ADDR_SIZE (7.3.14); QEMU does not check.
      if (!h.decode.qemu72 && iova >= 2 ** SMMU_OAS_BITS) {
        this.event(EVT_F_ADDR_SIZE, sid, ssid, iova, flag, EVT_CLASS_IN);
        return this.fail(iova);
      }
      return this.identity(iova);
    }
    return this.walk(sid, ssid, r.entry, iova, flag, true);
  }

  /** Stage-1 translation through the engine; faults recorded when CD.R (and `record`) allow. */
  private walk(sid: number, ssid: number | undefined, entry: CdEntry, iova: number, flag: number, record: boolean): IOMMUTLBEntry {
    const rec = record && entry.cd.recordFaults;
    // TT0 covers [0, 2^(64 - T0SZ)); TT1 the top 2^(64 - T1SZ) bytes, beyond this 2^48-byte region. The gap faults.
    if (entry.ctx < 0 || iova >= 2 ** (64 - entry.cd.tt[0].tsz)) {
      if (rec) this.event(EVT_F_TRANSLATION, sid, ssid, iova, flag, this.inClass);
      return this.fail(iova);
    }
    const eng = this.coherence.engine;
    const r = eng.translate(entry.ctx, iova, flag & IOMMU_RW);
    if (r < 0) {
      const kind = -r;
      if (kind === LPAE_FAULT_WALK_EABT) {
        if (record) {
          const ev: SmmuEvent = { type: EVT_F_WALK_EABT, sid, addr: iova, rnw: (flag & IOMMU_RO) !== 0, class: EVT_CLASS_TT, addr2: eng.walk.entryAddr };
          if (ssid !== undefined) ev.ssid = ssid;
          this.h.recordEvent(ev);
        }
      } else if (rec && LPAE_EVENT[kind] !== undefined) {
        this.event(LPAE_EVENT[kind]!, sid, ssid, iova, flag, this.inClass);
      }
      return this.fail(iova);
    }
    const size = 2 ** eng.walk.shift;
    return { targetAs: this.h.systemAs, iova: iova - (iova % size), translatedAddr: r - (r % size), addrMask: size - 1, perm: eng.walk.perm };
  }

  /**
   * ATS (3.9.1): a Translation Request is walked like a transaction but
   * records no fault, and is refused (F_BAD_ATS_TREQ, a UR) when SMMUEN =
   * 0, ATS is not implemented, the stream bypasses, or STE.EATS = 0; an
   * invalid or aborting STE refuses it silently. A Translated transaction
   * passes with no check when CR0.ATSCHK = 0 and otherwise needs EATS != 0
   * (else F_TRANSL_FORBIDDEN; an invalid STE aborts silently).
   */
  private atsAccess(sid: number, ssid: number | undefined, iova: number, flag: number, at: 'translation-request' | 'translated'): IOMMUTLBEntry {
    const h = this.h;
    const refuse = at === 'translated' ? EVT_F_TRANSL_FORBIDDEN : EVT_F_BAD_ATS_TREQ;
    if (!(h.cr0 & CR0_SMMUEN) || !h.decode.ats) {
      this.event(refuse, sid, ssid, iova, flag);
      return this.fail(iova);
    }
    if (at === 'translated' && !(h.cr0 & CR0_ATSCHK)) return iova < 2 ** SMMU_OAS_BITS ? this.identity(iova) : this.fail(iova);
    const r = this.resolve(sid, ssid);
    if (r.kind === 'abort' || r.kind === 'fault') return this.fail(iova);
    if (r.kind === 'bypass' || r.ste.eats === 0) {
      this.event(refuse, sid, ssid, iova, flag);
      return this.fail(iova);
    }
    if (at === 'translated') return this.identity(iova);
    return this.walk(sid, ssid, r.entry, iova, flag, false);
  }
}
