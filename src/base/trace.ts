/**
 * Tracing on the virtual-time axis. Each machine owns one Tracer (its
 * MemorySystem's `tracer`); the DMA path's hook points (DMA tap, IOTLB
 * miss/fill, invalidations and their completion, notifier deliveries,
 * hotplug steps) test `tracer.on` and only then build an event, so a
 * machine with no sink attached pays one field load at those points and
 * nothing on the IOTLB hit path. A sink (ChromeTrace, chrome-trace.ts)
 * receives the events; `viommu ... --trace FILE.json` attaches one.
 */

/** Chrome trace-event phases: B/E a nested span, X a complete span, i an instant. */
export type TracePhase = 'B' | 'E' | 'X' | 'i';

/** Event arguments (shown by Perfetto in the event's details). */
export type TraceArgs = Readonly<Record<string, string | number | boolean>>;

/**
 * Where an event happens: a group (Chrome "process": "devices", "vIOMMU",
 * "hotplug", "vhost") and a track in it (Chrome "thread": a device, a
 * vIOMMU, a notifier's region).
 */
export interface TraceTrack {
  readonly group: string;
  readonly track: string;
}

export interface TraceEvent extends TraceTrack {
  readonly ph: TracePhase;
  /** Category: dma, iotlb, inv, notify, vhost, hotplug. */
  readonly cat: string;
  readonly name: string;
  /** Virtual time in ns. */
  readonly ts: number;
  /** Duration in virtual ns (X events). */
  readonly dur?: number;
  readonly args?: TraceArgs;
}

/** Receives the events of an attached tracer. */
export interface TraceSink {
  record(e: TraceEvent): void;
}

/** A machine's tracer: off (no sink) until `attach`. */
export class Tracer {
  /** True while a sink is attached; hook points test it before doing any work. */
  on = false;
  private sink: TraceSink | undefined;
  private now: () => number = () => 0;

  /** Sends events to `sink`, stamped with `now()` (the machine's virtual clock, ns). */
  attach(sink: TraceSink, now: () => number): void {
    this.sink = sink;
    this.now = now;
    this.on = true;
  }

  detach(): void {
    this.sink = undefined;
    this.on = false;
  }

  /** Virtual time of the events (ns). */
  time(): number {
    return this.now();
  }

  /** Opens a span on a track; close it with `end` (same track, same name) at a later or equal time. */
  begin(where: TraceTrack, cat: string, name: string, args?: TraceArgs): void {
    this.emit('B', where, cat, name, this.now(), undefined, args);
  }

  end(where: TraceTrack, cat: string, name: string, args?: TraceArgs): void {
    this.emit('E', where, cat, name, this.now(), undefined, args);
  }

  /** A span that started at `startNs` and ends now (or a zero-length one when startNs is omitted). */
  complete(where: TraceTrack, cat: string, name: string, args?: TraceArgs, startNs?: number): void {
    const t = this.now();
    const ts = startNs === undefined ? t : Math.min(startNs, t);
    this.emit('X', where, cat, name, ts, t - ts, args);
  }

  instant(where: TraceTrack, cat: string, name: string, args?: TraceArgs): void {
    this.emit('i', where, cat, name, this.now(), undefined, args);
  }

  private emit(ph: TracePhase, where: TraceTrack, cat: string, name: string, ts: number, dur: number | undefined, args: TraceArgs | undefined): void {
    this.sink?.record({ ph, group: where.group, track: where.track, cat, name, ts, ...(dur !== undefined ? { dur } : {}), ...(args ? { args } : {}) });
  }
}

/** "0x1000" for trace arguments. */
export function hex(v: number): string {
  return `0x${v.toString(16)}`;
}
