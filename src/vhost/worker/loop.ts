import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { Iotlb, type IotlbDescriptor } from '../../iommu/iotlb/iotlb.js';
import { POW2 } from '../../iommu/walk/walk-result.js';
import { WireRing } from '../../virtio/net/wire.js';
import {
  CRASH_HANG, CRASH_THROW, MAX_VQS, ST_ACCESS_FAILS, ST_INVALIDATES, ST_MISSES, ST_UPDATES, STATE_FAILED, STATE_IDLE, STATE_READY,
  VhostChannel, VQ_ERROR, VQ_NUM, VQ_PENDING_MISS, W_BUSY, W_CRASH, W_CRASH_AFTER, W_DONE, W_KICK, W_REQ, W_STATE, W_STOP,
} from '../channel.js';
import {
  iotlbMsg, VHOST_IOTLB_ACCESS_FAIL, VHOST_IOTLB_BATCH_BEGIN, VHOST_IOTLB_BATCH_END, VHOST_IOTLB_INVALIDATE,
  VHOST_IOTLB_MISS, VHOST_IOTLB_UPDATE, type VhostIotlbMsg,
} from '../msg.js';
import { VQ_WAIT_MISS, VQ_WAIT_WIRE, VringProcessor } from './vring.js';
import { WorkerXlate, type WorkerMemConfig } from './xlate.js';

/** What a vhost worker receives at start-up (workerData). */
export interface VhostWorkerInit {
  readonly channel: SharedArrayBuffer;
  readonly iotlb: IotlbDescriptor;
  /** Frames to the peer (TX) and from it (RX). */
  readonly wireTx: SharedArrayBuffer;
  readonly wireRx: SharedArrayBuffer;
  readonly port: MessagePort;
  /** Wall-clock ms without a request after which the thread ends itself (STATE_IDLE); 0 never. */
  readonly idleExitMs: number;
}

/** Messages on the worker's port: the memory configuration (machine -> worker) and vq errors (worker -> machine). */
export interface VhostMemMessage {
  readonly mem: WorkerMemConfig;
}
export interface VhostErrorMessage {
  readonly vq: number;
  readonly error: string;
}

const IDLE_WAIT_MS = 200;
const TWO64 = 1n << 64n;
const MAX_NUM = Number.MAX_SAFE_INTEGER;

/** The largest aligned power-of-two pieces of [iova, iova + size), each inserted into the IOTLB. */
function insertRange(tlb: Iotlb, iova: number, size: number, uaddr: number, perm: number): void {
  let a = iova;
  const end = iova + size;
  while (a < end) {
    let shift = 12;
    while (shift < 30 && a % POW2[shift + 1]! === 0 && a + POW2[shift + 1]! <= end) shift++;
    const piece = POW2[shift]!;
    // A piece smaller than a page (unaligned UPDATE) is widened to its page: the kernel's interval tree keeps bytes; we keep pages.
    tlb.insert(0, a, shift, uaddr + (a - iova) - (a % piece), perm);
    a = a - (a % piece) + piece;
  }
}

/**
 * The body of a vhost worker thread (Linux vhost_worker + vhost-net
 * handlers): wait for work (REQ) on the channel; each round applies the
 * machine's IOTLB messages (UPDATE fills the device IOTLB, INVALIDATE
 * removes [iova, iova + size - 1] with the kernel's u64 wrap, so iova 0
 * size 0 is everything), runs the kicked vqs and the ones waiting for an
 * UPDATE, and publishes DONE. Misses travel as VHOST_IOTLB_MISS,
 * permission failures as VHOST_IOTLB_ACCESS_FAIL, in vhost_msg_v2 form.
 * An exception marks the channel FAILED and ends the thread.
 */
export function runVhostWorker(init: VhostWorkerInit): void {
  const ch = new VhostChannel(init.channel);
  const ctl = ch.ctl;
  const tlb = new Iotlb(init.iotlb);
  const x = new WorkerXlate(tlb, ch);
  const wireTx = new WireRing(init.wireTx);
  const wireRx = new WireRing(init.wireRx);
  const waiting = new Set<number>();
  let packets = 0;
  const send = (m: VhostIotlbMsg): void => {
    for (let tries = 0; !ch.postToMachine({ version: 2, asid: 0, iotlb: m }) && tries < 1000; tries++) {
      Atomics.wait(ctl, W_STOP, 0, 1);
    }
  };
  const apply = (): void => {
    for (let m = ch.takeForWorker(); m !== undefined; m = ch.takeForWorker()) {
      if (m === null || m.asid !== 0) continue;
      const t = m.iotlb;
      if (t.type === VHOST_IOTLB_UPDATE) {
        if (t.size === 0n || t.iova + t.size > BigInt(MAX_NUM)) continue;
        insertRange(tlb, Number(t.iova), Number(t.size), Number(t.uaddr), t.perm);
        ch.stats[ST_UPDATES]!++;
        for (let v = 0; v < MAX_VQS; v++) ch.setVqField(v, VQ_PENDING_MISS, -1);
      } else if (t.type === VHOST_IOTLB_INVALIDATE) {
        const last = (t.iova + t.size - 1n + TWO64) % TWO64;
        if (last < t.iova) continue;
        const start = t.iova > BigInt(MAX_NUM) ? MAX_NUM : Number(t.iova);
        tlb.invalidateRange(0, start, Number(last - t.iova + 1n));
        ch.stats[ST_INVALIDATES]!++;
      } else if (t.type === VHOST_IOTLB_ACCESS_FAIL) {
        // viommu's machine side: the translation of a MISS faulted. The queue waiting for it stops (vq_err).
        const page = Number(t.iova) - (Number(t.iova) % 4096);
        for (let v = 0; v < MAX_VQS; v++) {
          if (ch.vqField(v, VQ_PENDING_MISS) !== page || !ch.vqField(v, VQ_NUM)) continue;
          ch.setVqField(v, VQ_ERROR, 1);
          ch.setVqField(v, VQ_PENDING_MISS, -1);
          waiting.delete(v);
          init.port.postMessage({ vq: v, error: `IOTLB access failure at iova 0x${t.iova.toString(16)}` } satisfies VhostErrorMessage);
        }
      } else if (t.type !== VHOST_IOTLB_BATCH_BEGIN && t.type !== VHOST_IOTLB_BATCH_END) {
        continue;
      }
    }
  };
  const rings = new VringProcessor(ch, x, {
    miss(vq, iova, access) {
      const page = iova - (iova % 4096);
      if (ch.vqField(vq, VQ_PENDING_MISS) === page) return;
      ch.setVqField(vq, VQ_PENDING_MISS, page);
      ch.stats[ST_MISSES]!++;
      send(iotlbMsg(VHOST_IOTLB_MISS, BigInt(iova), 0n, 0n, access));
    },
    fail(vq, iova, access, why) {
      if (iova >= 0) {
        ch.stats[ST_ACCESS_FAILS]!++;
        send(iotlbMsg(VHOST_IOTLB_ACCESS_FAIL, BigInt(iova), 0n, 0n, access));
      }
      init.port.postMessage({ vq, error: why } satisfies VhostErrorMessage);
      ch.wakeMachine();
    },
    poll: apply,
    packet() {
      packets++;
      const crash = Atomics.load(ctl, W_CRASH);
      if (crash && packets >= Atomics.load(ctl, W_CRASH_AFTER)) {
        Atomics.store(ctl, W_CRASH, 0);
        if (crash === CRASH_THROW) throw new Error(`crash drill after ${packets} packets`);
        if (crash === CRASH_HANG) for (;;) Atomics.wait(ctl, W_STOP, 0, 1000);
      }
    },
  });
  Atomics.store(ctl, W_STATE, STATE_READY);
  Atomics.notify(ctl, W_STATE);
  let handled = Atomics.load(ctl, W_DONE);
  let lastWork = performance.now();
  try {
    for (;;) {
      if (Atomics.load(ctl, W_STOP)) break;
      const req = Atomics.load(ctl, W_REQ);
      if (req === handled) {
        Atomics.wait(ctl, W_REQ, req, IDLE_WAIT_MS);
        // A machine that was dropped never stops its workers: end after an idle period (the machine restarts one when needed).
        if (init.idleExitMs > 0 && Atomics.load(ctl, W_REQ) === handled && performance.now() - lastWork > init.idleExitMs
          && Atomics.compareExchange(ctl, W_STATE, STATE_READY, STATE_IDLE) === STATE_READY) {
          ch.wakeMachine();
          break;
        }
        continue;
      }
      lastWork = performance.now();
      Atomics.store(ctl, W_BUSY, 1);
      for (let m = receiveMessageOnPort(init.port); m; m = receiveMessageOnPort(init.port)) {
        const msg = m.message as Partial<VhostMemMessage>;
        if (msg.mem) x.configure(msg.mem);
      }
      apply();
      x.beginRound();
      const kicks = Atomics.exchange(ctl, W_KICK, 0);
      for (let vq = 0; vq < MAX_VQS; vq++) {
        if (!ch.vqField(vq, VQ_NUM) || ch.vqField(vq, VQ_ERROR)) continue;
        const kicked = (kicks & (1 << vq)) !== 0;
        const rx = vq % 2 === 0;
        if (kicked) ch.setVqField(vq, VQ_PENDING_MISS, -1);
        if (!kicked && !waiting.has(vq) && !(rx && wireRx.length > 0)) continue;
        const code = rx ? rings.handleRx(vq, wireRx) : rings.handleTx(vq, wireTx);
        if (code === VQ_WAIT_MISS || code === VQ_WAIT_WIRE) waiting.add(vq);
        else waiting.delete(vq);
      }
      x.endRound();
      Atomics.store(ctl, W_BUSY, 0);
      handled = req;
      Atomics.store(ctl, W_DONE, req);
      ch.wakeMachine();
    }
  } catch (e) {
    Atomics.store(ctl, W_BUSY, 0);
    Atomics.store(ctl, W_STATE, STATE_FAILED);
    init.port.postMessage({ vq: -1, error: e instanceof Error ? e.message : String(e) } satisfies VhostErrorMessage);
    ch.wakeMachine();
  }
  init.port.close();
}
