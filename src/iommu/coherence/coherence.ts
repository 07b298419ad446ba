import type { ContextDescriptor } from '../xlate/context-table.js';
import type { TranslationEngine } from '../xlate/engine.js';
import { OP_ALL, OP_CONTEXT, OP_RANGE, OP_RANGE_ANY_CTX, ShootdownBus } from './shootdown-bus.js';

/** Default bound of a completion wait (a worker that has not acknowledged by then is fenced). */
export const QUIESCE_TIMEOUT_MS = 2000;

export interface QuiesceResult {
  /** True when every live worker acknowledged or was idle in time. */
  readonly ok: boolean;
  /** Worker slots that did not, and were fenced (their results are discarded, the pool replaces them). */
  readonly fenced: readonly number[];
}

/**
 * IOTLB coherence as a vIOMMU sees it (DESIGN "Shared IOTLB"): it
 * invalidates its own (main-thread) engine at once and posts the same op to
 * every translation worker; at a completion point (SMMUv3 CMD_SYNC, the
 * VT-d wait descriptor, a virtio-iommu UNMAP reply, the return of
 * H_PUT_TCE) it calls quiesce, which returns once every worker has applied
 * the ops or is between batches. After that, no translation that starts on
 * any thread uses a removed entry, and translations that were in flight
 * have finished. The wait is bounded: a worker that does not answer in
 * time is fenced through `onLate` (the pool discards its results, fails or
 * retries its batch, and replaces it).
 *
 * Choice (measured in bench/RESULTS.md): per-worker IOTLBs with shootdown
 * and acknowledgement; a worker polls one word per chunk of translations,
 * so the hit path stays plain loads. Mode 'epoch' (drop the whole worker
 * IOTLB on any change) is kept for comparison.
 */
export class IotlbCoherence {
  /** Called with the slots that missed a quiesce deadline; the pool fences them. */
  onLate: ((slots: readonly number[]) => void) | undefined;

  constructor(readonly engine: TranslationEngine, readonly bus: ShootdownBus) {}

  /** Entries of `ctx` (null: every context) overlapping [start, start + size); size may be 2^64. */
  invalidateRange(ctx: number | null, start: number, size: number): void {
    this.engine.invalidateRange(ctx, start, size);
    this.bus.post(ctx === null ? OP_RANGE_ANY_CTX : OP_RANGE, ctx ?? 0, start, size);
  }

  /** Every entry of a context, and its table snapshot. */
  invalidateContext(ctx: number): void {
    this.engine.invalidateContext(ctx);
    this.bus.post(OP_CONTEXT, ctx, 0, 0);
  }

  invalidateAll(): void {
    this.engine.invalidateAll();
    this.bus.post(OP_ALL, 0, 0, 0);
  }

  /** Publishes a context's table (context-entry decode) and drops what was cached for it. */
  setContext(ctx: number, desc: ContextDescriptor): void {
    this.engine.contexts.set(ctx, desc);
    this.invalidateContext(ctx);
  }

  /** Completion point, blocking (for synchronous register writes). */
  quiesceSync(timeoutMs = QUIESCE_TIMEOUT_MS): QuiesceResult {
    return this.fence(this.bus.waitSync(this.bus.seq, timeoutMs));
  }

  /** Completion point, without blocking the event loop. */
  async quiesce(timeoutMs = QUIESCE_TIMEOUT_MS): Promise<QuiesceResult> {
    return this.fence(await this.bus.waitAsync(this.bus.seq, timeoutMs));
  }

  private fence(late: number[]): QuiesceResult {
    if (late.length === 0) return { ok: true, fenced: [] };
    for (const s of late) this.bus.release(s);
    this.onLate?.(late);
    return { ok: false, fenced: late };
  }
}
