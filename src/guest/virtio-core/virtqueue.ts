import { ENOSPC } from '../errno.js';
import type { GuestPort } from '../port.js';
import { VRING_DESC_F_NEXT, VRING_DESC_F_WRITE, VRING_DESC_SIZE, VRING_USED_ELEM_SIZE } from './regs.js';

const TWO32 = 0x1_0000_0000;

/** A buffer the device reads (out) or writes (in): a bus address and a length. */
export interface VqBuffer {
  readonly addr: number;
  readonly len: number;
}

/** Where a queue's rings are: bus addresses as the device sees them (and CPU addresses, equal without ACCESS_PLATFORM). */
export interface VqRings {
  readonly size: number;
  readonly desc: number;
  readonly avail: number;
  readonly used: number;
}

/**
 * The driver side of a split virtqueue (virtio 1.2 section 2.7.13; Linux
 * drivers/virtio/virtio_ring.c): a free list of descriptors, chains added
 * with readable buffers before writable ones, avail.idx published after
 * the ring entry, a notification written to the queue's notify address,
 * and used buffers collected by comparing used.idx with the last seen.
 */
export class GuestVirtqueue<T> {
  private readonly free: number[] = [];
  private readonly tokens = new Map<number, { token: T; count: number }>();
  private availIdx = 0;
  private lastUsed = 0;

  /**
   * @param rings CPU addresses of the rings (where the driver reads and writes them)
   * @param area the allocation behind them: CPU and bus address, bytes (to free it)
   */
  constructor(private readonly port: GuestPort, readonly index: number, readonly rings: VqRings, private readonly notifyAddr: number,
    readonly area?: { readonly paddr: number; readonly dma: number; readonly bytes: number }) {
    for (let i = rings.size - 1; i >= 0; i--) this.free.push(i);
  }

  get numFree(): number {
    return this.free.length;
  }

  private w16(a: number, v: number): void {
    this.port.write(a, 2, v & 0xffff);
  }

  /** virtqueue_add_sgs: one chain, or -ENOSPC; the device is not notified (kick does that). */
  add(out: readonly VqBuffer[], inBufs: readonly VqBuffer[], token: T): number {
    const n = out.length + inBufs.length;
    if (n === 0 || n > this.free.length) return -ENOSPC;
    const ids = this.free.splice(this.free.length - n, n).reverse();
    const all = [...out.map((b) => ({ ...b, w: false })), ...inBufs.map((b) => ({ ...b, w: true }))];
    all.forEach((b, i) => {
      const at = this.rings.desc + ids[i]! * VRING_DESC_SIZE;
      this.port.write(at, 8, b.addr % TWO32, Math.floor(b.addr / TWO32));
      this.port.write(at + 8, 4, b.len >>> 0);
      this.w16(at + 12, (i < n - 1 ? VRING_DESC_F_NEXT : 0) | (b.w ? VRING_DESC_F_WRITE : 0));
      this.w16(at + 14, i < n - 1 ? ids[i + 1]! : 0);
    });
    const head = ids[0]!;
    this.tokens.set(head, { token, count: n });
    this.w16(this.rings.avail + 4 + 2 * (this.availIdx % this.rings.size), head);
    this.availIdx = (this.availIdx + 1) & 0xffff;
    this.w16(this.rings.avail + 2, this.availIdx);
    return head;
  }

  /** virtqueue_kick: the queue index written to its notify address. */
  kick(): void {
    this.port.write(this.notifyAddr, 2, this.index);
  }

  /** virtqueue_get_buf: the next used chain's token and written length, freeing its descriptors. */
  getBuf(): { token: T; len: number } | undefined {
    const idx = this.port.read(this.rings.used + 2, 2).lo & 0xffff;
    if (idx === this.lastUsed) return undefined;
    const at = this.rings.used + 4 + VRING_USED_ELEM_SIZE * (this.lastUsed % this.rings.size);
    const id = this.port.read(at, 4).lo >>> 0;
    const len = this.port.read(at + 4, 4).lo >>> 0;
    this.lastUsed = (this.lastUsed + 1) & 0xffff;
    const t = this.tokens.get(id);
    if (!t) return undefined;
    this.tokens.delete(id);
    let d = id;
    for (let i = 0; i < t.count; i++) {
      this.free.push(d);
      d = this.port.read(this.rings.desc + d * VRING_DESC_SIZE + 14, 2).lo & 0xffff;
    }
    return { token: t.token, len };
  }

  /** virtqueue_detach_unused_buf (after a reset): the token of a chain the device never returned, or undefined. */
  detachUnused(): T | undefined {
    const first = this.tokens.entries().next();
    if (first.done) return undefined;
    const [id, t] = first.value;
    this.tokens.delete(id);
    return t.token;
  }

  /** Chains made available and not yet returned. */
  get inFlight(): number {
    return this.tokens.size;
  }
}
