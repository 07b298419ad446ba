import { IOMMU_NONE, type AddressSpace } from '../../memory/index.js';
import { IOMMU_NOTIFIER_DEVIOTLB_UNMAP, IOMMU_NOTIFIER_NONE, IOMMU_NOTIFIER_UNMAP, type IOMMUTLBEvent } from '../notifier.js';
import type { SmmuEndpoint } from './endpoint.js';

/**
 * Notifier emission of the SMMUv3 (QEMU smmuv3_inv_notifiers_iova,
 * smmu_inv_notifiers_all; ref smmuv3-vtd.md A9, qemu-core.md section 4).
 * Every notifier of every endpoint that has one is offered the event, as
 * QEMU does (IOMMU_NOTIFIER_FOREACH, any iommu index); QEMU's crop and flag
 * rules apply (notifyOne).
 */
function withNotifiers(eps: readonly SmmuEndpoint[]): SmmuEndpoint[] {
  return eps.filter((e) => e.region.iommuNotifyFlags !== IOMMU_NOTIFIER_NONE);
}

/** TLBI_NH_ASID, NH_ALL, NSNH_ALL: every notifier's whole range (memory_region_unmap_iommu_notifier_range). */
export function unmapAllNotifiers(eps: readonly SmmuEndpoint[]): number {
  let n = 0;
  for (const ep of withNotifiers(eps)) {
    for (const nt of [...ep.region.registeredNotifiers]) {
      ep.region.unmapNotifierRange(nt);
      n++;
    }
  }
  return n;
}

/** One ranged UNMAP {iova, mask} to every notifier of every endpoint (TLBI_NH_VA / VAA, one aligned chunk). */
export function unmapRange(eps: readonly SmmuEndpoint[], target: AddressSpace, iova: bigint, mask: bigint): number {
  const event: IOMMUTLBEvent = {
    type: IOMMU_NOTIFIER_UNMAP,
    entry: { targetAs: target, iova, translatedAddr: 0n, addrMask: mask, perm: IOMMU_NONE },
  };
  let n = 0;
  for (const ep of withNotifiers(eps)) {
    for (const nt of [...ep.region.registeredNotifiers]) {
      ep.region.deliver(nt, event);
      n++;
    }
  }
  return n;
}

/**
 * CMD_ATC_INV: DEVIOTLB_UNMAP {iova, mask} (with the PASID when SSV) to the
 * endpoint's notifiers of index 0, as VT-d's device-IOTLB invalidation
 * does (do_invalidate_device_tlb): the ATS consumers (vhost's device
 * IOTLB, an emulated device's ATC) drop what they cached.
 */
export function devIotlbUnmap(ep: SmmuEndpoint, target: AddressSpace, iova: bigint, mask: bigint, ssid?: number): void {
  const entry = { targetAs: target, iova, translatedAddr: 0n, addrMask: mask, perm: IOMMU_NONE, ...(ssid !== undefined ? { pasid: ssid } : {}) };
  ep.region.notify(0, { type: IOMMU_NOTIFIER_DEVIOTLB_UNMAP, entry });
}

/**
 * Splits `pages` pages of 2^granule bytes from `addr` into power-of-two
 * chunks aligned to their size (QEMU dma_aligned_pow2_mask aligns relative
 * to the first page; we align to the address, so every chunk is a
 * naturally aligned block a notifier can take whole).
 */
export function alignedChunks(addr: number, pages: number, granule: number): { iova: number; pages: number }[] {
  const out: { iova: number; pages: number }[] = [];
  const size = 2 ** granule;
  let page = Math.floor(addr / size);
  let left = pages;
  while (left > 0) {
    let n = 1;
    while (n * 2 <= left && page % (n * 2) === 0) n *= 2;
    out.push({ iova: page * size, pages: n });
    page += n;
    left -= n;
  }
  return out;
}
