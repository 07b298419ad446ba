import type { AddressSpace } from '../memory/address-space.js';
import { IOMMU_RO, IOMMU_RW, IOMMU_WO } from '../memory/iommu-types.js';
import { MEMTXATTRS_UNSPECIFIED, type MemTxAttrs } from '../memory/attrs.js';
import { IommuRegion, RamRegion } from '../memory/region.js';

const MAX_HOPS = 8;
const PAGE_MASK = 0xfff;

/** What address_space_get_iotlb_entry returns on success (target_as non-NULL). */
export interface IotlbEntryResult {
  readonly targetAs: AddressSpace;
  /** addr & ~addrMask. */
  readonly iova: number;
  /** The page-aligned address in targetAs. */
  readonly translatedAddr: number;
  /** The AND of every IOMMU level's mask (0xfff when no IOMMU is crossed). */
  readonly addrMask: number;
  /** Always IOMMU_RW: "IOTLBs are for DMAs, and DMA only allows on RAMs". */
  readonly perm: number;
}

/**
 * address_space_get_iotlb_entry (QEMU system/physmem.c): resolves `addr`
 * through the address space and every IOMMU on the way (translate with RO
 * or WO for `isWrite`, permission checked at each level), and returns the
 * page entry with perm RW; undefined on failure (QEMU's all-zero entry with
 * target_as NULL): a missing permission, a decode hole, or a final section
 * that is not RAM. Addresses are numbers (below 2^53).
 */
export function addressSpaceGetIotlbEntry(as: AddressSpace, addr: number, isWrite: boolean,
  attrs: MemTxAttrs = MEMTXATTRS_UNSPECIFIED): IotlbEntryResult | undefined {
  let cur = as;
  let a = addr;
  let mask = -1;
  let crossed = false;
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    const fr = cur.view.lookup(a);
    if (!fr) return undefined;
    const off = a - fr.startN + fr.offsetN;
    const mr = fr.mr;
    if (!(mr instanceof IommuRegion)) {
      if (!(mr instanceof RamRegion)) return undefined;
      const m = crossed ? mask : PAGE_MASK;
      // Convert the region offset into an address-space offset, then align (QEMU: xlat & ~page_mask).
      const xlat = a;
      return { targetAs: cur, iova: addr - (addr % (m + 1)), translatedAddr: xlat - (xlat % (m + 1)), addrMask: m, perm: IOMMU_RW };
    }
    const flag = isWrite ? IOMMU_WO : IOMMU_RO;
    const e = mr.translator.translate(off, flag, mr.attrsToIndex(attrs), attrs);
    if (!(e.perm & flag) || !e.targetAs) return undefined;
    const page = e.addrMask + 1;
    mask = crossed ? Math.min(mask, e.addrMask) : e.addrMask;
    crossed = true;
    a = e.translatedAddr - (e.translatedAddr % page) + (off % page);
    cur = e.targetAs;
  }
  return undefined;
}
