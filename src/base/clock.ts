/**
 * The machine's virtual clock (nanoseconds) and timers on it, as QEMU's
 * QEMU_CLOCK_VIRTUAL under accel=qtest: time advances only when the machine
 * steps it, and timers fire in deadline order (ties in arming order). Device
 * models never read the wall clock.
 */
export class Timer {
  /** Absolute deadline in ns, or -1 when not armed. */
  deadline = -1;
  /** Arming order, to break deadline ties deterministically. */
  seq = 0;

  constructor(private readonly clock: VirtualClock, readonly callback: () => void, readonly name = 'timer') {}

  /** timer_mod: (re)arm at an absolute virtual time. */
  mod(deadlineNs: number): void {
    this.clock.arm(this, Math.max(deadlineNs, this.clock.now));
  }

  /** Arms `delayNs` after the current virtual time. */
  modIn(delayNs: number): void {
    this.mod(this.clock.now + delayNs);
  }

  /** timer_del. */
  del(): void {
    this.clock.disarm(this);
  }

  get pending(): boolean {
    return this.deadline >= 0;
  }
}

export class VirtualClock {
  private nowNs = 0;
  private armed: Timer[] = [];
  private nextSeq = 0;

  get now(): number {
    return this.nowNs;
  }

  timer(callback: () => void, name?: string): Timer {
    return new Timer(this, callback, name);
  }

  /** @internal used by Timer. */
  arm(t: Timer, deadline: number): void {
    this.disarm(t);
    t.deadline = deadline;
    t.seq = this.nextSeq++;
    this.armed.push(t);
  }

  /** @internal used by Timer. */
  disarm(t: Timer): void {
    if (t.deadline < 0) return;
    const i = this.armed.indexOf(t);
    if (i >= 0) this.armed.splice(i, 1);
    t.deadline = -1;
  }

  /** The earliest armed deadline, or undefined when no timer is armed. */
  nextDeadline(): number | undefined {
    let best: Timer | undefined;
    for (const t of this.armed) if (!best || t.deadline < best.deadline || (t.deadline === best.deadline && t.seq < best.seq)) best = t;
    return best?.deadline;
  }

  /**
   * Advances to `targetNs`, firing every timer due on the way at its own
   * deadline (a callback may arm more timers). Returns the new time.
   */
  advanceTo(targetNs: number): number {
    if (targetNs < this.nowNs) targetNs = this.nowNs;
    for (;;) {
      let due: Timer | undefined;
      for (const t of this.armed) {
        if (t.deadline <= targetNs && (!due || t.deadline < due.deadline || (t.deadline === due.deadline && t.seq < due.seq))) due = t;
      }
      if (!due) break;
      this.nowNs = due.deadline;
      this.disarm(due);
      due.callback();
    }
    this.nowNs = targetNs;
    return this.nowNs;
  }

  /** qtest clock_step: by `ns`, or to the next deadline when omitted. */
  step(ns?: number): number {
    if (ns === undefined) {
      const d = this.nextDeadline();
      return d === undefined ? this.nowNs : this.advanceTo(d);
    }
    return this.advanceTo(this.nowNs + ns);
  }
}

export const NS_PER_MS = 1_000_000;
export const NS_PER_S = 1_000_000_000;
