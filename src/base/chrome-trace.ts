import type { TraceArgs, TraceEvent, TraceSink } from './trace.js';

/** One Chrome trace-event object (the JSON Object Format of the Trace Event Format document). */
export interface ChromeTraceEvent {
  readonly name: string;
  readonly cat?: string;
  readonly ph: 'B' | 'E' | 'X' | 'i' | 'M';
  /** Microseconds (of virtual time). */
  readonly ts: number;
  readonly dur?: number;
  readonly pid: number;
  readonly tid: number;
  /** Instant scope: t (thread). */
  readonly s?: 't';
  readonly args?: TraceArgs;
}

export interface ChromeTraceFile {
  readonly traceEvents: ChromeTraceEvent[];
  readonly displayTimeUnit: 'ns';
  readonly otherData: Readonly<Record<string, string | number>>;
}

/** Events kept at most (a long benchmark can miss millions of times); the rest are counted as dropped. */
export const DEFAULT_TRACE_LIMIT = 1_000_000;

/**
 * A TraceSink that builds Chrome trace-event JSON (viewable in Perfetto
 * and chrome://tracing): each group becomes a process (pid, named with a
 * process_name metadata event), each track a thread in it (tid,
 * thread_name); timestamps are virtual time in microseconds (ns / 1000,
 * fractional). Events past `limit` are dropped and counted.
 */
export class ChromeTrace implements TraceSink {
  readonly events: ChromeTraceEvent[] = [];
  dropped = 0;
  private readonly pids = new Map<string, number>();
  private readonly tids = new Map<string, number>();
  private readonly meta: ChromeTraceEvent[] = [];

  constructor(private readonly limit = DEFAULT_TRACE_LIMIT) {}

  record(e: TraceEvent): void {
    if (this.events.length >= this.limit) {
      this.dropped++;
      return;
    }
    let pid = this.pids.get(e.group);
    if (pid === undefined) {
      pid = this.pids.size + 1;
      this.pids.set(e.group, pid);
      this.meta.push({ name: 'process_name', ph: 'M', ts: 0, pid, tid: 0, args: { name: e.group } });
    }
    const key = `${pid}\u0000${e.track}`;
    let tid = this.tids.get(key);
    if (tid === undefined) {
      tid = this.tids.size + 1;
      this.tids.set(key, tid);
      this.meta.push({ name: 'thread_name', ph: 'M', ts: 0, pid, tid, args: { name: e.track } });
    }
    this.events.push({
      name: e.name, cat: e.cat, ph: e.ph, ts: e.ts / 1000, pid, tid,
      ...(e.dur !== undefined ? { dur: e.dur / 1000 } : {}),
      ...(e.ph === 'i' ? { s: 't' as const } : {}),
      ...(e.args ? { args: e.args } : {}),
    });
  }

  /** The trace file: metadata first, then the events in recording order. */
  toJSON(): ChromeTraceFile {
    return {
      traceEvents: [...this.meta, ...this.events],
      displayTimeUnit: 'ns',
      otherData: { producer: 'viommu', clock: 'virtual time (ts in microseconds)', dropped: this.dropped },
    };
  }
}
