import type { VirtualClock } from './clock.js';

/** Severity of a log line (kernel-log style). */
export type LogLevel = 'err' | 'warn' | 'info' | 'debug';

export interface LogLine {
  /** Virtual time in ns. */
  readonly t: number;
  readonly level: LogLevel;
  /** Subsystem or device, e.g. "DMAR", "vhost", "pci 0000:00:03.0". */
  readonly source: string;
  readonly text: string;
}

/** Lines a log keeps (a guest that makes a device log on every access must not grow it without bound). */
export const EVENT_LOG_MAX_LINES = 100_000;

/**
 * A machine's log: dmesg-style lines stamped with virtual time, kept in
 * order for boot reports and tests, optionally echoed to a sink. It keeps
 * at most `maxLines`: past that the oldest tenth goes (counted in
 * `dropped`), like a kernel ring buffer; the sink still sees every line.
 */
export class EventLog {
  readonly lines: LogLine[] = [];
  sink: ((line: string) => void) | undefined;
  /** Lines removed to stay within maxLines. */
  dropped = 0;

  constructor(private readonly clock: VirtualClock, private readonly maxLines = EVENT_LOG_MAX_LINES) {}

  log(level: LogLevel, source: string, text: string): void {
    const line = { t: this.clock.now, level, source, text };
    this.lines.push(line);
    if (this.lines.length > this.maxLines) {
      const n = Math.max(1, Math.floor(this.maxLines / 10));
      this.lines.splice(0, n);
      this.dropped += n;
    }
    this.sink?.(formatLogLine(line));
  }
  err(source: string, text: string): void {
    this.log('err', source, text);
  }
  warn(source: string, text: string): void {
    this.log('warn', source, text);
  }
  info(source: string, text: string): void {
    this.log('info', source, text);
  }

  /** Lines whose text or source matches. */
  grep(re: RegExp): LogLine[] {
    return this.lines.filter((l) => re.test(l.text) || re.test(l.source));
  }
}

/** "[    0.100000] DMAR: text", as the kernel prints it. */
export function formatLogLine(l: LogLine): string {
  const s = Math.floor(l.t / 1e9);
  const us = Math.floor((l.t % 1e9) / 1e3);
  return `[${String(s).padStart(5)}.${String(us).padStart(6, '0')}] ${l.source}: ${l.text}`;
}
