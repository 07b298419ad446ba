import type { AddressSpace } from '../../memory/index.js';

const TWO32 = 0x1_0000_0000;

/**
 * What a guest driver writes for VT-d legacy mode (the Linux intel-iommu
 * driver, kvm-unit-tests lib/x86/intel-iommu.c vtd_map_range): a root
 * table, context tables, and 4-level second-level tables, through the
 * guest's view of system memory. Formats: ref/smmuv3-vtd.md B2 (root and
 * context entries) and B3 (second-level entries: R bit 0, W bit 1).
 */
export class VtdGuestTables {
  readonly root: number;
  private next: number;
  private readonly tables = new Map<number, number>();

  /** Tables are allocated upwards from `base`, 4 KiB each, below `limit`. */
  constructor(private readonly mem: AddressSpace, base: number, private readonly limit: number, readonly levels = 4) {
    this.next = base;
    this.root = this.alloc();
  }

  private alloc(): number {
    const a = this.next;
    if (a + 4096 > this.limit) throw new RangeError(`page tables overflow at 0x${a.toString(16)}`);
    this.next += 4096;
    const zero = new Uint8Array(4096);
    this.mem.writeBytes(a, zero);
    return a;
  }

  private st64(addr: number, v: number): void {
    this.mem.write(addr, 8, v % TWO32, Math.floor(v / TWO32));
  }

  /** Root entry for `bus` -> a context table; context entry for devfn: domain `did`, AW for `levels`, TT = 0. */
  attach(bus: number, devfn: number, did: number): number {
    const rootEntry = this.root + bus * 16;
    let ctxTable = this.mem.ld32(rootEntry);
    if (!(ctxTable & 1)) {
      ctxTable = this.alloc();
      this.st64(rootEntry, ctxTable + 1);
    }
    const ce = (ctxTable & ~0xfff) + devfn * 16;
    const slpt = this.alloc();
    this.st64(ce, slpt + 1);
    this.st64(ce + 8, (did << 8) | (this.levels - 2));
    return slpt;
  }

  /** Maps the 4 KiB page at `iova` to `gpa` with R/W bits `rw` (1 read, 2 write) under table `slpt`. */
  map(slpt: number, iova: number, gpa: number, rw = 3): void {
    let table = slpt;
    for (let level = this.levels; level > 1; level--) {
      const idx = Math.floor(iova / 2 ** (12 + 9 * (level - 1))) % 512;
      const key = table * 512 + idx;
      let nextTable = this.tables.get(key);
      if (nextTable === undefined) {
        nextTable = this.alloc();
        this.tables.set(key, nextTable);
        this.st64(table + idx * 8, nextTable + 3);
      }
      table = nextTable;
    }
    this.st64(table + (Math.floor(iova / 4096) % 512) * 8, gpa + rw);
  }

  /** Clears the leaf entry of `iova` (an unmap; the guest then invalidates). */
  unmap(slpt: number, iova: number): void {
    let table = slpt;
    for (let level = this.levels; level > 1; level--) {
      const idx = Math.floor(iova / 2 ** (12 + 9 * (level - 1))) % 512;
      const nextTable = this.tables.get(table * 512 + idx);
      if (nextTable === undefined) return;
      table = nextTable;
    }
    this.st64(table + (Math.floor(iova / 4096) % 512) * 8, 0);
  }
}
