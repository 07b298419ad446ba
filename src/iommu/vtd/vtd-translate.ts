import { IOMMU_NONE, IOMMU_RW, IOMMU_WO, type IOMMUTLBEntry } from '../../memory/index.js';
import { CTX_FMT_VTD_SL } from '../xlate/context-table.js';
import type { IntelIommu } from './intel-iommu.js';
import type { VtdAddressSpace } from './vtd-as.js';
import { VTD_FR_CONTEXT_ENTRY_TT, VTD_TT_DEV_IOTLB, VTD_TT_PASS_THROUGH } from './vtd-context.js';
import { vtdQualifiedFault } from './vtd-faults.js';

/**
 * The context of `as` through the context cache (spec 6.2.2; QEMU
 * context_cache_entry and context_cache_gen): 0 or a fault reason. A
 * successful lookup is cached in the address space for the current
 * generation, and its second-level table published under the address
 * space's IOTLB tag (a changed table or domain drops what was cached
 * under the tag). Failed lookups are not cached.
 */
export function vtdCachedContext(s: IntelIommu, as: VtdAddressSpace): number {
  if (as.ccGen === s.contextGen) return 0;
  const r = s.readContext(as, as.ce);
  if (r) return r;
  as.ccGen = s.contextGen;
  const ce = as.ce;
  if (ce.tt === VTD_TT_PASS_THROUGH) return 0;
  const cfg = s.cfg;
  const cur = s.engine.contexts.get(as.ctx);
  const p = cur.params;
  if (cur.format !== CTX_FMT_VTD_SL || cur.root !== ce.slptptr || p[0] !== ce.levels || p[1] !== cfg.awBits || p[3] !== cfg.walkFlags) {
    s.coherence.setContext(as.ctx, { format: CTX_FMT_VTD_SL, root: ce.slptptr, params: [ce.levels, cfg.awBits, cfg.awBits, cfg.walkFlags] });
  } else if (s.ctxDid[as.ctx] !== ce.did) {
    s.coherence.invalidateContext(as.ctx);
  }
  s.ctxDid[as.ctx] = ce.did;
  return 0;
}

/**
 * Records a translation fault (spec 7.1.3) unless the context's FPD
 * suppresses it (qualified faults only) or it is a recoverable fault of an
 * ATS translation request (index 2). A request faults for its page (QEMU
 * returns addr_mask 0 and the memory core then retries byte by byte, each
 * retry collapsing into the recorded fault).
 */
function fault(s: IntelIommu, as: VtdAddressSpace, addr: number, reason: number, write: boolean, fpd: boolean, idx: number): IOMMUTLBEntry {
  const recoverableAts = idx === 2 && (reason === 5 || reason === 6);
  if ((fpd && vtdQualifiedFault(reason)) || recoverableAts) s.faults.counts.suppressed++;
  else s.faults.report(as.sid, addr, reason, write);
  return { targetAs: null, iova: addr - (addr % 4096), translatedAddr: 0, addrMask: 0xfff, perm: IOMMU_NONE };
}

function identity(s: IntelIommu, addr: number): IOMMUTLBEntry {
  const page = addr - (addr % 4096);
  return { targetAs: s.opts.memory, iova: page, translatedAddr: page, addrMask: 0xfff, perm: IOMMU_RW };
}

function entry(s: IntelIommu, addr: number, t: number, size: number, perm: number): IOMMUTLBEntry {
  return { targetAs: s.opts.memory, iova: addr - (addr % size), translatedAddr: t - (t % size), addrMask: size - 1, perm };
}

/**
 * vtd_iommu_translate / vtd_do_iommu_translate: DMAR off -> identity 4K
 * RW; otherwise the context (cached), pass-through -> identity (and the
 * no-DMAR fast path, vtd_pt_enable_fast_path), a translated request
 * (index 1) passes only where the context allows device-TLBs, else the
 * second-level translation through the IOTLB (TranslationEngine). The
 * entry carries the granted permission (R/W ANDed across levels).
 */
export function vtdTranslate(s: IntelIommu, as: VtdAddressSpace, addr: number, flag: number, idx: number): IOMMUTLBEntry {
  if (!s.dmarEnabled) return identity(s, addr);
  const write = (flag & IOMMU_WO) !== 0;
  const r = vtdCachedContext(s, as);
  if (r) return fault(s, as, addr, r, write, as.ce.fpd, idx);
  const ce = as.ce;
  if (ce.tt === VTD_TT_PASS_THROUGH) {
    if (as.useIommu) s.switchAddressSpace(as);
    return identity(s, addr);
  }
  if (idx === 1) return ce.tt === VTD_TT_DEV_IOTLB ? identity(s, addr) : fault(s, as, addr, VTD_FR_CONTEXT_ENTRY_TT, write, ce.fpd, idx);
  const eng = s.engine;
  if (s.cfg.iotlbHitNoFault) {
    // QEMU's quirk (compat property): an IOTLB hit returns the cached permission, no walk, no fault record.
    const slot = eng.iotlb.lookup(as.ctx, addr);
    if (slot >= 0) return entry(s, addr, eng.iotlb.translated(slot, addr), 2 ** eng.iotlb.shift(slot), eng.iotlb.perm(slot));
  }
  // Following the specification, a cached entry lacking the permission is not used: the engine walks,
  // and a still-missing permission is a recorded fault.
  const t = eng.translate(as.ctx, addr, flag & 3);
  if (t < 0) return fault(s, as, addr, -t, write, ce.fpd, idx);
  return entry(s, addr, t, 2 ** eng.walk.shift, eng.walk.perm);
}

/**
 * The batch form for one requester (the IOTLB benchmark, bulk consumers):
 * the context through the context cache, then the engine's batch
 * translation under the requester's tag. Returns the number of faults
 * (their results are -reason; they are not recorded in FRCD), or -1 with
 * every result -reason when the context itself cannot translate.
 */
export function vtdTranslateBatch(s: IntelIommu, as: VtdAddressSpace, access: number, iovas: Float64Array, from: number, to: number,
  out: Float64Array): number {
  const r = s.dmarEnabled ? vtdCachedContext(s, as) : VTD_FR_CONTEXT_ENTRY_TT;
  if (r || as.ce.tt === VTD_TT_PASS_THROUGH) {
    out.fill(-(r || VTD_FR_CONTEXT_ENTRY_TT), from, to);
    return -1;
  }
  return s.engine.translateBatch(as.ctx, access, iovas, from, to, out);
}
