import type { VirtioDma } from './dma.js';
import { VirtqElement, type VirtqBuffer } from './element.js';
import {
  VIRTIO_NO_VECTOR, VIRTQ_AVAIL_F_NO_INTERRUPT, VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE,
  VIRTQ_DESC_SIZE, VIRTQ_USED_ELEM_SIZE,
} from './regs.js';

/** The most bytes a chain may carry in either direction. */
const MAX_CHAIN_BYTES = 0xffff_ffff;

/** Why a ring could not be used: the message QEMU's virtio_error prints (the device then needs a reset). */
export class VirtqError {
  constructor(readonly message: string) {}
}

/** What a device does when the driver notifies a queue. */
export type VirtqHandler = (vq: VirtQueue) => void;

/** What the ring code needs from its device: where memory is and which ring features were negotiated. */
export interface VirtqOwner {
  readonly dma: VirtioDma;
  readonly eventIdx: boolean;
  readonly indirectDesc: boolean;
}

interface Desc {
  addr: number;
  len: number;
  flags: number;
  next: number;
}

/**
 * A split virtqueue (virtio 1.2 section 2.7; QEMU hw/virtio/virtio.c
 * VirtQueue): the ring addresses the driver enabled, the device's
 * last_avail_idx and used_idx, and pop / push / notification decision.
 * Every guest-memory access can fail; a malformed ring (an avail index
 * that runs ahead by more than the queue size, a head or next index out
 * of range, a loop, a zero-length or misordered buffer, a bad indirect
 * table, an address beyond 2^53 or outside memory) yields a VirtqError,
 * which the device turns into DEVICE_NEEDS_RESET.
 */
export class VirtQueue {
  /** vring.num: the current size (0: the queue does not exist). */
  size: number;
  descAddr = 0;
  availAddr = 0;
  usedAddr = 0;
  lastAvailIdx = 0;
  usedIdx = 0;
  vector = VIRTIO_NO_VECTOR;
  /** Elements popped and not yet pushed (QEMU inuse). */
  inuse = 0;
  private signalledUsed = 0;
  private signalledUsedValid = false;
  private readonly d: Desc = { addr: 0, len: 0, flags: 0, next: 0 };

  constructor(readonly owner: VirtqOwner, readonly index: number, readonly defaultSize: number, public handler: VirtqHandler | undefined) {
    this.size = defaultSize;
  }

  /** The rings are set (QEMU checks vring.desc): notifications are processed. */
  get ready(): boolean {
    return this.descAddr !== 0;
  }

  /**
   * virtio_queue_set_last_avail_idx / virtio_queue_update_used_idx: a
   * backend that processed the ring itself (vhost) hands its indices back.
   */
  setIndices(lastAvailIdx: number, usedIdx: number): void {
    this.lastAvailIdx = lastAvailIdx & 0xffff;
    this.usedIdx = usedIdx & 0xffff;
    this.signalledUsedValid = false;
  }

  /** virtio_queue_set_rings. */
  setRings(desc: number, avail: number, used: number): void {
    if (!this.size) return;
    this.descAddr = desc;
    this.availAddr = avail;
    this.usedAddr = used;
  }

  /** virtio_queue_reset / the per-queue part of virtio_reset. */
  reset(): void {
    this.descAddr = this.availAddr = this.usedAddr = 0;
    this.lastAvailIdx = this.usedIdx = this.inuse = 0;
    this.signalledUsed = 0;
    this.signalledUsedValid = false;
    this.vector = VIRTIO_NO_VECTOR;
    this.size = this.defaultSize;
  }

  private get dma(): VirtioDma {
    return this.owner.dma;
  }

  /** The driver's avail.idx, or a VirtqError. */
  availIdx(): number | VirtqError {
    const v = this.dma.ld16(this.availAddr + 2);
    return v < 0 ? new VirtqError('Cannot read the avail ring') : v;
  }

  /** Whether buffers are waiting (no error check: errors surface at pop). */
  isEmpty(): boolean {
    const a = this.availIdx();
    return a instanceof VirtqError || a === this.lastAvailIdx;
  }

  /** virtqueue_pop (split): the next chain, null when none is available, or a VirtqError. */
  pop(): VirtqElement | null | VirtqError {
    if (!this.ready) return null;
    const avail = this.availIdx();
    if (avail instanceof VirtqError) return avail;
    const pending = (avail - this.lastAvailIdx) & 0xffff;
    if (pending === 0) return null;
    if (pending > this.size) return new VirtqError(`Guest moved used index from ${this.lastAvailIdx} to ${avail}`);
    const head = this.dma.ld16(this.availAddr + 4 + 2 * (this.lastAvailIdx % this.size));
    if (head < 0) return new VirtqError('Cannot read the avail ring');
    if (head >= this.size) return new VirtqError(`Guest says index ${head} is available`);
    const chain = this.walk(head);
    if (chain instanceof VirtqError) return chain;
    this.lastAvailIdx = (this.lastAvailIdx + 1) & 0xffff;
    // vring_set_avail_event: tell the driver up to where we have read.
    if (this.owner.eventIdx && !this.dma.st16(this.usedAddr + 4 + VIRTQ_USED_ELEM_SIZE * this.size, this.lastAvailIdx)) {
      return new VirtqError('Cannot write the used ring');
    }
    this.inuse++;
    return new VirtqElement(head, chain.out, chain.inBufs, this.dma);
  }

  private readDesc(table: number, i: number): VirtqError | undefined {
    const at = table + i * VIRTQ_DESC_SIZE;
    const addr = this.dma.ld64(at);
    const len = this.dma.ld32(at + 8);
    const flags = this.dma.ld16(at + 12);
    const next = this.dma.ld16(at + 14);
    if (addr < 0 || len < 0 || flags < 0 || next < 0) return new VirtqError('Cannot read a descriptor');
    this.d.addr = addr;
    this.d.len = len;
    this.d.flags = flags;
    this.d.next = next;
    return undefined;
  }

  /** The descriptors of one chain, through an indirect table when its head says so. */
  private walk(head: number): { out: VirtqBuffer[]; inBufs: VirtqBuffer[] } | VirtqError {
    const d = this.d;
    let table = this.descAddr;
    let max = this.size;
    let i = head;
    let err = this.readDesc(table, i);
    if (err) return err;
    if (d.flags & VIRTQ_DESC_F_INDIRECT) {
      if (!this.owner.indirectDesc) return new VirtqError('Indirect descriptor without VIRTIO_RING_F_INDIRECT_DESC');
      if (d.flags & VIRTQ_DESC_F_NEXT) return new VirtqError('Indirect buffer table and NEXT flag');
      if (!d.len || d.len % VIRTQ_DESC_SIZE) return new VirtqError('Invalid size for indirect buffer table');
      table = d.addr;
      max = d.len / VIRTQ_DESC_SIZE;
      i = 0;
      err = this.readDesc(table, i);
      if (err) return new VirtqError('Cannot map indirect buffer');
    }
    const out: VirtqBuffer[] = [];
    const inBufs: VirtqBuffer[] = [];
    let outBytes = 0;
    let inBytes = 0;
    for (let entries = 1; ; entries++) {
      if (entries > max) return new VirtqError('Looped descriptor');
      if (d.flags & VIRTQ_DESC_F_INDIRECT) return new VirtqError('Indirect descriptor within a chain');
      if (!d.len) return new VirtqError('virtio: zero sized buffers are not allowed');
      if (d.addr + d.len > Number.MAX_SAFE_INTEGER) return new VirtqError('virtio: bogus descriptor or out of resources');
      if (d.flags & VIRTQ_DESC_F_WRITE) {
        inBufs.push({ addr: d.addr, len: d.len });
        inBytes += d.len;
      } else if (inBufs.length) {
        return new VirtqError('Incorrect order for descriptors');
      } else {
        out.push({ addr: d.addr, len: d.len });
        outBytes += d.len;
      }
      // The used ring's length is 32 bits: a longer chain cannot be described (QEMU fails to map it).
      if (outBytes > MAX_CHAIN_BYTES || inBytes > MAX_CHAIN_BYTES) return new VirtqError('virtio: bogus descriptor or out of resources');
      if (!(d.flags & VIRTQ_DESC_F_NEXT)) break;
      i = d.next;
      if (i >= max) return new VirtqError(`Desc next is ${i}`);
      err = this.readDesc(table, i);
      if (err) return err;
    }
    return { out, inBufs };
  }

  /** virtqueue_push: returns a chain with `len` bytes written (fill + flush). */
  push(elem: VirtqElement, len: number): VirtqError | undefined {
    const at = this.usedAddr + 4 + VIRTQ_USED_ELEM_SIZE * (this.usedIdx % this.size);
    const idx = (this.usedIdx + 1) & 0xffff;
    if (!this.dma.st32(at, elem.head) || !this.dma.st32(at + 4, len) || !this.dma.st16(this.usedAddr + 2, idx)) {
      return new VirtqError('Cannot write the used ring');
    }
    this.usedIdx = idx;
    if (this.inuse > 0) this.inuse--;
    return undefined;
  }

  /** virtqueue_detach_element: gives a chain up without using it. */
  detach(): void {
    if (this.inuse > 0) this.inuse--;
  }

  /** virtio_should_notify (split): NO_INTERRUPT, or with EVENT_IDX the used_event rule (vring_need_event). */
  shouldNotify(): boolean {
    if (!this.owner.eventIdx) {
      const flags = this.dma.ld16(this.availAddr);
      return flags < 0 || !(flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
    }
    const v = this.signalledUsedValid;
    this.signalledUsedValid = true;
    const old = this.signalledUsed;
    const now = this.usedIdx;
    this.signalledUsed = now;
    const ev = this.dma.ld16(this.availAddr + 4 + 2 * this.size);
    return !v || ev < 0 || ((now - ev - 1) & 0xffff) < ((now - old) & 0xffff);
  }
}
