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
  /** On success: the table holding the leaf entry (address halves) and the permission of the levels above it. */
  tableLo = 0;
  tableHi = 0;
  tablePerm = 0;

  reset(): void {
    this.addr = 0;
    this.shift = 12;
    this.perm = 0;
    this.level = 0;
    this.entryAddr = 0;
    this.tableLo = 0;
    this.tableHi = 0;
    this.tablePerm = 0;
  }
}

/** POW2[n] = 2^n for n in 0..63: a table, because `**` is a call to pow() in V8's optimized code. */
export const POW2: readonly number[] = Array.from({ length: 64 }, (_, i) => 2 ** i);

/** Access kinds a walk checks: none (report permissions), read, write. */
export const WALK_NONE = 0;
export const WALK_READ = 1;
export const WALK_WRITE = 2;
