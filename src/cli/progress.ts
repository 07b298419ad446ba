/**
 * Progress bars for long runs (bench sweeps, the matrix, fuzzing): one line
 * on stderr, redrawn in place with "\r", showing a bar, done/total, the
 * percentage and an estimate of the time left. Drawn only when the stream
 * is a terminal; quiet when it is not (pipes, CI logs, tests) or when the
 * caller asks (`--json`). The estimate uses the wall clock (this is about
 * the user's time, not the machine's virtual time).
 *
 * Usage (matrix, fuzz and bench alike):
 *
 *   const bar = startProgress({ label: 'matrix', total: cells.length, stream: io.stderr, quiet: json });
 *   for (const c of cells) { run(c); bar.tick(1, c.name); }
 *   bar.done();
 */

/** Where the bar goes: process.stderr, or a fake terminal in tests. */
export interface ProgressStream {
  write(s: string): unknown;
  /** True on a terminal (process.stderr.isTTY); the bar is drawn only then. */
  isTTY?: boolean;
  /** Terminal width (process.stderr.columns); 80 when unknown. */
  columns?: number;
}

export interface ProgressOptions {
  /** What is running, printed before the bar ("bench iotlb"); '' for none. */
  readonly label: string;
  /** Number of steps (sweep points, matrix cells, fuzz cases); 0 when not known yet (see setTotal). */
  readonly total: number;
  readonly stream: ProgressStream;
  /** Never draw (e.g. with --json). */
  readonly quiet?: boolean;
  /** Wall clock in ms (default performance.now); tests pass a fake one. */
  readonly now?: () => number;
  /** Minimum ms between redraws (default 100); the first and last are always drawn. */
  readonly minIntervalMs?: number;
}

/** A running bar. Every method is a no-op when the bar is quiet. */
export interface Progress {
  /** True when the bar is drawn (stream is a TTY and not quiet). */
  readonly drawn: boolean;
  /** `n` more steps done; `note` names the current one ("workers=2"). */
  tick(n?: number, note?: string): void;
  /** Sets the count of steps done. */
  update(done: number, note?: string): void;
  /** Sets the number of steps once it is known (e.g. from the first progress callback). */
  setTotal(total: number): void;
  /** Clears the bar's line (call once, when the run ends, before printing results). */
  done(): void;
}

/** "1:05", "0:07", "1:02:03". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * The bar's text for `done` of `total` after `elapsedMs` (no "\r"), at most
 * `width` characters: "label [#####-----] 3/10  30% ETA 0:12 note".
 * The estimate is elapsed/done * (total - done), shown once a step is done;
 * a total of 0 (not known yet) shows "done/?" and no estimate.
 */
export function progressLine(label: string, done: number, total: number, elapsedMs: number, width: number, note = ''): string {
  if (total <= 0) {
    const line = `${label ? `${label} ` : ''}[${'-'.repeat(10)}] ${done}/? ETA --:--${note ? ` ${note}` : ''}`;
    return line.length > width ? line.slice(0, Math.max(0, width - 1)) : line;
  }
  const frac = Math.min(1, done / total);
  const pct = `${String(Math.floor(frac * 100)).padStart(3)}%`;
  const eta = done > 0 && done < total ? ` ETA ${formatDuration((elapsedMs / done) * (total - done))}` : done >= total ? ` ${formatDuration(elapsedMs)}` : ' ETA --:--';
  const count = `${done}/${total}`;
  const head = label ? `${label} ` : '';
  const fixed = `${head}[] ${count} ${pct}${eta}`;
  const barWidth = Math.max(5, Math.min(30, width - fixed.length - 1));
  const filled = Math.round(frac * barWidth);
  let line = `${head}[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}] ${count} ${pct}${eta}`;
  if (note) line += ` ${note}`;
  return line.length > width ? line.slice(0, Math.max(0, width - 1)) : line;
}

class TtyProgress implements Progress {
  readonly drawn = true;
  private count = 0;
  private readonly t0: number;
  private lastDraw = -Infinity;
  private finished = false;
  private total: number;

  constructor(private readonly o: ProgressOptions, private readonly now: () => number) {
    this.total = Math.max(0, o.total);
    this.t0 = now();
    this.draw('');
  }

  tick(n = 1, note?: string): void {
    this.update(this.count + n, note);
  }

  update(done: number, note?: string): void {
    if (this.finished) return;
    this.count = Math.max(0, this.total > 0 ? Math.min(done, this.total) : done);
    const t = this.now();
    if ((this.total === 0 || this.count < this.total) && t - this.lastDraw < (this.o.minIntervalMs ?? 100)) return;
    this.draw(note ?? '');
  }

  setTotal(total: number): void {
    this.total = Math.max(0, total);
  }

  done(): void {
    if (this.finished) return;
    this.finished = true;
    this.o.stream.write('\r\x1b[K');
  }

  private draw(note: string): void {
    const t = this.now();
    this.lastDraw = t;
    const width = (this.o.stream.columns ?? 80) || 80;
    this.o.stream.write(`\r${progressLine(this.o.label, this.count, this.total, t - this.t0, width, note)}\x1b[K`);
  }
}

const QUIET: Progress = Object.freeze({ drawn: false, tick() {}, update() {}, setTotal() {}, done() {} });

/** Starts a bar: drawn on a TTY stream, a silent no-op otherwise (or with `quiet`). */
export function startProgress(o: ProgressOptions): Progress {
  if (o.quiet || o.stream.isTTY !== true) return QUIET;
  return new TtyProgress(o, o.now ?? (() => performance.now()));
}
