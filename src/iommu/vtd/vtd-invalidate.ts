import { IOMMU_NONE } from '../../memory/index.js';
import {
  IOMMU_NOTIFIER_DEVIOTLB_UNMAP, IOMMU_NOTIFIER_MAP, IOMMU_NOTIFIER_UNMAP, type IOMMUNotifier, type IOMMUTLBEvent,
} from '../notifier.js';
import type { IntelIommu } from './intel-iommu.js';
import type { VtdAddressSpace } from './vtd-as.js';
import { VTD_FR_CONTEXT_ENTRY_P, VtdContext } from './vtd-context.js';
import { vtdPageWalk, type VtdPageWalkInfo } from './vtd-page-walk.js';

/**
 * Invalidations and the notifier events they cause (hw/i386/intel_iommu.c;
 * ref/smmuv3-vtd.md B5-B6, ref/qemu-core.md section 4). The IOTLB is
 * tagged per requester (IntelIommu.ctxDid says which domain filled each
 * tag), so domain and page invalidations reach every requester of the
 * domain. Completion is reported by the caller (wait descriptor, register
 * bits) after IotlbCoherence.quiesce.
 */

/** dma_aligned_pow2_mask: the largest naturally aligned power-of-two block at `start` within [start, end]. */
export function dmaAlignedPow2Mask(start: bigint, end: bigint, maxAddrBits: number): bigint {
  const maxMask = maxAddrBits === 64 ? (1n << 64n) - 1n : (1n << BigInt(maxAddrBits)) - 1n;
  const addrMask = end - start;
  let alignMask = start ? (start & -start) - 1n : maxMask;
  if (alignMask > maxMask) alignMask = maxMask;
  const sizeMask = addrMask < maxMask ? addrMask : maxMask;
  if (alignMask <= sizeMask) return alignMask;
  if (addrMask === (1n << 64n) - 1n) return addrMask;
  return (1n << BigInt((addrMask + 1n).toString(2).length - 1)) - 1n;
}

/**
 * vtd_address_space_unmap: UNMAP the notifier's whole range (cut to the
 * unit's address width) in naturally aligned power-of-two pieces, to that
 * notifier alone, and forget the range in the IOVA tree.
 */
export function vtdAddressSpaceUnmap(s: IntelIommu, as: VtdAddressSpace, n: IOMMUNotifier): void {
  const limit = (1n << BigInt(s.cfg.awBits)) - 1n;
  let start = n.start;
  const end = n.end < limit ? n.end : limit;
  if (start > end) return;
  let remain = end - start + 1n;
  while (remain >= 4096n) {
    const mask = dmaAlignedPow2Mask(start, end, s.cfg.awBits);
    as.iommu.deliver(n, {
      type: IOMMU_NOTIFIER_UNMAP,
      entry: { targetAs: s.opts.memory, iova: start, translatedAddr: 0n, addrMask: mask, perm: IOMMU_NONE },
    });
    start += mask + 1n;
    remain -= mask + 1n;
  }
  as.iovaTree.remove(Number(n.start), Number(end - n.start));
}

function walkInfo(s: IntelIommu, as: VtdAddressSpace, notifyUnmap: boolean, hook: (e: IOMMUTLBEvent) => void): VtdPageWalkInfo {
  return { ram: s.ram, awBits: s.cfg.awBits, walkFlags: s.cfg.walkFlags, notifyUnmap, tree: as.iovaTree, target: s.opts.memory, hook };
}

/** vtd_sync_shadow_page_table_range: MAP/UNMAP from a walk of [start, end), to the region's notifiers on index 0. */
export function vtdSyncShadowRange(s: IntelIommu, as: VtdAddressSpace, ce: VtdContext, start: number, end: number): void {
  vtdPageWalk(walkInfo(s, as, true, (e) => void as.iommu.notify(0, e)), ce.slptptr, ce.levels, start, end);
}

/**
 * vtd_address_space_sync: without a MAP notifier every notifier's range is
 * unmapped; with one, a context that is not present unmaps everything and
 * a valid one is resynced over the whole space.
 */
export function vtdAddressSpaceSync(s: IntelIommu, as: VtdAddressSpace): void {
  if (!(as.notifierFlags & IOMMU_NOTIFIER_MAP)) {
    for (const n of [...as.iommu.registeredNotifiers]) vtdAddressSpaceUnmap(s, as, n);
    return;
  }
  const ce = new VtdContext();
  const r = s.readContext(as, ce);
  if (r === VTD_FR_CONTEXT_ENTRY_P) {
    for (const n of [...as.iommu.registeredNotifiers]) vtdAddressSpaceUnmap(s, as, n);
    return;
  }
  if (r) return;
  vtdSyncShadowRange(s, as, ce, 0, Infinity);
}

/** vtd_address_space_refresh_all: unmap every notifier, then re-switch every address space (TE, SRTP, reset). */
export function vtdRefreshAll(s: IntelIommu): void {
  for (const as of [...s.withNotifiers]) for (const n of [...as.iommu.registeredNotifiers]) vtdAddressSpaceUnmap(s, as, n);
  s.switchAll();
}

/** vtd_iommu_replay_all: resync every address space with notifiers. */
export function vtdReplayAll(s: IntelIommu): void {
  for (const as of [...s.withNotifiers]) vtdAddressSpaceSync(s, as);
}

/** vtd_iommu_replay's walk (after the caller's unmap): MAPs of every present translation, to `n` only. */
export function vtdReplay(s: IntelIommu, as: VtdAddressSpace, n: IOMMUNotifier): void {
  const ce = new VtdContext();
  if (s.readContext(as, ce) !== 0 || !(as.notifierFlags & IOMMU_NOTIFIER_MAP)) return;
  vtdPageWalk(walkInfo(s, as, false, (e) => void as.iommu.deliver(n, e)), ce.slptptr, ce.levels, 0, Infinity);
}

/** Context-cache global (and domain, which QEMU treats as global) invalidation. */
export function vtdContextGlobalInvalidate(s: IntelIommu): void {
  s.inv.contextGlobal++;
  s.bumpContextGen();
  vtdRefreshAll(s);
  vtdReplayAll(s);
}

/** Context-cache device-selective invalidation: SID with FM masking function bits 2, 2:1 or 2:0 (spec 6.5.2.1). */
export function vtdContextDeviceInvalidate(s: IntelIommu, sid: number, fm: number): void {
  s.inv.contextDevice++;
  const mask = ~[0, 4, 6, 7][fm & 3]! & 0xff;
  for (const as of s.spaces) {
    if ((as.bus.number & 0xff) !== sid >>> 8 || (as.devfn & mask) !== (sid & 0xff & mask)) continue;
    as.ccGen = 0;
    s.switchAddressSpace(as);
    vtdAddressSpaceSync(s, as);
  }
}

/** IOTLB global invalidation: everything cached goes, every address space with notifiers is resynced. */
export function vtdIotlbGlobalInvalidate(s: IntelIommu): void {
  s.inv.iotlbGlobal++;
  s.coherence.invalidateAll();
  vtdReplayAll(s);
}

/** IOTLB domain-selective invalidation. */
export function vtdIotlbDomainInvalidate(s: IntelIommu, did: number): void {
  s.inv.iotlbDomain++;
  for (const ctx of s.ctxsOfDomain(did)) s.coherence.invalidateContext(ctx);
  const ce = new VtdContext();
  for (const as of [...s.withNotifiers]) {
    if (s.readContext(as, ce) === 0 && ce.did === did) vtdAddressSpaceSync(s, as);
  }
}

/**
 * IOTLB page-selective invalidation of 2^am pages at addr (aligned down to
 * the block) in domain `did`, and its notifier events: an address space
 * with a MAP notifier is resynced over the range; UNMAP-only notifiers get
 * one UNMAP {iova = addr, mask = size - 1} with no walk.
 */
export function vtdIotlbPageInvalidate(s: IntelIommu, did: number, addr: number, am: number): void {
  s.inv.iotlbPage++;
  if (s.cfg.brokenSkipPsi) return;
  const size = 4096 * 2 ** am;
  const base = Math.floor(addr / size) * size;
  for (const ctx of s.ctxsOfDomain(did)) s.coherence.invalidateRange(ctx, base, size);
  const ce = new VtdContext();
  for (const as of [...s.withNotifiers]) {
    if (s.readContext(as, ce) !== 0 || ce.did !== did) continue;
    if (as.notifierFlags & IOMMU_NOTIFIER_MAP) {
      vtdSyncShadowRange(s, as, ce, addr, addr + size);
    } else {
      as.iommu.notify(0, {
        type: IOMMU_NOTIFIER_UNMAP,
        entry: { targetAs: s.opts.memory, iova: BigInt(addr), translatedAddr: 0n, addrMask: BigInt(size - 1), perm: IOMMU_NONE },
      });
    }
  }
}

/** Count of trailing one bits (cto64). */
function trailingOnes(v: bigint): number {
  let n = 0;
  while (v & 1n) {
    n++;
    v >>= 1n;
  }
  return n;
}

/**
 * A device-TLB invalidation (spec 6.5.2.5; PCIe ATS 1.1 table 2-4): the
 * requester's address space gets one DEVIOTLB_UNMAP on index 0. S = 0: 4K
 * at ADDR; S = 1: 8K << (trailing one bits of ADDR >> 12), ADDR aligned
 * down. An unknown SID is a silent success; ECAP.DT and the context TT are
 * not checked (as QEMU).
 */
export function vtdDeviceIotlbInvalidate(s: IntelIommu, sid: number, addr: bigint, sizeBit: boolean): void {
  s.inv.deviceTlb++;
  const as = s.findBySid(sid);
  if (!as) return;
  let iova = addr;
  let sz = 4096n;
  if (sizeBit) {
    sz = (8192n << BigInt(trailingOnes(addr >> 12n))) & ((1n << 64n) - 1n);
    iova = sz === 0n ? 0n : addr & ~(sz - 1n);
  }
  as.iommu.notify(0, {
    type: IOMMU_NOTIFIER_DEVIOTLB_UNMAP,
    entry: { targetAs: as.as, iova, translatedAddr: 0n, addrMask: (sz - 1n) & ((1n << 64n) - 1n), perm: IOMMU_NONE },
  });
}
