import type { VirtualClock } from '../base/clock.js';
import type { TraceTrack, Tracer } from '../base/trace.js';
import type { NetPeer } from '../virtio/net/peer.js';
import type { WireRing } from '../virtio/net/wire.js';
import {
  MAX_VQS, OBS_ERROR, OBS_FAULT, OBS_FIELDS, OBS_SLOTS, ST_ACCESS_FAILS, ST_INVALIDATES, ST_MISSES, ST_RX_PACKETS,
  ST_TX_PACKETS, ST_UPDATES, STATE_FAILED, STATE_IDLE, VQ_CALLS, W_DONE, W_MAIN_WAKE, W_OBS_HEAD, W_OBS_ON, W_OBS_TAIL, W_STATE,
} from './channel.js';
import {
  formatIotlbMsg, iotlbMsg, VHOST_ACCESS_RO, VHOST_IOTLB_TYPE_NAMES, VHOST_ACCESS_WO, VHOST_IOTLB_ACCESS_FAIL, VHOST_IOTLB_MISS, type VhostIotlbMsg,
} from './msg.js';
import type { VhostWorkerHandle } from './worker-host.js';

/** One vhost IOTLB message in the trace (vhost_msg_v2: MISS from the worker, UPDATE / INVALIDATE / ACCESS_FAIL to it). */
function traceVhostMsg(tracer: Tracer, where: TraceTrack, m: VhostIotlbMsg, dir: string): void {
  tracer.instant(where, 'vhost', `vhost ${VHOST_IOTLB_TYPE_NAMES[m.type] ?? `IOTLB msg ${m.type}`}`, {
    dir, iova: `0x${m.iova.toString(16)}`, size: `0x${m.size.toString(16)}`, uaddr: `0x${m.uaddr.toString(16)}`, perm: m.perm,
  });
}

/** One DMA access the vhost worker made, as the machine reports it to the oracle. */
export interface VhostDmaAccess {
  readonly iova: number;
  readonly length: number;
  readonly write: boolean;
  readonly outcome: 'ok' | 'fault' | 'error';
  readonly gpa?: number;
  /** Virtual time at which the round (and so the translation) started. */
  readonly time: number;
}

/** What a round needs from its backend. */
export interface RoundHooks {
  /** A MISS from the worker: translate and post an UPDATE; true when one went out. */
  miss(iova: number, write: boolean): boolean;
  observe(a: VhostDmaAccess): void;
  /** Whether anyone wants the worker's access records (the oracle); off saves the worker the records. */
  observing(): boolean;
  error(message: string): void;
  /** The worker asked for an interrupt on this queue. */
  call(vq: number): void;
}

/** runOnce: the worker had ended itself after an idle period. */
const IDLE = -2;
/** Rounds in one run before the machine gives the guest control back (a live-lock guard). */
const MAX_ROUNDS = 256;

/**
 * The machine side of one vhost worker's rounds. The machine runs the
 * guest and the device models on one thread; a kick asks the worker for a
 * round (REQ) and waits (bounded) until it is DONE, serving what the
 * worker sends meanwhile: MISS (answered with UPDATE, then another round
 * retries the waiting queue), ACCESS_FAIL, observations, interrupts. TX
 * frames go to the peer, the peer's frames go onto the RX wire, and rounds
 * repeat while anything moves. The worker therefore translates only
 * inside rounds the machine waits for, and every round applies the
 * messages posted before it first: an INVALIDATE posted during a vIOMMU's
 * invalidation is in force before any later translation starts (DESIGN's
 * coherence rule), without a round trip per invalidation.
 */
export class VhostRounds {
  readonly totals = { tx: 0, rx: 0, misses: 0, updates: 0, invalidates: 0, accessFails: 0 };
  /** Device-IOTLB counters of workers that were replaced. */
  readonly retired = { hits: 0, misses: 0 };
  private readonly lastCalls = new Array<number>(MAX_VQS).fill(0);
  /** TX frames handed to the peer in the current round. */
  private delivered = 0;
  private readonly base = { tx: 0, rx: 0, misses: 0, updates: 0, invalidates: 0, accessFails: 0 };

  constructor(private readonly w: VhostWorkerHandle, private readonly peer: NetPeer, private readonly wireTx: WireRing,
    private readonly wireRx: WireRing, private readonly clock: VirtualClock, private readonly hooks: RoundHooks,
    private readonly timeoutMs: number, prev?: VhostRounds) {
    if (prev) {
      Object.assign(this.totals, prev.totals);
      Object.assign(this.base, prev.totals);
      this.retired.hits = prev.retired.hits + prev.w.iotlb.hits;
      this.retired.misses = prev.retired.misses + prev.w.iotlb.misses;
    }
  }

  /** Where messages are traced (set by the device; recorded while the machine's tracer is on). */
  trace: { readonly tracer: Tracer; readonly where: TraceTrack } | undefined = undefined;

  /** Posts a message for the worker's next round; a full ring is drained by a round first. */
  post(m: VhostIotlbMsg): void {
    if (this.trace?.tracer.on) traceVhostMsg(this.trace.tracer, this.trace.where, m, 'to worker');
    const ch = this.w.channel;
    for (let i = 0; i < 4 && !ch.postToWorker({ version: 2, asid: 0, iotlb: m }); i++) this.runOnce(0);
  }

  /** The machine's translation of a MISS faulted: ACCESS_FAIL to the worker (its queue stops with a vq error). */
  accessFail(iova: number, write: boolean): void {
    this.post(iotlbMsg(VHOST_IOTLB_ACCESS_FAIL, BigInt(iova), 0n, 0n, write ? VHOST_ACCESS_WO : VHOST_ACCESS_RO));
  }

  /** Applies what is pending (a round with no kicks). */
  drain(): void {
    this.runOnce(0);
  }

  /** Rounds until quiet: 'lost' when the worker died or did not finish a round in time, 'idle' when it had ended itself. */
  run(kickMask: number): 'ok' | 'lost' | 'idle' {
    let mask = kickMask;
    for (let i = 0; i < MAX_ROUNDS; i++) {
      const rxBefore = this.w.channel.stats[ST_RX_PACKETS]!;
      const pushed = this.pumpRx();
      this.delivered = 0;
      const r = this.runOnce(mask);
      if (r === IDLE) return 'idle';
      if (r < 0) return 'lost';
      mask = 0;
      const rxMoved = this.w.channel.stats[ST_RX_PACKETS]! !== rxBefore;
      // Another round while something moves: an UPDATE went out (a queue waits for it), TX frames left the
      // wire (the queue may have more behind a full wire; the peer may answer), or RX took frames.
      if (r === 0 && this.delivered === 0 && !rxMoved && !(pushed && this.wireRx.length > 0 && i === 0)) break;
    }
    return 'ok';
  }

  /** The peer's frames onto the RX wire while there is room; true when any moved. */
  private pumpRx(): boolean {
    let moved = false;
    while (this.peer.outbox.length > 0 && !this.wireRx.full) {
      this.wireRx.push(this.peer.outbox.shift()!);
      moved = true;
    }
    return moved;
  }

  /** One round: -1 lost, IDLE (the thread had ended itself), else the number of UPDATEs sent in answer to its misses. */
  private runOnce(kickMask: number): number {
    const w = this.w;
    const ch = w.channel;
    const ctl = ch.ctl;
    if (w.idled) return IDLE;
    if (w.failed) return -1;
    Atomics.store(ctl, W_OBS_ON, this.hooks.observing() ? 1 : 0);
    ch.clock[0] = this.clock.now;
    const req = ch.request(kickMask);
    const deadline = performance.now() + this.timeoutMs;
    for (;;) {
      const wake = Atomics.load(ctl, W_MAIN_WAKE);
      this.drainObservations();
      if (Atomics.load(ctl, W_DONE) - req >= 0) break;
      if (Atomics.load(ctl, W_STATE) === STATE_IDLE) {
        this.collect();
        return IDLE;
      }
      if (Atomics.load(ctl, W_STATE) === STATE_FAILED || w.failed) {
        this.collect();
        return -1;
      }
      const left = deadline - performance.now();
      if (left <= 0) {
        this.collect();
        return -1;
      }
      Atomics.wait(ctl, W_MAIN_WAKE, wake, Math.min(left, 50));
    }
    return this.collect();
  }

  /** Everything the worker left for the machine; the UPDATEs sent. */
  private collect(): number {
    const ch = this.w.channel;
    this.drainObservations();
    let updates = 0;
    for (let m = ch.takeForMachine(); m !== undefined; m = ch.takeForMachine()) {
      if (m === null) continue;
      const t = m.iotlb;
      if (this.trace?.tracer.on) traceVhostMsg(this.trace.tracer, this.trace.where, t, 'from worker');
      if (t.type === VHOST_IOTLB_MISS) {
        if (this.hooks.miss(Number(t.iova), t.perm !== VHOST_ACCESS_RO)) updates++;
      } else if (t.type === VHOST_IOTLB_ACCESS_FAIL) {
        // QEMU vhost_backend_handle_iotlb_msg.
        this.hooks.error(`Access failure IOTLB message type not supported (${formatIotlbMsg(t)})`);
      } else {
        this.hooks.error(`Unexpected IOTLB message type (${formatIotlbMsg(t)})`);
      }
    }
    for (const e of this.w.takeErrors()) this.hooks.error(e.vq >= 0 ? `vhost vq ${e.vq}: ${e.error}` : `vhost worker: ${e.error}`);
    for (let v = 0; v < MAX_VQS; v++) {
      const c = ch.vqField(v, VQ_CALLS);
      if (c !== this.lastCalls[v]) {
        this.lastCalls[v] = c;
        this.hooks.call(v);
      }
    }
    for (let f = this.wireTx.peek(); f; f = this.wireTx.peek()) {
      this.peer.deliver(f.slice());
      this.wireTx.consume();
      this.delivered++;
    }
    const s = ch.stats;
    const b = this.base;
    this.totals.tx = b.tx + s[ST_TX_PACKETS]!;
    this.totals.rx = b.rx + s[ST_RX_PACKETS]!;
    this.totals.misses = b.misses + s[ST_MISSES]!;
    this.totals.updates = b.updates + s[ST_UPDATES]!;
    this.totals.invalidates = b.invalidates + s[ST_INVALIDATES]!;
    this.totals.accessFails = b.accessFails + s[ST_ACCESS_FAILS]!;
    return updates;
  }

  /** Observation records to the oracle, in order. */
  private drainObservations(): void {
    const ch = this.w.channel;
    const ctl = ch.ctl;
    const head = Atomics.load(ctl, W_OBS_HEAD);
    let tail = Atomics.load(ctl, W_OBS_TAIL);
    if (tail === head) return;
    const obs = ch.obs;
    for (; tail !== head; tail++) {
      const o = (tail % OBS_SLOTS) * OBS_FIELDS;
      const outcome = obs[o + 3]!;
      const gpa = obs[o + 4]!;
      this.hooks.observe({
        iova: obs[o]!, length: obs[o + 1]!, write: obs[o + 2] === 1,
        outcome: outcome === OBS_FAULT ? 'fault' : outcome === OBS_ERROR ? 'error' : 'ok',
        ...(gpa >= 0 ? { gpa } : {}), time: obs[o + 5]!,
      });
    }
    Atomics.store(ctl, W_OBS_TAIL, tail);
    Atomics.notify(ctl, W_OBS_TAIL);
  }
}
