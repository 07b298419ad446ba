import type { TranslationEngine } from '../xlate/engine.js';
import {
  OP_ALL, OP_CONTEXT, OP_RANGE, OP_RANGE_ANY_CTX, SLOT_ACK, SLOT_BUSY, ShootdownBus, W_SEQ,
} from './shootdown-bus.js';

/**
 * A worker's end of the shootdown bus. The worker marks itself busy for a
 * batch (enter), polls between chunks of translations (one Atomics.load of
 * SEQ when nothing changed), applies new ops to its own engine, then
 * acknowledges; leave() marks it idle. The main thread's quiesce waits for
 * every live slot to be idle or acknowledged (coherence.ts).
 *
 * Ordering (all Atomics are sequentially consistent): the worker stores
 * BUSY = 1 before loading SEQ; the vIOMMU stores SEQ before loading BUSY.
 * So if quiesce sees a worker idle, that worker's next batch sees the op.
 */
export class ShootdownReceiver {
  private applied: number;
  private readonly ackWord: number;
  private readonly busyWord: number;

  constructor(readonly bus: ShootdownBus, readonly slot: number, private readonly engine: TranslationEngine) {
    this.ackWord = ShootdownBus.slotWord(slot, SLOT_ACK);
    this.busyWord = ShootdownBus.slotWord(slot, SLOT_BUSY);
    this.applied = Atomics.load(bus.words, this.ackWord);
  }

  enter(): void {
    Atomics.store(this.bus.words, this.busyWord, 1);
    this.poll();
  }

  leave(): void {
    Atomics.store(this.bus.words, this.busyWord, 0);
    this.bus.changed();
  }

  /** Applies ops posted since the last poll, then acknowledges them. */
  poll(): void {
    const words = this.bus.words;
    const seq = Atomics.load(words, W_SEQ);
    if (seq === this.applied) return;
    const cap = this.bus.opCap;
    if (this.bus.mode === 'epoch' || seq - this.applied > cap) {
      this.engine.invalidateAll();
    } else {
      for (let i = this.applied; i !== seq; i++) this.apply((i % cap) * 4);
      // Ops read while the owner wrapped the log may be torn: drop everything then.
      if (Atomics.load(words, W_SEQ) - this.applied > cap) this.engine.invalidateAll();
    }
    this.applied = seq;
    Atomics.store(words, this.ackWord, seq);
    this.bus.changed();
  }

  private apply(o: number): void {
    const ops = this.bus.ops;
    const kind = ops[o]!;
    const ctx = ops[o + 1]!;
    if (kind === OP_RANGE) this.engine.invalidateRange(ctx, ops[o + 2]!, ops[o + 3]!);
    else if (kind === OP_RANGE_ANY_CTX) this.engine.invalidateRange(null, ops[o + 2]!, ops[o + 3]!);
    else if (kind === OP_CONTEXT) this.engine.invalidateContext(ctx);
    else if (kind === OP_ALL) this.engine.invalidateAll();
  }
}
