import { EBUSY, EFAULT, EINVAL, ENOENT } from '../../errno.js';
import type { PageAllocator } from '../../page-alloc.js';

/** One mapping of the user process: virtual range backed by contiguous guest-physical pages. */
interface UserMapping {
  readonly vaddr: bigint;
  readonly size: bigint;
  readonly paddr: number;
}

/** A preregistered region (struct mm_iommu_table_group_mem_t): pinned, with a count of TCEs using it. */
interface PreregRegion {
  readonly ua: bigint;
  readonly entries: bigint;
  mapped: number;
}

/** The user process's view: where its anonymous memory starts (an arbitrary, page-aligned user address). */
const USER_BASE = 0x7fff_0000_0000n;
const PAGE = 4096n;

/**
 * A VFIO user's memory: mmap'ed anonymous buffers (backed by guest pages
 * here) and the regions it preregistered for TCE use
 * (arch/powerpc/mm/book3s64/iommu_api.c: mm_iommu_new / mm_iommu_get /
 * mm_iommu_lookup / mm_iommu_put). Sizes and addresses are u64 (bigint).
 */
export class VfioUserMemory {
  private readonly maps: UserMapping[] = [];
  private readonly prereg: PreregRegion[] = [];
  private next = USER_BASE;

  constructor(private readonly mem: PageAllocator) {}

  /** mmap(MAP_ANONYMOUS): a page-aligned buffer; its user address and the guest-physical pages behind it. */
  mmap(size: number): { vaddr: bigint; paddr: number } | undefined {
    const bytes = Math.ceil(size / 4096) * 4096;
    const paddr = this.mem.alloc(bytes, 65536);
    if (paddr === undefined) return undefined;
    const vaddr = this.next;
    this.next += BigInt(bytes) + 0x10000n;
    this.maps.push({ vaddr, size: BigInt(bytes), paddr });
    return { vaddr, paddr };
  }

  /** The guest-physical address behind [ua, ua + len), or undefined if it is not one mapping. */
  translate(ua: bigint, len: bigint): number | undefined {
    const m = this.maps.find((x) => ua >= x.vaddr && ua + len <= x.vaddr + x.size);
    return m ? m.paddr + Number(ua - m.vaddr) : undefined;
  }

  /** tce_iommu_register_pages: page-aligned, not wrapping; an existing region is -EBUSY, an overlapping one -EINVAL; unbacked pages -EFAULT. */
  register(ua: bigint, size: bigint): number {
    if (ua % PAGE || size % PAGE || ua + size < ua || size === 0n) return -EINVAL;
    const entries = size / PAGE;
    if (this.prereg.some((r) => r.ua === ua && r.entries === entries)) return -EBUSY;
    if (this.prereg.some((r) => ua < r.ua + r.entries * PAGE && r.ua < ua + size)) return -EINVAL;
    if (this.translate(ua, size) === undefined) return -EFAULT;
    this.prereg.push({ ua, entries, mapped: 0 });
    return 0;
  }

  /** tce_iommu_unregister_pages: -ENOENT if not registered, -EBUSY while TCEs use it. */
  unregister(ua: bigint, size: bigint): number {
    if (ua % PAGE || size % PAGE) return -EINVAL;
    const i = this.prereg.findIndex((r) => r.ua === ua && r.entries * PAGE === size);
    if (i < 0) return -ENOENT;
    if (this.prereg[i]!.mapped > 0) return -EBUSY;
    this.prereg.splice(i, 1);
    return 0;
  }

  /** mm_iommu_lookup + mm_iommu_ua_to_hpa: the host-physical (here guest-physical) page of a preregistered user page. */
  lookup(ua: bigint, pageSize: bigint): { hpa: number; region: PreregRegion } | undefined {
    const r = this.prereg.find((x) => ua >= x.ua && ua + pageSize <= x.ua + x.entries * PAGE);
    const hpa = r ? this.translate(ua, pageSize) : undefined;
    return r && hpa !== undefined ? { hpa, region: r } : undefined;
  }

  /** The preregistered region holding `hpa` (for unuse on clear). */
  regionOf(hpa: number): PreregRegion | undefined {
    return this.prereg.find((r) => {
      const base = this.translate(r.ua, PAGE);
      return base !== undefined && hpa >= base && hpa < base + Number(r.entries * PAGE);
    });
  }
}
