import type { GuestPort } from '../port.js';
import { PAGE_SIZE } from '../page-alloc.js';
import type { DmaDirection } from '../dma-ops.js';

interface Slot {
  readonly bounce: number;
  readonly orig: number;
  readonly size: number;
  readonly pages: number;
}

/**
 * A bounce-buffer pool (Linux kernel/dma/swiotlb.c, page-granular here): a
 * device whose DMA mask cannot reach a buffer gets a copy in low memory.
 * Mapping copies the buffer in for DMA_TO_DEVICE/BIDIRECTIONAL; unmapping
 * copies it back for DMA_FROM_DEVICE/BIDIRECTIONAL.
 */
export class Swiotlb {
  private readonly used: boolean[];
  private readonly slots = new Map<number, Slot>();
  bounced = 0;

  constructor(private readonly port: GuestPort, readonly base: number, readonly size: number) {
    this.used = new Array<boolean>(Math.floor(size / PAGE_SIZE)).fill(false);
  }

  get end(): number {
    return this.base + this.size;
  }

  /** swiotlb_tbl_map_single: a bounce address below `mask`, or undefined ("swiotlb buffer is full" / beyond the mask). */
  map(orig: number, size: number, dir: DmaDirection, mask: number): number | undefined {
    const off = orig % PAGE_SIZE;
    const pages = Math.ceil((off + size) / PAGE_SIZE);
    for (let i = 0; i + pages <= this.used.length; i++) {
      let free = true;
      for (let k = 0; k < pages && free; k++) if (this.used[i + k]) free = false;
      if (!free) continue;
      const bounce = this.base + i * PAGE_SIZE + off;
      if (bounce + size - 1 > mask) return undefined;
      for (let k = 0; k < pages; k++) this.used[i + k] = true;
      this.slots.set(bounce, { bounce, orig, size, pages });
      if (dir !== 'from-device') this.copy(orig, bounce, size);
      this.bounced++;
      return bounce;
    }
    return undefined;
  }

  isBounce(addr: number): boolean {
    return this.slots.has(addr);
  }

  /** swiotlb_tbl_unmap_single. */
  unmap(bounce: number, dir: DmaDirection): void {
    const s = this.slots.get(bounce);
    if (!s) return;
    if (dir !== 'to-device') this.copy(s.bounce, s.orig, s.size);
    this.slots.delete(bounce);
    const first = Math.floor((s.bounce - this.base) / PAGE_SIZE);
    for (let k = 0; k < s.pages; k++) this.used[first + k] = false;
  }

  private copy(from: number, to: number, size: number): void {
    const buf = new Uint8Array(size);
    this.port.readBytes(from, buf);
    this.port.writeBytes(to, buf);
  }
}
