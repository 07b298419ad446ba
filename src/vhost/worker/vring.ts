import {
  VQ_AVAIL, VQ_CALLS, VQ_DESC, VQ_ERROR, VQ_FIELDS, VQ_LAST_AVAIL, VQ_NUM, VQ_USED, VQ_USED_IDX, type VhostChannel,
} from '../channel.js';
import { VHOST_ACCESS_RO, VHOST_ACCESS_WO } from '../msg.js';
import { XL_MISS, XL_OK, type WorkerXlate } from './xlate.js';
import type { WireRing } from '../../virtio/net/wire.js';
import { VIRTIO_NET_HDR_NUM_BUFFERS, VIRTIO_NET_HDR_SIZE, WIRE_MAX_FRAME } from '../../virtio/net/regs.js';

/** Split-ring constants (virtio 1.2 section 2.7). */
const VRING_DESC_F_NEXT = 1;
const VRING_DESC_F_WRITE = 2;
const VRING_DESC_F_INDIRECT = 4;
const VRING_AVAIL_F_NO_INTERRUPT = 1;
const TWO32 = 0x1_0000_0000;

/** What a vq handler ended with. */
export const VQ_IDLE = 0;
/** Waiting for an IOTLB UPDATE (a MISS is out). */
export const VQ_WAIT_MISS = 1;
/** Stopped for good until the next start (a vq_err: a malformed ring or an ACCESS_FAIL). */
export const VQ_BROKEN = 2;
/** The wire is full (TX) : retried when the peer drained it. */
export const VQ_WAIT_WIRE = 3;

/** Hooks the worker loop gives the ring code. */
export interface VringHooks {
  /** A translation missed at `iova` for `access`: send MISS (once per pending address). */
  miss(vq: number, iova: number, access: number): void;
  /** A translation was refused (ACCESS_FAIL) or the ring is malformed. */
  fail(vq: number, iova: number, access: number, why: string): void;
  /** Between chains: apply invalidations that arrived meanwhile. */
  poll(): void;
  /** Called after each packet moved (fault-injection drills). */
  packet(stage: 'wire' | 'used'): void;
}

interface Chain {
  head: number;
  /** [iova, len] pairs, in chain order. */
  bufs: number[];
  writable: boolean;
}

/**
 * The vhost-net ring loops (Linux drivers/vhost/net.c handle_tx /
 * handle_rx over vhost.c vhost_get_vq_desc / vhost_add_used_and_signal),
 * for split rings without indirect descriptors or event index. Every
 * address goes through WorkerXlate; a miss leaves the chain unconsumed
 * (last_avail_idx not advanced) so the same chain is retried after the
 * UPDATE. TX strips the 12-byte virtio_net_hdr and puts the frame on the
 * wire, then marks the chain used; RX takes a frame from the wire, writes
 * the header (num_buffers 1) and the frame, marks the chain used, then
 * takes the frame off the wire. The indices live in the channel's vring
 * table, so a replacement worker resumes from them.
 */
export class VringProcessor {
  private readonly chain: Chain = { head: 0, bufs: [], writable: false };
  private readonly hdr = new Uint8Array(VIRTIO_NET_HDR_SIZE);

  constructor(private readonly ch: VhostChannel, private readonly x: WorkerXlate, private readonly hooks: VringHooks) {
    this.hdr[VIRTIO_NET_HDR_NUM_BUFFERS] = 1;
  }

  private f(vq: number, field: number): number {
    return this.ch.vq[vq * VQ_FIELDS + field]!;
  }
  private set(vq: number, field: number, v: number): void {
    this.ch.vq[vq * VQ_FIELDS + field] = v;
  }

  /** The failed translation of the last access: MISS or FAIL, reported. */
  private stall(vq: number, what: string): number {
    const x = this.x;
    if (x.status === XL_OK) return VQ_IDLE;
    if (x.status === XL_MISS) {
      this.hooks.miss(vq, x.missIova, x.missAccess);
      return VQ_WAIT_MISS;
    }
    this.hooks.fail(vq, x.missIova, x.missAccess, what);
    this.set(vq, VQ_ERROR, 1);
    return VQ_BROKEN;
  }

  private broken(vq: number, why: string): number {
    this.hooks.fail(vq, -1, 0, why);
    this.set(vq, VQ_ERROR, 1);
    return VQ_BROKEN;
  }

  /** vhost_get_vq_desc: the next available chain into this.chain; 1 got one, 0 none, or a VQ_* stop code (negated). */
  private nextChain(vq: number): number {
    const x = this.x;
    const num = this.f(vq, VQ_NUM);
    const avail = this.f(vq, VQ_AVAIL);
    const last = this.f(vq, VQ_LAST_AVAIL);
    const idx = x.ld16(avail + 2);
    if (idx < 0) return -this.stall(vq, 'Failed to access avail idx');
    if (idx === last) return 0;
    if (((idx - last) & 0xffff) > num) return -this.broken(vq, `Guest moved used index from ${last} to ${idx}`);
    const head = x.ld16(avail + 4 + 2 * (last % num));
    if (head < 0) return -this.stall(vq, 'Failed to read head');
    if (head >= num) return -this.broken(vq, `Guest says index ${head} > ${num} is available`);
    const c = this.chain;
    c.head = head;
    c.bufs.length = 0;
    c.writable = false;
    const desc = this.f(vq, VQ_DESC);
    let i = head;
    for (let n = 0; ; n++) {
      if (n >= num) return -this.broken(vq, 'Loop detected: last one at ' + i);
      const at = desc + 16 * i;
      if (x.translate(at, 16, VHOST_ACCESS_RO) !== XL_OK) return -this.stall(vq, 'Failed to get descriptor');
      const dv = x.dv;
      const addr = dv.getUint32(x.off, true) + dv.getUint32(x.off + 4, true) * TWO32;
      const len = dv.getUint32(x.off + 8, true);
      const flags = dv.getUint16(x.off + 12, true);
      const next = dv.getUint16(x.off + 14, true);
      if (flags & VRING_DESC_F_INDIRECT) return -this.broken(vq, 'Indirect descriptor without VIRTIO_RING_F_INDIRECT_DESC');
      if (flags & VRING_DESC_F_WRITE) c.writable = true;
      else if (c.writable) return -this.broken(vq, 'Descriptor has out after in');
      c.bufs.push(addr, len);
      if (!(flags & VRING_DESC_F_NEXT)) break;
      if (next >= num) return -this.broken(vq, `Desc next is ${next}`);
      i = next;
    }
    return 1;
  }

  /** vhost_add_used + the used idx store: false (with the vq stalled) when the used ring cannot be written. */
  private addUsed(vq: number, head: number, len: number): number {
    const x = this.x;
    const num = this.f(vq, VQ_NUM);
    const used = this.f(vq, VQ_USED);
    const uidx = this.f(vq, VQ_USED_IDX);
    const at = used + 4 + 8 * (uidx % num);
    if (x.st32(at, head) !== XL_OK || x.st32(at + 4, len) !== XL_OK) return this.stall(vq, 'Failed to write used');
    const nidx = (uidx + 1) & 0xffff;
    if (x.st16(used + 2, nidx) !== XL_OK) return this.stall(vq, 'Failed to increment used idx');
    this.set(vq, VQ_USED_IDX, nidx);
    this.set(vq, VQ_LAST_AVAIL, (this.f(vq, VQ_LAST_AVAIL) + 1) & 0xffff);
    return VQ_IDLE;
  }

  /** vhost_signal: an interrupt unless the driver set VRING_AVAIL_F_NO_INTERRUPT. */
  private signal(vq: number): void {
    const flags = this.x.ld16(this.f(vq, VQ_AVAIL));
    if (flags < 0 || !(flags & VRING_AVAIL_F_NO_INTERRUPT)) this.set(vq, VQ_CALLS, this.f(vq, VQ_CALLS) + 1);
  }

  /** handle_tx: frames from the guest to the wire. */
  handleTx(vq: number, wire: WireRing): number {
    const pre = this.prefetch(vq);
    if (pre !== VQ_IDLE) return pre;
    let sent = 0;
    let code = VQ_IDLE;
    for (;;) {
      this.hooks.poll();
      if (wire.full) {
        code = VQ_WAIT_WIRE;
        break;
      }
      const r = this.nextChain(vq);
      if (r <= 0) {
        code = -r;
        break;
      }
      const c = this.chain;
      if (c.writable) {
        code = this.broken(vq, 'Unexpected descriptor format for TX');
        break;
      }
      const dst = wire.reserve();
      if (!dst) {
        code = VQ_WAIT_WIRE;
        break;
      }
      const total = this.copyOut(dst);
      if (total < 0) {
        code = this.stall(vq, 'Failed to read TX buffer');
        break;
      }
      this.hooks.packet('wire');
      const u = this.addUsed(vq, c.head, 0);
      if (u !== VQ_IDLE) {
        code = u;
        break;
      }
      // Published after the chain is used: a worker lost in between loses the frame, never sends it twice.
      wire.commit(total);
      this.ch.stats[0]!++;
      this.ch.stats[2]! += total;
      sent++;
      this.hooks.packet('used');
    }
    if (sent) this.signal(vq);
    return code;
  }

  /** handle_rx: frames from the wire into the guest's receive buffers. */
  handleRx(vq: number, wire: WireRing): number {
    if (!wire.peek()) return VQ_IDLE;
    const pre = this.prefetch(vq);
    if (pre !== VQ_IDLE) return pre;
    let got = 0;
    let code = VQ_IDLE;
    for (let frame = wire.peek(); frame; frame = wire.peek()) {
      this.hooks.poll();
      const r = this.nextChain(vq);
      if (r <= 0) {
        code = -r;
        break;
      }
      const c = this.chain;
      if (!c.writable || c.bufs.length === 0) {
        code = this.broken(vq, 'Unexpected descriptor format for RX');
        break;
      }
      const written = this.copyIn(frame);
      if (written < 0) {
        code = this.stall(vq, 'Failed to write RX buffer');
        break;
      }
      const len = frame.length;
      // Off the wire before the chain is used: a worker lost in between loses the frame, never delivers it twice.
      wire.consume();
      this.hooks.packet('wire');
      const u = this.addUsed(vq, c.head, written);
      if (u !== VQ_IDLE) {
        code = u;
        break;
      }
      this.ch.stats[1]!++;
      this.ch.stats[3]! += len;
      got++;
      this.hooks.packet('used');
    }
    if (got) this.signal(vq);
    return code;
  }

  /** The chain's readable bytes after the virtio_net_hdr into `dst`; the frame length, or -1 (see x.status). */
  private copyOut(dst: Uint8Array): number {
    const c = this.chain;
    let skip = VIRTIO_NET_HDR_SIZE;
    let total = 0;
    for (let b = 0; b < c.bufs.length; b += 2) {
      let a = c.bufs[b]!;
      let left = c.bufs[b + 1]!;
      while (left > 0) {
        if (this.x.translate(a, left, VHOST_ACCESS_RO) !== XL_OK) return -1;
        const n = this.x.len;
        const from = Math.min(skip, n);
        const take = Math.min(n - from, WIRE_MAX_FRAME - total);
        if (take > 0) dst.set(this.x.u8.subarray(this.x.off + from, this.x.off + from + take), total);
        total += Math.max(0, take);
        skip -= from;
        a += n;
        left -= n;
      }
    }
    return total;
  }

  /**
   * vq_meta_prefetch: the descriptor table, avail ring and used ring must
   * translate before a handler runs (a miss is sent and the handler waits),
   * so a used-ring miss does not strand a half-processed chain.
   */
  prefetch(vq: number): number {
    const num = this.f(vq, VQ_NUM);
    const areas = [this.f(vq, VQ_DESC), 16 * num, VHOST_ACCESS_RO, this.f(vq, VQ_AVAIL), 4 + 2 * num, VHOST_ACCESS_RO,
      this.f(vq, VQ_USED), 4 + 8 * num, VHOST_ACCESS_WO];
    for (let i = 0; i < areas.length; i += 3) {
      let a = areas[i]!;
      let left = areas[i + 1]!;
      while (left > 0) {
        if (this.x.translateQuiet(a, left, areas[i + 2]!) !== XL_OK) return this.stall(vq, 'Failed to access vring');
        a += this.x.len;
        left -= this.x.len;
      }
    }
    return VQ_IDLE;
  }

  /** Header then frame into the chain's writable buffers; the bytes written (truncated to the chain), or -1. */
  private copyIn(frame: Uint8Array): number {
    const c = this.chain;
    const total = VIRTIO_NET_HDR_SIZE + frame.length;
    let done = 0;
    for (let b = 0; b < c.bufs.length && done < total; b += 2) {
      let a = c.bufs[b]!;
      let left = Math.min(c.bufs[b + 1]!, total - done);
      while (left > 0) {
        if (this.x.translate(a, left, VHOST_ACCESS_WO) !== XL_OK) return -1;
        const n = this.x.len;
        const u8 = this.x.u8;
        for (let k = 0; k < n;) {
          const pos = done + k;
          if (pos < VIRTIO_NET_HDR_SIZE) {
            const m = Math.min(n - k, VIRTIO_NET_HDR_SIZE - pos);
            u8.set(this.hdr.subarray(pos, pos + m), this.x.off + k);
            k += m;
          } else {
            const m = n - k;
            u8.set(frame.subarray(pos - VIRTIO_NET_HDR_SIZE, pos - VIRTIO_NET_HDR_SIZE + m), this.x.off + k);
            k += m;
          }
        }
        done += n;
        a += n;
        left -= n;
      }
    }
    return done;
  }
}
