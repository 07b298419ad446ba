import type { GuestClock, GuestTimer } from '../clock.js';

export interface FlushQueueOptions {
  /** Entries held before a flush (Linux intel-iommu HIGH_WATER_MARK 250; dma-iommu's ring holds 256). */
  readonly size: number;
  /** Virtual time after the first queued entry at which the queue flushes anyway (10 ms in Linux). */
  readonly timeoutNs: number;
}

export const DEFAULT_FQ: FlushQueueOptions = { size: 250, timeoutNs: 10_000_000 };

/**
 * Lazy invalidation (Linux's flush queue, after Mark Gross's "PCI: iommu:
 * iotlb flushing"): an unmap clears the page tables at once, but the IOTLB
 * flush and the freeing of the IOVA wait until the queue holds `size`
 * entries (flushed before the next is added) or `timeoutNs` after the first
 * entry was queued. One flush is a flush_iotlb_all of the domain; only then
 * are the IOVAs reusable.
 */
export class FlushQueue {
  private readonly entries: { pfn: number; pages: number }[] = [];
  private readonly timer: GuestTimer;
  /** Flushes done, and how many by size and by timeout. */
  readonly counts = { flushes: 0, full: 0, timeout: 0, queued: 0 };

  constructor(private readonly opts: FlushQueueOptions, clock: GuestClock, private readonly flushIotlb: () => void,
    private readonly freeIova: (pfn: number, pages: number) => void) {
    this.timer = clock.timer(() => {
      this.counts.timeout++;
      this.flush();
    }, 'iommu-fq');
  }

  get pending(): number {
    return this.entries.length;
  }

  queue(pfn: number, pages: number): void {
    if (this.entries.length >= this.opts.size) {
      this.counts.full++;
      this.flush();
    }
    this.entries.push({ pfn, pages });
    this.counts.queued++;
    if (!this.timer.pending) this.timer.modIn(this.opts.timeoutNs);
  }

  /** fq_flush_iotlb then fq_ring_free. */
  flush(): void {
    if (this.entries.length === 0) return;
    this.flushIotlb();
    this.counts.flushes++;
    for (const e of this.entries.splice(0)) this.freeIova(e.pfn, e.pages);
  }

  destroy(): void {
    this.flush();
    this.timer.del();
  }
}
