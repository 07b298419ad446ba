import { ConfigError } from '../../base/index.js';
import { waitAsync } from './wait-async.js';

/**
 * The shared words of IOTLB coherence between the main thread (the vIOMMU,
 * sole writer of the op log) and translation workers (DESIGN "Shared
 * IOTLB"). Layout, in one SharedArrayBuffer, each group on its own 64-byte
 * line:
 *
 *   line 0            SEQ (ops posted), MODE, CHG (bumped on every ack/busy change)
 *   line 1 + slot     per worker: ACK (ops applied), BUSY (inside a batch), LIVE
 *   op log            OP_CAP entries of four f64: kind, ctx, start, size
 *
 * Atomics touch only SEQ, CHG and the per-slot words; a worker loads SEQ
 * once per chunk of translations (coherence/receiver.ts).
 */
export const OP_RANGE = 1;
export const OP_RANGE_ANY_CTX = 2;
export const OP_CONTEXT = 3;
export const OP_ALL = 4;

/**
 * How workers apply invalidations: 'shootdown' replays each op on the
 * worker's own IOTLB (precise); 'epoch' drops the worker's whole IOTLB on
 * any change (cheaper bookkeeping, more misses afterwards).
 */
export type CoherenceMode = 'shootdown' | 'epoch';
export const COHERENCE_MODES: readonly CoherenceMode[] = ['shootdown', 'epoch'];

export const W_SEQ = 0;
export const W_MODE = 1;
export const W_CHG = 2;
const LINE_WORDS = 16;
export const SLOT_ACK = 0;
export const SLOT_BUSY = 1;
export const SLOT_LIVE = 2;
export const MAX_SLOTS = 64;
const OP_F64 = 4;

export interface ShootdownBusDescriptor {
  readonly sab: SharedArrayBuffer;
  readonly opCap: number;
}

export class ShootdownBus {
  readonly words: Int32Array;
  readonly ops: Float64Array;
  readonly opCap: number;

  constructor(readonly desc: ShootdownBusDescriptor) {
    this.opCap = desc.opCap;
    const wordBytes = (1 + MAX_SLOTS) * LINE_WORDS * 4;
    this.words = new Int32Array(desc.sab, 0, wordBytes / 4);
    this.ops = new Float64Array(desc.sab, wordBytes, desc.opCap * OP_F64);
  }

  static create(mode: CoherenceMode = 'shootdown', opCap = 1024): ShootdownBus {
    if (!COHERENCE_MODES.includes(mode)) throw ConfigError.unknown('coherence', 'mode', mode, COHERENCE_MODES);
    const bytes = (1 + MAX_SLOTS) * LINE_WORDS * 4 + opCap * OP_F64 * 8;
    const bus = new ShootdownBus({ sab: new SharedArrayBuffer(bytes), opCap });
    Atomics.store(bus.words, W_MODE, mode === 'epoch' ? 1 : 0);
    return bus;
  }

  get mode(): CoherenceMode {
    return Atomics.load(this.words, W_MODE) === 1 ? 'epoch' : 'shootdown';
  }

  /** Index of a slot's word. */
  static slotWord(slot: number, word: number): number {
    return (1 + slot) * LINE_WORDS + word;
  }

  get seq(): number {
    return Atomics.load(this.words, W_SEQ);
  }

  /** Owner: appends an op and publishes it; returns the sequence number that covers it. */
  post(kind: number, ctx: number, start: number, size: number): number {
    const seq = Atomics.load(this.words, W_SEQ);
    const o = (seq % this.opCap) * OP_F64;
    this.ops[o] = kind;
    this.ops[o + 1] = ctx;
    this.ops[o + 2] = start;
    this.ops[o + 3] = size;
    Atomics.store(this.words, W_SEQ, seq + 1);
    return seq + 1;
  }

  /** Claims a free slot for a new worker, already acknowledged up to now. */
  claim(): number {
    for (let s = 0; s < MAX_SLOTS; s++) {
      const live = ShootdownBus.slotWord(s, SLOT_LIVE);
      if (Atomics.compareExchange(this.words, live, 0, 1) === 0) {
        Atomics.store(this.words, ShootdownBus.slotWord(s, SLOT_BUSY), 0);
        Atomics.store(this.words, ShootdownBus.slotWord(s, SLOT_ACK), this.seq);
        return s;
      }
    }
    throw new ConfigError('workers', `more than ${MAX_SLOTS} translation workers`);
  }

  /** Releases a slot (its worker exited or was fenced): it is no longer waited for. */
  release(slot: number): void {
    Atomics.store(this.words, ShootdownBus.slotWord(slot, SLOT_LIVE), 0);
    this.changed();
  }

  /** Wakes quiesce waiters (a slot's ack, busy or liveness changed). */
  changed(): void {
    Atomics.add(this.words, W_CHG, 1);
    Atomics.notify(this.words, W_CHG);
  }

  /** Live slots that have neither applied ops up to `target` nor left their batch. */
  pending(target: number): number[] {
    const late: number[] = [];
    for (let s = 0; s < MAX_SLOTS; s++) {
      if (Atomics.load(this.words, ShootdownBus.slotWord(s, SLOT_LIVE)) !== 1) continue;
      if (Atomics.load(this.words, ShootdownBus.slotWord(s, SLOT_BUSY)) === 0) continue;
      if (Atomics.load(this.words, ShootdownBus.slotWord(s, SLOT_ACK)) - target >= 0) continue;
      late.push(s);
    }
    return late;
  }

  /**
   * Blocks (Atomics.wait) until every live slot has caught up with
   * `target` or is idle, or until `timeoutMs`; returns the slots still late.
   */
  waitSync(target: number, timeoutMs: number): number[] {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const chg = Atomics.load(this.words, W_CHG);
      const late = this.pending(target);
      const left = deadline - performance.now();
      if (late.length === 0 || left <= 0) return late;
      Atomics.wait(this.words, W_CHG, chg, left);
    }
  }

  /** The same without blocking the event loop (Atomics.waitAsync). */
  async waitAsync(target: number, timeoutMs: number): Promise<number[]> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const chg = Atomics.load(this.words, W_CHG);
      const late = this.pending(target);
      const left = deadline - performance.now();
      if (late.length === 0 || left <= 0) return late;
      await waitAsync(this.words, W_CHG, chg, left);
    }
  }
}
