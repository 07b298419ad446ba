import type { MemTxAttrs } from './attrs.js';
import type { AddressSpace } from './address-space.js';

/**
 * IOMMUAccessFlags (include/exec/memory.h): the permission bits of a
 * translation, and the access kind passed to translate().
 */
export const IOMMU_NONE = 0;
/** Read-only: the device may read (DMA to the device). */
export const IOMMU_RO = 1;
/** Write-only: the device may write (DMA from the device). */
export const IOMMU_WO = 2;
/** Read and write. */
export const IOMMU_RW = 3;

/**
 * IOMMUTLBEntry. `iova` and `translatedAddr` are numbers: guest physical
 * addresses and region-relative IOVAs are below 2^53 (DESIGN "64-bit
 * values"); `addrMask` is 2^n - 1 (0xfff for a 4 KiB page). An entry with
 * perm IOMMU_NONE is a fault; `targetAs` is null when nothing translates.
 */
export interface IOMMUTLBEntry {
  targetAs: AddressSpace | null;
  iova: number;
  translatedAddr: number;
  addrMask: number;
  perm: number;
  pasid?: number;
}

/** The translate side of an IOMMU region (IOMMUMemoryRegionClass). */
export interface IommuTranslator {
  /** translate(iommu, addr, flag, idx): `addr` is relative to the region. */
  translate(addr: number, flag: number, iommuIndex: number, attrs: MemTxAttrs): IOMMUTLBEntry;
  attrsToIndex?(attrs: MemTxAttrs): number;
  /**
   * How many bytes of a refused access at `addr` one step covers before the
   * rest is translated again (default: the rest of the page). QEMU hands a
   * refused piece to io_mem_unassigned, whose accesses are at most 4 bytes
   * and aligned, so a vIOMMU that records a fault per translation records
   * one per piece (see qemuUnassignedPiece).
   */
  refusedPieceLength?(len: number, addr: number): number;
}

/**
 * memory_access_size(io_mem_unassigned, len, addr): at most 4 bytes,
 * aligned to the address, a power of two. A refused 8-byte DMA is two
 * translations (QEMU 7.2 records two SMMU faults, at IOVA and IOVA + 4).
 */
export function qemuUnassignedPiece(len: number, addr: number): number {
  let n = Math.min(len, 4);
  const align = addr & -addr;
  if (align !== 0 && align < n) n = align;
  return n >= 4 ? 4 : n >= 2 ? 2 : 1;
}
