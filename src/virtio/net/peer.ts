import { buildDataFrame, OP_ECHO, OP_GEN, OP_SINK, parseTestFrame } from './test-frame.js';

/** The peer's MAC address (a locally administered unicast address). */
export const PEER_MAC = Uint8Array.of(0x02, 0x76, 0x69, 0x6f, 0x6d, 0x75);
/** Frames the peer keeps queued for the device before it drops (a tap's txqueuelen is 1000). */
export const PEER_OUTBOX = 1000;

export interface PeerCounters {
  /** Frames the device sent (TX), and how many were test frames with a bad checksum or unknown. */
  received: number;
  receivedBytes: number;
  bad: number;
  echoed: number;
  sunk: number;
  /** Frames queued for the device (RX) and dropped because the outbox was full. */
  sent: number;
  dropped: number;
}

/**
 * The synthetic peer at the other end of a virtio-net device's wire (the
 * host side of a tap): a traffic sink that checks what the guest sends and
 * a source that sends frames back (ECHO) or generates them on request
 * (GEN). It runs on the machine side for both the emulated device and the
 * vhost backend; frames for the device wait in `outbox` until the backend
 * has receive buffers.
 */
export class NetPeer {
  readonly counters: PeerCounters = { received: 0, receivedBytes: 0, bad: 0, echoed: 0, sunk: 0, sent: 0, dropped: 0 };
  readonly outbox: Uint8Array[] = [];

  /** A frame from the device. */
  deliver(frame: Uint8Array): void {
    const c = this.counters;
    c.received++;
    c.receivedBytes += frame.length;
    const p = parseTestFrame(frame);
    if (!p || !p.sumOk) {
      c.bad++;
      return;
    }
    if (p.op === OP_ECHO) {
      const back = frame.slice();
      back.set(frame.subarray(6, 12), 0);
      back.set(PEER_MAC, 6);
      c.echoed++;
      this.send(back);
    } else if (p.op === OP_SINK) {
      c.sunk++;
    } else if (p.op === OP_GEN && p.len >= 8) {
      const v = new DataView(frame.buffer, frame.byteOffset + 30, 8);
      const count = Math.min(v.getUint32(0), 1 << 16);
      const bytes = Math.min(v.getUint32(4), 1500);
      for (let seq = 0; seq < count; seq++) this.send(buildDataFrame(frame.subarray(6, 12), PEER_MAC, seq, bytes));
    } else {
      c.sunk++;
    }
  }

  private send(f: Uint8Array): void {
    if (this.outbox.length >= PEER_OUTBOX) {
      this.counters.dropped++;
      return;
    }
    this.counters.sent++;
    this.outbox.push(f);
  }

  /** A device reset drops what was queued for it. */
  flush(): void {
    this.outbox.length = 0;
  }
}
