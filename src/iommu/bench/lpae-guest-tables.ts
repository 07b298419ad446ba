import type { AddressSpace } from '../../memory/index.js';

const TWO32 = 0x1_0000_0000;

/** Leaf attributes a guest writes (VMSAv8-64 stage 1, ARM DDI 0487 D8.3). */
export interface LpaeLeafAttrs {
  /** AP[2] = 0: writable (default true). */
  readonly write?: boolean;
  /** AF, bit 10 (default true: Linux sets it). */
  readonly af?: boolean;
}

/**
 * What a guest driver writes for an SMMUv3 stage-1 translation (Linux
 * io-pgtable-arm, ARM_64_LPAE_S1): VMSAv8-64 tables for one granule (4K,
 * 16K or 64K) and input size (64 - TSZ bits), through the guest's view of
 * system memory. Table descriptors are next-table | 0b11; page
 * descriptors output | AF | AP[2] | 0b11 (ref smmuv3-vtd.md A5). Used by
 * `viommu bench iotlb --iommu smmuv3` and the SMMUv3 tests.
 */
export class LpaeGuestTables {
  readonly root: number;
  readonly startLevel: number;
  private next: number;
  private readonly stride: number;
  private readonly tables = new Map<string, number>();

  /** Tables are allocated upwards from `base` (granule-aligned), granule-sized, below `limit`. */
  constructor(private readonly mem: AddressSpace, base: number, private readonly limit: number, readonly granule = 12, readonly tsz = 16) {
    this.stride = granule - 3;
    this.startLevel = 4 - Math.floor((64 - tsz - 4) / this.stride);
    this.next = Math.ceil(base / 2 ** granule) * 2 ** granule;
    this.root = this.alloc();
  }

  get used(): number {
    return this.next;
  }

  private alloc(): number {
    const size = 2 ** this.granule;
    const a = this.next;
    if (a + size > this.limit) throw new RangeError(`page tables overflow at 0x${a.toString(16)}`);
    this.next += size;
    this.mem.writeBytes(a, new Uint8Array(size));
    return a;
  }

  private st64(addr: number, v: number): void {
    this.mem.write(addr, 8, v % TWO32, Math.floor(v / TWO32));
  }

  private shift(level: number): number {
    return this.granule + (3 - level) * this.stride;
  }

  private index(iova: number, level: number): number {
    const bits = level === this.startLevel ? 64 - this.tsz - this.shift(level) : this.stride;
    return Math.floor(iova / 2 ** this.shift(level)) % 2 ** bits;
  }

  /** The table holding the level-`leafLevel` descriptor of `iova`, allocating tables on the way. */
  private tableFor(iova: number, leafLevel: number, create: boolean): number | undefined {
    let table = this.root;
    for (let level = this.startLevel; level < leafLevel; level++) {
      const idx = this.index(iova, level);
      const key = `${table}:${idx}`;
      let nextTable = this.tables.get(key);
      if (nextTable === undefined) {
        if (!create) return undefined;
        nextTable = this.alloc();
        this.tables.set(key, nextTable);
        this.st64(table + idx * 8, nextTable + 3);
      }
      table = nextTable;
    }
    return table;
  }

  /** Maps one granule page at `iova` to `pa`. */
  map(iova: number, pa: number, a: LpaeLeafAttrs = {}): void {
    const t = this.tableFor(iova, 3, true)!;
    this.st64(t + this.index(iova, 3) * 8, pa + 3 + (a.af === false ? 0 : 0x400) + (a.write === false ? 0x80 : 0));
  }

  /** Maps a block at `level` (< 3): output | AF | AP[2] | 0b01. */
  mapBlock(iova: number, pa: number, level: number, a: LpaeLeafAttrs = {}): void {
    const t = this.tableFor(iova, level, true)!;
    this.st64(t + this.index(iova, level) * 8, pa + 1 + (a.af === false ? 0 : 0x400) + (a.write === false ? 0x80 : 0));
  }

  /** Clears the page descriptor of `iova` (the guest then invalidates). */
  unmap(iova: number): void {
    const t = this.tableFor(iova, 3, false);
    if (t !== undefined) this.st64(t + this.index(iova, 3) * 8, 0);
  }

  /** Address of the level-3 descriptor of `iova`, if its table exists. */
  pteAddress(iova: number): number | undefined {
    const t = this.tableFor(iova, 3, false);
    return t === undefined ? undefined : t + this.index(iova, 3) * 8;
  }
}
