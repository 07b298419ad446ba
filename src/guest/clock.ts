/** What the guest clock needs from the port (GuestPort.now / advance). */
export interface TimeSource {
  now(): number;
  advance(ns: number): void;
}

interface Armed {
  deadline: number;
  seq: number;
  readonly timer: GuestTimer;
}

/** A guest-kernel timer (Linux timer_list): fires when the guest's time passes its deadline. */
export class GuestTimer {
  constructor(private readonly clock: GuestClock, readonly callback: () => void, readonly name: string) {}
  /** mod_timer: arm at an absolute virtual time (ns). */
  mod(deadline: number): void {
    this.clock.arm(this, deadline);
  }
  modIn(ns: number): void {
    this.clock.arm(this, this.clock.now() + ns);
  }
  del(): void {
    this.clock.disarm(this);
  }
  get pending(): boolean {
    return this.clock.isArmed(this);
  }
}

/**
 * The guest's view of time. Time belongs to the machine (GuestPort.now and
 * advance); the guest only waits. Guest timers (the DMA flush-queue timeout)
 * fire at their own deadlines while the guest waits, in deadline order, ties
 * in arming order, so runs are deterministic.
 */
export class GuestClock {
  private armed: Armed[] = [];
  private seq = 0;

  constructor(private readonly src: TimeSource) {}

  now(): number {
    return this.src.now();
  }

  timer(callback: () => void, name = 'timer'): GuestTimer {
    return new GuestTimer(this, callback, name);
  }

  /** @internal */
  arm(t: GuestTimer, deadline: number): void {
    this.disarm(t);
    this.armed.push({ deadline: Math.max(deadline, this.now()), seq: this.seq++, timer: t });
  }
  /** @internal */
  disarm(t: GuestTimer): void {
    const i = this.armed.findIndex((a) => a.timer === t);
    if (i >= 0) this.armed.splice(i, 1);
  }
  /** @internal */
  isArmed(t: GuestTimer): boolean {
    return this.armed.some((a) => a.timer === t);
  }

  private nextDue(limit: number): Armed | undefined {
    let best: Armed | undefined;
    for (const a of this.armed) {
      if (a.deadline <= limit && (!best || a.deadline < best.deadline || (a.deadline === best.deadline && a.seq < best.seq))) best = a;
    }
    return best;
  }

  /** The earliest armed guest-timer deadline (ns), or undefined when none is armed. */
  nextDeadline(): number | undefined {
    return this.nextDue(Infinity)?.deadline;
  }

  /** The guest waits `ns` of virtual time; machine timers and guest timers fire on the way. */
  sleep(ns: number): void {
    const target = this.now() + Math.max(0, ns);
    for (;;) {
      const due = this.nextDue(target);
      if (!due) break;
      const now = this.now();
      if (due.deadline > now) this.src.advance(due.deadline - now);
      this.armed.splice(this.armed.indexOf(due), 1);
      due.timer.callback();
    }
    const now = this.now();
    if (target > now) this.src.advance(target - now);
  }

  /** Runs guest timers whose deadline has passed (after the machine moved time). */
  runDue(): void {
    this.sleep(0);
  }

  /**
   * Waits in steps of `stepNs` until `done()` holds or `timeoutNs` passed;
   * returns whether it held (a driver polling a status register).
   */
  pollUntil(done: () => boolean, stepNs: number, timeoutNs: number): boolean {
    const end = this.now() + timeoutNs;
    for (;;) {
      if (done()) return true;
      const left = end - this.now();
      if (left <= 0) return false;
      this.sleep(Math.min(stepNs, left));
    }
  }
}
