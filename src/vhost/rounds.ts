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
  /** A message is about to be posted while a round is in flight: the owner completes it first. */
  quiesce(): void;
}

/** A round the machine is waiting on: the request number and what the follow-up decision needs. */
interface Flight {
  readonly req: number;
  /** Round number within the series a kick started. */
  readonly i: number;
  readonly rxBefore: number;
  /** The peer's frames went onto the RX wire before this round. */
  readonly pushed: boolean;
}

/** What a step of a series ended with: another round was posted ('more'), quiet, the worker lost or ended itself. */
export type RoundOutcome = 'more' | 'ok' | 'lost' | 'idle';

/** complete(): the worker had ended itself after an idle period. */
const IDLE = -2;
/** Rounds in one series before the machine gives the guest control back (a live-lock guard). */
const MAX_ROUNDS = 256;

/**
 * The machine side of one vhost worker's rounds. A kick posts a round
 * (REQ) and returns: the worker runs it while the machine goes on (as the
 * vhost kernel thread runs while the vCPU does). The machine completes it
 * later, at a sync point (step): it waits (bounded) until the round is
 * DONE and applies what the worker left: MISS (answered with UPDATE, then
 * another round retries the waiting queue), ACCESS_FAIL, observations,
 * interrupts; TX frames go to the peer, the peer's frames onto the RX
 * wire, and another round is posted while anything moved. The owner never
 * posts a message while a round is in flight (it completes the round
 * first), so every round applies the messages posted before it first and
 * no message lands in the middle of one: an INVALIDATE posted during a
 * vIOMMU's invalidation is in force before any later translation starts
 * (DESIGN's coherence rule), and the round it waited for has finished.
 */
export class VhostRounds {
  readonly totals = { tx: 0, rx: 0, misses: 0, updates: 0, invalidates: 0, accessFails: 0 };
  /** Device-IOTLB counters of workers that were replaced. */
  readonly retired = { hits: 0, misses: 0 };
  private readonly lastCalls = new Array<number>(MAX_VQS).fill(0);
  /** TX frames handed to the peer in the current round. */
  private delivered = 0;
  private readonly base = { tx: 0, rx: 0, misses: 0, updates: 0, invalidates: 0, accessFails: 0 };
  private flight: Flight | undefined;
  /** Wall-clock ms the machine thread spent blocked waiting for this worker (a bench figure; never part of results). */
  waitMs = 0;

  constructor(private readonly w: VhostWorkerHandle, private readonly peer: NetPeer, private readonly wireTx: WireRing,
    private readonly wireRx: WireRing, private readonly clock: VirtualClock, private readonly hooks: RoundHooks,
    private readonly timeoutMs: number, prev?: VhostRounds) {
    if (prev) {
      Object.assign(this.totals, prev.totals);
      Object.assign(this.base, prev.totals);
      this.retired.hits = prev.retired.hits + prev.w.iotlb.hits;
      this.retired.misses = prev.retired.misses + prev.w.iotlb.misses;
      this.waitMs = prev.waitMs;
    }
  }

  /** Where messages are traced (set by the device; recorded while the machine's tracer is on). */
  trace: { readonly tracer: Tracer; readonly where: TraceTrack } | undefined = undefined;

  /** A round is posted and not completed yet. */
  get inFlight(): boolean {
    return this.flight !== undefined;
  }

  /** Posts a message for the worker's next round (none may be in flight); a full ring is drained by a round first. */
  post(m: VhostIotlbMsg): void {
    if (this.flight) this.hooks.quiesce();
    if (this.trace?.tracer.on) traceVhostMsg(this.trace.tracer, this.trace.where, m, 'to worker');
    const ch = this.w.channel;
    for (let i = 0; i < 4 && !ch.postToWorker({ version: 2, asid: 0, iotlb: m }); i++) this.roundNow();
  }

  /** The machine's translation of a MISS faulted: ACCESS_FAIL to the worker (its queue stops with a vq error). */
  accessFail(iova: number, write: boolean): void {
    this.post(iotlbMsg(VHOST_IOTLB_ACCESS_FAIL, BigInt(iova), 0n, 0n, write ? VHOST_ACCESS_WO : VHOST_ACCESS_RO));
  }

  /** Applies what is pending (a round with no kicks, waited for at once, no follow-up). */
  drain(): void {
    if (this.flight) this.hooks.quiesce();
    this.roundNow();
  }

  /** Posts the first round of a series for the kicked queues and returns; 'idle' or 'lost' when the worker cannot take it. */
  start(kickMask: number): 'posted' | 'lost' | 'idle' {
    return this.begin(kickMask, 0);
  }

  /** Waits for the round in flight and applies its results; posts the next round of the series while something moves. */
  step(): RoundOutcome {
    const f = this.flight;
    if (!f) return 'ok';
    const r = this.complete(f.req);
    if (r === IDLE) return 'idle';
    if (r < 0) return 'lost';
    const rxMoved = this.w.channel.stats[ST_RX_PACKETS]! !== f.rxBefore;
    // Another round while something moves: an UPDATE went out (a queue waits for it), TX frames left the
    // wire (the queue may have more behind a full wire; the peer may answer), or RX took frames.
    if (r === 0 && this.delivered === 0 && !rxMoved && !(f.pushed && this.wireRx.length > 0 && f.i === 0)) return 'ok';
    if (f.i + 1 >= MAX_ROUNDS) return 'ok';
    const b = this.begin(0, f.i + 1);
    return b === 'posted' ? 'more' : b;
  }

  /** Rounds until quiet, waited for at once (a machine without a settle point). */
  run(kickMask: number): 'ok' | 'lost' | 'idle' {
    const s = this.start(kickMask);
    if (s !== 'posted') return s;
    for (;;) {
      const r = this.step();
      if (r !== 'more') return r;
    }
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

  private begin(kickMask: number, i: number): 'posted' | 'lost' | 'idle' {
    const w = this.w;
    const ch = w.channel;
    if (w.idled) return 'idle';
    if (w.failed) return 'lost';
    const rxBefore = ch.stats[ST_RX_PACKETS]!;
    const pushed = this.pumpRx();
    this.delivered = 0;
    Atomics.store(ch.ctl, W_OBS_ON, this.hooks.observing() ? 1 : 0);
    ch.clock[0] = this.clock.now;
    this.flight = { req: ch.request(kickMask), i, rxBefore, pushed };
    return 'posted';
  }

  /** One round posted and waited for at once: -1 lost, IDLE, else the UPDATEs sent. */
  private roundNow(): number {
    const b = this.begin(0, MAX_ROUNDS);
    return b === 'posted' ? this.complete(this.flight!.req) : b === 'idle' ? IDLE : -1;
  }

  /** Waits for request `req`: -1 lost, IDLE (the thread had ended itself), else the number of UPDATEs sent in answer to its misses. */
  private complete(req: number): number {
    const w = this.w;
    const ctl = w.channel.ctl;
    const deadline = performance.now() + this.timeoutMs;
    let status = 0;
    for (;;) {
      const wake = Atomics.load(ctl, W_MAIN_WAKE);
      this.drainObservations();
      if (Atomics.load(ctl, W_DONE) - req >= 0) break;
      if (Atomics.load(ctl, W_STATE) === STATE_IDLE) {
        status = IDLE;
        break;
      }
      const left = deadline - performance.now();
      if (Atomics.load(ctl, W_STATE) === STATE_FAILED || w.failed || left <= 0) {
        status = -1;
        break;
      }
      const t0 = performance.now();
      Atomics.wait(ctl, W_MAIN_WAKE, wake, Math.min(left, 50));
      this.waitMs += performance.now() - t0;
    }
    // Cleared before the results are applied: answering a MISS posts an UPDATE.
    this.flight = undefined;
    const updates = this.collect();
    return status < 0 ? status : updates;
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
