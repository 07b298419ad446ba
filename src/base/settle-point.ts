/** Work a backend runs on another thread (a vhost worker's round), completed by the machine at its sync points. */
export interface AsyncBackend {
  /**
   * Waits for the step in flight, applies its results on the machine
   * thread (answers, interrupts through SettlePoint.defer) and, when the
   * backend needs another step, starts it; true when a step is in flight
   * again.
   */
  step(): boolean;
}

/**
 * The machine's sync point for asynchronous backends, as a vCPU meets a
 * vhost kernel thread: a guest kick starts work on the backend's thread
 * and returns (the ioeventfd); the machine completes what is outstanding
 * when the guest next looks (settle), or a single backend when the
 * machine needs it quiet (settleOne: reset, stop, an IOTLB invalidation,
 * a notifier change). Completion is deterministic whatever the threads'
 * timing: backends are stepped round-robin in the order they first
 * started work, every step's results are applied on the machine thread
 * in that order, and the interrupts they raise are delivered after the
 * loop, in the order raised. `onBusy` hears when the first work starts and
 * when everything is complete (the machine arms and disarms its CPU-side
 * hook with it).
 */
export class SettlePoint {
  private readonly order = new Map<AsyncBackend, number>();
  private pending: AsyncBackend[] = [];
  private readonly deferred: (() => void)[] = [];
  private settling = false;

  constructor(private readonly onBusy?: (busy: boolean) => void) {}

  /** Some backend has a step in flight. */
  get busy(): boolean {
    return this.pending.length > 0;
  }

  /** How many backends have a step in flight. */
  get inFlight(): number {
    return this.pending.length;
  }

  /** `b` started a step: it is completed at the next settle (or settleOne). */
  started(b: AsyncBackend): void {
    if (this.pending.includes(b)) return;
    if (!this.order.has(b)) this.order.set(b, this.order.size);
    const rank = this.order.get(b)!;
    const at = this.pending.findIndex((x) => this.order.get(x)! > rank);
    if (at < 0) this.pending.push(b);
    else this.pending.splice(at, 0, b);
    if (this.pending.length === 1) this.onBusy?.(true);
  }

  /** Forgets a backend that went away (its step, if any, was completed by its owner). */
  remove(b: AsyncBackend): void {
    this.drop(b);
    this.order.delete(b);
  }

  /** Runs `f` after the current settle loop (an interrupt), or now outside one. */
  defer(f: () => void): void {
    if (this.settling) this.deferred.push(f);
    else f();
  }

  /** Completes every backend's outstanding work (a no-op inside a settle loop). */
  settle(): void {
    if (this.settling || this.pending.length === 0) return;
    this.loop(() => {
      while (this.pending.length > 0) {
        for (const b of [...this.pending]) if (!b.step()) this.drop(b);
      }
    });
  }

  /** Completes one backend's outstanding work; the others stay in flight. */
  settleOne(b: AsyncBackend): void {
    if (!this.pending.includes(b)) return;
    this.loop(() => {
      while (b.step());
      this.drop(b);
    });
  }

  private loop(body: () => void): void {
    const outer = this.settling;
    this.settling = true;
    try {
      body();
    } finally {
      this.settling = outer;
    }
    if (outer) return;
    for (let f = this.deferred.shift(); f; f = this.deferred.shift()) f();
  }

  private drop(b: AsyncBackend): void {
    const i = this.pending.indexOf(b);
    if (i < 0) return;
    this.pending.splice(i, 1);
    if (this.pending.length === 0) this.onBusy?.(false);
  }
}
