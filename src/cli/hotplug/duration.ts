/** Nanoseconds per unit, as QEMU spells durations (qemu_strtosz-like suffixes on the virtual clock). */
const UNITS: Readonly<Record<string, number>> = { ns: 1, us: 1e3, ms: 1e6, s: 1e9 };

/**
 * A duration in virtual time: "100ms", "6s", "1.5s", "250us", "10ns", or a
 * plain number of nanoseconds (as qtest's clock_step takes). Returns the
 * nanoseconds, or an error text saying what is accepted.
 */
export function parseDuration(v: unknown): number | string {
  if (typeof v === 'number') {
    return Number.isSafeInteger(v) && v >= 0 ? v : `${v} is not a whole, non-negative number of nanoseconds`;
  }
  if (typeof v !== 'string') return 'expected a duration like "100ms" or "6s"';
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ns|us|ms|s)\s*$/.exec(v);
  if (!m) return `'${v}' is not a duration (a number with ns, us, ms or s, e.g. "100ms", "6s")`;
  const ns = Math.round(Number(m[1]) * UNITS[m[2]!]!);
  return Number.isSafeInteger(ns) ? ns : `'${v}' is too long`;
}

/** "6s", "100ms", "1.5s": the shortest exact spelling of a virtual-time span. */
export function formatDuration(ns: number): string {
  for (const [u, f] of [['s', 1e9], ['ms', 1e6], ['us', 1e3]] as const) {
    if (ns >= f && Number.isInteger((ns / f) * 1000)) return `${ns / f}${u}`;
  }
  return `${ns}ns`;
}

/** Virtual time as a timestamp: "12.345678s". */
export function formatTime(ns: number): string {
  return `${(ns / 1e9).toFixed(6)}s`;
}
