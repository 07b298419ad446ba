import type { AddressSpace } from '../memory/index.js';

/**
 * IOMMU notifier types (QEMU include/system/memory.h, IOMMUNotifierFlag and
 * IOMMUNotifier; ref/qemu-core.md section 2). Notifier and event ranges are
 * bigint: they are control-path values that reach 2^64 - 1.
 */
export const IOMMU_NOTIFIER_NONE = 0;
/** Invalidations of existing entries. */
export const IOMMU_NOTIFIER_UNMAP = 0x1;
/** New entries. */
export const IOMMU_NOTIFIER_MAP = 0x2;
/** Device-IOTLB (ATS) invalidations. */
export const IOMMU_NOTIFIER_DEVIOTLB_UNMAP = 0x4;
/** MAP and UNMAP: what a shadowing consumer (VFIO) registers. */
export const IOMMU_NOTIFIER_IOTLB_EVENTS = IOMMU_NOTIFIER_MAP | IOMMU_NOTIFIER_UNMAP;
/** DEVIOTLB_UNMAP: what vhost registers when the vIOMMU offers ATS. */
export const IOMMU_NOTIFIER_DEVIOTLB_EVENTS = IOMMU_NOTIFIER_DEVIOTLB_UNMAP;
/** Every notifier flag. */
export const IOMMU_NOTIFIER_ALL = IOMMU_NOTIFIER_IOTLB_EVENTS | IOMMU_NOTIFIER_DEVIOTLB_EVENTS;

export const U64_MAX = (1n << 64n) - 1n;

/** The errno values vIOMMUs return from notify_flag_changed (negative, as in QEMU). */
export const EINVAL = 22;
export const ENOTSUP = 95;
export const E2BIG = 7;

/**
 * An error returned as a value (QEMU's negative errno plus the Error*
 * message): registration vetoes, UNMAP events carrying a permission.
 */
export interface IommuError {
  /** Negative errno, e.g. -ENOTSUP. */
  readonly errno: number;
  readonly message: string;
}

export function iommuError(errno: number, message: string): IommuError {
  return { errno: -Math.abs(errno), message };
}

/**
 * IOMMUTLBEntry as notifiers see it: exact 64-bit values. `addrMask` is
 * normally 2^n - 1 but may be any value after cropping to a notifier range.
 */
export interface IOMMUNotifyEntry {
  targetAs: AddressSpace | null;
  iova: bigint;
  translatedAddr: bigint;
  addrMask: bigint;
  perm: number;
  pasid?: number;
}

/** IOMMUTLBEvent: one flag (UNMAP, MAP or DEVIOTLB_UNMAP) and an entry. */
export interface IOMMUTLBEvent {
  type: number;
  entry: IOMMUNotifyEntry;
}

/** IOMMUNotifier; fill with iommuNotifierInit (iommu_notifier_init). */
export interface IOMMUNotifier {
  notify: (n: IOMMUNotifier, entry: IOMMUNotifyEntry) => void;
  notifierFlags: number;
  /** Inclusive range in the IOMMU region's own address space. */
  start: bigint;
  end: bigint;
  iommuIndex: number;
}

export function iommuNotifierInit(notify: IOMMUNotifier['notify'], flags: number, start: bigint, end: bigint,
  iommuIndex: number): IOMMUNotifier {
  return { notify, notifierFlags: flags, start, end, iommuIndex };
}

/** Names for traces and `info iommu`: "UNMAP|MAP". */
export function notifierFlagsName(flags: number): string {
  const parts: string[] = [];
  if (flags & IOMMU_NOTIFIER_UNMAP) parts.push('UNMAP');
  if (flags & IOMMU_NOTIFIER_MAP) parts.push('MAP');
  if (flags & IOMMU_NOTIFIER_DEVIOTLB_UNMAP) parts.push('DEVIOTLB_UNMAP');
  return parts.length ? parts.join('|') : 'NONE';
}
