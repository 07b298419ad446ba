/**
 * The outcome of a page-table walk, filled in place so that a walk
 * allocates nothing. A walker returns 0 for success or its own fault code
 * (VT-d fault reason, LPAE fault kind, TCE fault kind); the fields then say
 * where the walk stopped.
 */
export class WalkResult {
  /** Output address of the first byte of the page or block. */
  addr = 0;
  /** log2 of the page or block size (12 for 4 KiB). */
  shift = 12;
  /** Granted permission, IOMMU_RO | IOMMU_WO bits, ANDed across levels. */
  perm = 0;
  /** Level of the leaf, or of the entry that faulted. */
  level = 0;
  /** Guest-physical address of the last entry read (the one that faulted). */
  entryAddr = 0;

  reset(): void {
    this.addr = 0;
    this.shift = 12;
    this.perm = 0;
    this.level = 0;
    this.entryAddr = 0;
  }
}

/** 2^n as a number, exact for n < 1024. */
export function pow2(n: number): number {
  return 2 ** n;
}

/** Access kinds a walk checks: none (report permissions), read, write. */
export const WALK_NONE = 0;
export const WALK_READ = 1;
export const WALK_WRITE = 2;
