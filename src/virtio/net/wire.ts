import { WIRE_MAX_FRAME } from './regs.js';

/**
 * One direction of the virtual wire between a virtio-net backend and its
 * peer (a tap queue): a ring of frames in a SharedArrayBuffer so that the
 * vhost worker thread and the peer on the machine side share it. HEAD
 * (producer) and TAIL (consumer) are the only Atomics words, on separate
 * 64-byte lines; frame bytes are plain stores published by the HEAD store.
 * Slot: u32 length, then up to WIRE_MAX_FRAME bytes.
 */
const W_HEAD = 0;
const W_TAIL = 16;
const CONTROL_BYTES = 128;
const SLOT_BYTES = 4 + WIRE_MAX_FRAME;
export const WIRE_SLOTS = 512;

export interface WireRingDescriptor {
  readonly sab: SharedArrayBuffer;
}

export class WireRing {
  readonly ctl: Int32Array;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  /** Frames refused because the ring was full (the tap queue's drops). */
  dropped = 0;

  constructor(readonly sab: SharedArrayBuffer) {
    this.ctl = new Int32Array(sab, 0, CONTROL_BYTES / 4);
    this.bytes = new Uint8Array(sab, CONTROL_BYTES, WIRE_SLOTS * SLOT_BYTES);
    this.view = new DataView(sab, CONTROL_BYTES, WIRE_SLOTS * SLOT_BYTES);
  }

  static create(): WireRing {
    return new WireRing(new SharedArrayBuffer(CONTROL_BYTES + WIRE_SLOTS * SLOT_BYTES));
  }

  descriptor(): WireRingDescriptor {
    return { sab: this.sab };
  }

  get length(): number {
    return Atomics.load(this.ctl, W_HEAD) - Atomics.load(this.ctl, W_TAIL);
  }
  get full(): boolean {
    return this.length >= WIRE_SLOTS;
  }

  /**
   * Producer: reserves the next slot and lets `fill` write up to
   * WIRE_MAX_FRAME bytes into it; `fill` returns the frame length (or -1
   * to give the slot back). False when the ring is full.
   */
  produce(fill: (dst: Uint8Array) => number): boolean {
    const head = Atomics.load(this.ctl, W_HEAD);
    if (head - Atomics.load(this.ctl, W_TAIL) >= WIRE_SLOTS) {
      this.dropped++;
      return false;
    }
    const at = (head % WIRE_SLOTS) * SLOT_BYTES;
    const len = fill(this.bytes.subarray(at + 4, at + 4 + WIRE_MAX_FRAME));
    if (len < 0) return true;
    this.view.setUint32(at, Math.min(len, WIRE_MAX_FRAME), true);
    Atomics.store(this.ctl, W_HEAD, head + 1);
    return true;
  }

  /** Producer, in two steps: the next free slot's frame buffer (undefined when full), then commit(len) publishes it. */
  reserve(): Uint8Array | undefined {
    const head = Atomics.load(this.ctl, W_HEAD);
    if (head - Atomics.load(this.ctl, W_TAIL) >= WIRE_SLOTS) return undefined;
    const at = (head % WIRE_SLOTS) * SLOT_BYTES;
    return this.bytes.subarray(at + 4, at + 4 + WIRE_MAX_FRAME);
  }

  commit(len: number): void {
    const head = Atomics.load(this.ctl, W_HEAD);
    this.view.setUint32((head % WIRE_SLOTS) * SLOT_BYTES, Math.min(len, WIRE_MAX_FRAME), true);
    Atomics.store(this.ctl, W_HEAD, head + 1);
  }

  push(frame: Uint8Array): boolean {
    return this.produce((dst) => {
      dst.set(frame.subarray(0, WIRE_MAX_FRAME));
      return frame.length;
    });
  }

  /** Consumer: the oldest frame (a view into the ring, valid until consume()), or undefined. */
  peek(): Uint8Array | undefined {
    const tail = Atomics.load(this.ctl, W_TAIL);
    if (tail === Atomics.load(this.ctl, W_HEAD)) return undefined;
    const at = (tail % WIRE_SLOTS) * SLOT_BYTES;
    return this.bytes.subarray(at + 4, at + 4 + this.view.getUint32(at, true));
  }

  consume(): void {
    Atomics.add(this.ctl, W_TAIL, 1);
  }

  /** Empties the ring (the consumer's side: a device reset flushes its queue). */
  clear(): void {
    Atomics.store(this.ctl, W_TAIL, Atomics.load(this.ctl, W_HEAD));
  }
}
