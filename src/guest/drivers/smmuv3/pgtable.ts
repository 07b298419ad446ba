import type { GuestPort } from '../../port.js';
import type { PageAllocator } from '../../page-alloc.js';
import { IOMMU_WRITE } from '../../iommu-core/domain-types.js';

const TWO32 = 0x1_0000_0000;
const GRANULE = 4096;
/** ARM_LPAE_PTE_*: type (table/page 0b11), AF, SH inner-shareable, AP[1] unprivileged, AP[2] read-only, nG. */
const PTE_TYPE = 3;
const PTE_AF = 1 << 10;
const PTE_SH_IS = 3 << 8;
const PTE_AP_UNPRIV = 1 << 6;
const PTE_AP_RDONLY = 1 << 7;
const PTE_NG = 1 << 11;
/** MAIR index of normal write-back memory (ARM_LPAE_MAIR_ATTR_IDX_CACHE), AttrIndx [4:2]. */
const PTE_ATTRINDX_CACHE = 1 << 2;

/**
 * The guest's io-pgtable-arm for ARM_64_LPAE_S1 (Linux
 * drivers/iommu/io-pgtable-arm.c), 4 KiB granule, 48-bit input: a 4-level
 * VMSAv8-64 table in guest memory. Pages only (pgsize_bitmap 4K here);
 * intermediate tables are kept until the table is freed, as
 * io-pgtable-arm keeps them until a covering unmap.
 */
export class LpaeS1Pgtable {
  readonly root: number;
  readonly ias = 48;
  private readonly tables: number[] = [];

  constructor(private readonly port: GuestPort, private readonly mem: PageAllocator) {
    this.root = this.alloc();
  }

  private alloc(): number {
    const a = this.mem.alloc(GRANULE);
    if (a === undefined) throw new RangeError('out of memory for IOMMU page tables');
    this.port.writeBytes(a, new Uint8Array(GRANULE));
    this.tables.push(a);
    return a;
  }

  private rd(addr: number): number {
    const r = this.port.read(addr, 8);
    return r.hi * TWO32 + r.lo;
  }
  private wr(addr: number, v: number): void {
    this.port.write(addr, 8, v % TWO32, Math.floor(v / TWO32));
  }

  private static index(iova: number, level: number): number {
    return Math.floor(iova / 2 ** (12 + 9 * (3 - level))) % 512;
  }

  /** The level-3 table of `iova` (allocating on the way when `create`). */
  private leafTable(iova: number, create: boolean): number | undefined {
    let table = this.root;
    for (let level = 0; level < 3; level++) {
      const at = table + LpaeS1Pgtable.index(iova, level) * 8;
      const e = this.rd(at);
      if ((e & 3) === 3) {
        table = (Math.floor(e / GRANULE) % 2 ** 36) * GRANULE;
        continue;
      }
      if (!create) return undefined;
      const next = this.alloc();
      this.wr(at, next + PTE_TYPE);
      table = next;
    }
    return table;
  }

  /** arm_lpae_map_pages: `count` 4 KiB pages; returns bytes mapped (stops at an existing mapping: -EEXIST in Linux). */
  map(iova: number, paddr: number, count: number, prot: number): number {
    let done = 0;
    for (let i = 0; i < count; i++) {
      const va = iova + i * GRANULE;
      const t = this.leafTable(va, true)!;
      const at = t + LpaeS1Pgtable.index(va, 3) * 8;
      if (this.rd(at) & 1) break;
      let pte = paddr + i * GRANULE + PTE_TYPE + PTE_AF + PTE_SH_IS + PTE_NG + PTE_AP_UNPRIV + PTE_ATTRINDX_CACHE;
      if (!(prot & IOMMU_WRITE)) pte += PTE_AP_RDONLY;
      this.wr(at, pte);
      done += GRANULE;
    }
    return done;
  }

  /** arm_lpae_unmap_pages: clears up to `count` pages; returns the bytes unmapped (stops at a hole). */
  unmap(iova: number, count: number, onPage: (iova: number) => void): number {
    let done = 0;
    for (let i = 0; i < count; i++) {
      const va = iova + i * GRANULE;
      const t = this.leafTable(va, false);
      if (t === undefined) break;
      const at = t + LpaeS1Pgtable.index(va, 3) * 8;
      if (!(this.rd(at) & 1)) break;
      this.wr(at, 0);
      onPage(va);
      done += GRANULE;
    }
    return done;
  }

  iovaToPhys(iova: number): number {
    const t = this.leafTable(iova, false);
    if (t === undefined) return 0;
    const e = this.rd(t + LpaeS1Pgtable.index(iova, 3) * 8);
    if ((e & 3) !== 3) return 0;
    const out = (Math.floor(e / GRANULE) % 2 ** 36) * GRANULE;
    return out + (iova % GRANULE);
  }

  free(): void {
    for (const t of this.tables) this.mem.freePages(t, GRANULE);
    this.tables.length = 0;
  }
}
