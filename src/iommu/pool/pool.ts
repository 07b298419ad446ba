import { MessageChannel, Worker } from 'node:worker_threads';
import { ConfigError } from '../../base/index.js';
import type { IotlbCoherence } from '../coherence/coherence.js';
import { waitAsync } from '../coherence/wait-async.js';
import { Iotlb, type IotlbOptions } from '../iotlb/iotlb.js';
import type { GuestRamView } from '../walk/guest-ram-view.js';
import {
  ACCESS_CRASH, ACCESS_HANG, R_ACCESS, R_COUNT, R_CTX, R_FAULTS, R_FIRST, R_IN_BUF, R_OUT_BUF, R_STATUS, Ring, RING_SLOTS,
  STATE_READY, STATUS_OK, W_HEAD, W_MAIL, W_STATE, W_STOP, W_TAIL,
} from './ring.js';
import { CHUNK, type WorkerInit } from './worker-loop.js';
import { workerExecArgv, type Handle, type Piece } from './handle.js';

export interface PoolOptions {
  readonly workers: number;
  readonly ram: GuestRamView;
  /** The vIOMMU's coherence: its bus and context table are shared with the workers; quiesce fences late workers here. */
  readonly coherence: IotlbCoherence;
  /** Each worker's own IOTLB. */
  readonly iotlb?: IotlbOptions;
  readonly walkCacheSize?: number;
  /** A request not completed in this time marks its worker hung: it is replaced and the request retried once. */
  readonly requestTimeoutMs?: number;
  readonly startTimeoutMs?: number;
}

export interface BatchResult {
  readonly faults: number;
}

/** A batch that could not be translated (its worker died twice, or the pool closed). */
export class PoolError extends Error {
  override readonly name = 'PoolError';
}

/**
 * A pool of translation workers (node:worker_threads). Workers share guest
 * RAM, the context table and the shootdown bus with the vIOMMU and keep
 * their own IOTLB; batches travel through SharedArrayBuffer rings
 * (ring.ts). A worker that throws, exits, or misses a deadline is detected
 * (the 'exit' event, or a bounded wait), its unfinished batches are
 * retried once elsewhere, and a replacement is spawned; no caller waits
 * forever. postMessage carries only start-up data and buffer registrations.
 */
export class TranslationPool {
  private readonly handles: Handle[] = [];
  private readonly queue: Piece[] = [];
  private readonly bufferIds = new Map<SharedArrayBuffer, number>();
  private nextBufferId = 0;
  private closing = false;
  /** Workers replaced after a crash, exit, hang or fence. */
  replacements = 0;
  /** Batches re-posted after their worker was lost. */
  retries = 0;
  /** Messages of worker errors, oldest first. */
  readonly errors: string[] = [];
  private readonly timeoutMs: number;

  private constructor(private readonly opts: PoolOptions) {
    this.timeoutMs = opts.requestTimeoutMs ?? 30_000;
    opts.coherence.onLate = (slots) => this.fence(slots);
  }

  static async start(opts: PoolOptions): Promise<TranslationPool> {
    if (!Number.isInteger(opts.workers) || opts.workers < 1 || opts.workers > 32) {
      throw new ConfigError('workers', `${opts.workers} is not 1..32`);
    }
    const pool = new TranslationPool(opts);
    await Promise.all(Array.from({ length: opts.workers }, (_, i) => pool.spawn(i)));
    return pool;
  }

  get size(): number {
    return this.handles.length;
  }

  /** The IOTLB of each worker (read-only views: counters, entries). */
  get iotlbs(): readonly Iotlb[] {
    return this.handles.map((h) => h.iotlb);
  }

  private async spawn(index: number): Promise<void> {
    const ring = Ring.create();
    const { port1, port2 } = new MessageChannel();
    const iotlb = Iotlb.create(this.opts.iotlb);
    const busSlot = this.opts.coherence.bus.claim();
    const init: WorkerInit = {
      ring: ring.sab, port: port2, ram: this.opts.ram.descriptor(), contexts: this.opts.coherence.engine.contexts.desc,
      bus: this.opts.coherence.bus.desc, busSlot, iotlb: iotlb.descriptor(), walkCacheSize: this.opts.walkCacheSize ?? 1024,
      buffers: [...this.bufferIds].map(([sab, id]) => [id, sab] as const),
    };
    const worker = new Worker(new URL('./translate.worker.js', import.meta.url), {
      workerData: init, transferList: [port2], execArgv: workerExecArgv(),
    });
    const h: Handle = {
      index, worker, ring, post: (m) => port1.postMessage(m), busSlot, iotlb, posted: 0, completed: 0, inflight: [],
      ready: false, alive: true, fenced: false, waiting: false,
    };
    this.handles[index] = h;
    worker.on('error', (e) => this.errors.push(`worker ${index}: ${e.message}`));
    const exited = new Promise<void>((resolve) => worker.once('exit', () => {
      this.onExit(h);
      resolve();
    }));
    const deadline = performance.now() + (this.opts.startTimeoutMs ?? 10_000);
    while (Atomics.load(ring.ctl, W_STATE) !== STATE_READY) {
      if (!h.alive) throw new PoolError(`translation worker ${index} exited during start-up: ${this.errors.at(-1) ?? ''}`);
      if (performance.now() > deadline) {
        await worker.terminate();
        await exited;
        throw new PoolError(`translation worker ${index} did not start in time`);
      }
      await Promise.race([waitAsync(ring.ctl, W_STATE, Atomics.load(ring.ctl, W_STATE), 50), exited]);
    }
    h.ready = true;
  }

  /** The id workers know a SharedArrayBuffer by, registering it on first use. */
  private bufferId(sab: SharedArrayBuffer): number {
    let id = this.bufferIds.get(sab);
    if (id !== undefined) return id;
    id = this.nextBufferId++;
    this.bufferIds.set(sab, id);
    for (const h of this.handles) {
      if (!h?.alive) continue;
      h.post({ id, sab });
      Atomics.add(h.ring.ctl, W_MAIL, 1);
    }
    return id;
  }

  /** Forgets a buffer (no batch on it may be in flight): the workers drop their view of it. */
  releaseBuffer(sab: SharedArrayBuffer): void {
    const id = this.bufferIds.get(sab);
    if (id === undefined) return;
    this.bufferIds.delete(sab);
    for (const h of this.handles) {
      if (!h?.alive) continue;
      h.post({ id, sab: null });
      Atomics.add(h.ring.ctl, W_MAIL, 1);
    }
  }

  /**
   * Translates iovas[i] into out[i] for every element, split over the
   * workers. Both arrays are Float64Array views on SharedArrayBuffers,
   * starting at the same element offset. Resolves with the fault count
   * (faults are negative reasons in `out`, as TranslationEngine reports
   * them); rejects with PoolError if a piece could not be translated.
   */
  translate(ctx: number, access: number, iovas: Float64Array, out: Float64Array): Promise<BatchResult> {
    if (!(iovas.buffer instanceof SharedArrayBuffer) || !(out.buffer instanceof SharedArrayBuffer)) {
      throw new TypeError('pool buffers must be SharedArrayBuffer-backed');
    }
    if (iovas.byteOffset !== out.byteOffset || out.length < iovas.length) {
      throw new TypeError('iovas and out must start at the same element offset, out at least as long');
    }
    const inBuf = this.bufferId(iovas.buffer);
    const outBuf = this.bufferId(out.buffer);
    const first = iovas.byteOffset / 8;
    const n = iovas.length;
    const size = Math.max(CHUNK, Math.ceil(n / (this.handles.length * 4)));
    const pieces: Promise<number>[] = [];
    for (let k = 0; k < n; k += size) {
      const count = Math.min(size, n - k);
      pieces.push(new Promise<number>((done, fail) => {
        this.queue.push({ ctx, access, inBuf, outBuf, first: first + k, count, tries: 0, deadline: 0, done, fail });
      }));
    }
    this.dispatch();
    return Promise.all(pieces).then((f) => ({ faults: f.reduce((a, b) => a + b, 0) }));
  }

  /** Posts queued pieces, each to the least loaded live worker with a free ring slot. */
  private dispatch(): void {
    while (this.queue.length > 0) {
      let best: Handle | undefined;
      for (const h of this.handles) {
        if (h?.alive && h.ready && h.posted - h.completed < RING_SLOTS
          && (!best || h.posted - h.completed < best.posted - best.completed)) best = h;
      }
      if (!best) return;
      this.post(best, this.queue.shift()!);
    }
  }

  private post(h: Handle, p: Piece): void {
    const s = h.ring.slots;
    const o = Ring.slot(h.posted);
    s[o + R_CTX] = p.ctx;
    s[o + R_ACCESS] = p.access;
    s[o + R_IN_BUF] = p.inBuf;
    s[o + R_OUT_BUF] = p.outBuf;
    s[o + R_FIRST] = p.first;
    s[o + R_COUNT] = p.count;
    s[o + R_STATUS] = 0;
    p.deadline = performance.now() + this.timeoutMs;
    h.inflight.push(p);
    Atomics.store(h.ring.ctl, W_HEAD, ++h.posted);
    Atomics.notify(h.ring.ctl, W_HEAD);
    if (!h.waiting) void this.watch(h);
  }

  /** Collects a worker's completions until it has nothing in flight; bounded by the request deadline. */
  private async watch(h: Handle): Promise<void> {
    h.waiting = true;
    while (h.alive && h.inflight.length > 0) {
      await waitAsync(h.ring.ctl, W_TAIL, h.completed, h.inflight[0]!.deadline - performance.now());
      if (!h.alive) break;
      this.collect(h);
      if (h.inflight.length > 0 && performance.now() > h.inflight[0]!.deadline) {
        this.errors.push(`worker ${h.index}: request timed out after ${this.timeoutMs} ms`);
        void h.worker.terminate();
        break;
      }
      this.dispatch();
    }
    h.waiting = false;
  }

  /** Completes the pieces a worker has finished. */
  private collect(h: Handle): void {
    const tail = Atomics.load(h.ring.ctl, W_TAIL);
    while (h.completed < tail) {
      const o = Ring.slot(h.completed++);
      const p = h.inflight.shift()!;
      if (h.ring.slots[o + R_STATUS] === STATUS_OK) p.done(h.ring.slots[o + R_FAULTS]!);
      else this.retry(p, `worker ${h.index} failed the batch`);
    }
  }

  private retry(p: Piece, why: string): void {
    if (this.closing || p.access < 0 || p.tries >= 1) {
      p.fail(new PoolError(`translation batch lost: ${why}`));
      return;
    }
    p.tries++;
    this.retries++;
    this.queue.unshift(p);
  }

  /** A worker thread ended: keep what it finished (unless fenced), retry the rest, replace it. */
  private onExit(h: Handle): void {
    h.alive = false;
    this.opts.coherence.bus.release(h.busSlot);
    if (!h.fenced) this.collect(h);
    for (const p of h.inflight.splice(0).reverse()) this.retry(p, `worker ${h.index} exited`);
    if (this.closing || !h.ready) return;
    this.replacements++;
    this.spawn(h.index).then(() => this.dispatch(), (e: Error) => {
      this.errors.push(e.message);
      for (const p of this.queue.splice(0)) p.fail(new PoolError(`no translation worker: ${e.message}`));
    });
  }

  /** Workers that missed a quiesce deadline: their results are discarded and they are replaced. */
  private fence(slots: readonly number[]): void {
    for (const h of this.handles) {
      if (h?.alive && slots.includes(h.busSlot)) {
        h.fenced = true;
        this.errors.push(`worker ${h.index}: fenced (no acknowledgement before the quiesce deadline)`);
        void h.worker.terminate();
      }
    }
  }

  /** Drill: ends worker `i` abruptly (its in-flight batches are retried, the worker replaced). */
  async terminateWorker(i: number): Promise<void> {
    await this.handles[i]?.worker.terminate();
  }

  /**
   * Drill: makes worker `i` throw inside a batch (ACCESS_CRASH) or spin
   * without polling (ACCESS_HANG); that batch fails, the worker is replaced.
   */
  drill(i: number, kind: typeof ACCESS_CRASH | typeof ACCESS_HANG): Promise<BatchResult> {
    const h = this.handles[i];
    if (!h?.alive) return Promise.reject(new PoolError(`worker ${i} is not running`));
    return new Promise<number>((done, fail) => {
      this.post(h, { ctx: 0, access: kind, inBuf: 0, outBuf: 0, first: 0, count: 0, tries: 1, deadline: 0, done, fail });
    }).then((faults) => ({ faults }));
  }

  /** Stops every worker; pending batches fail. */
  async close(): Promise<void> {
    this.closing = true;
    for (const p of this.queue.splice(0)) p.fail(new PoolError('pool closed'));
    await Promise.all(this.handles.map(async (h) => {
      if (!h?.alive) return;
      Atomics.store(h.ring.ctl, W_STOP, 1);
      Atomics.notify(h.ring.ctl, W_HEAD);
      const t = setTimeout(() => void h.worker.terminate(), 2000);
      await new Promise<void>((resolve) => (h.alive ? h.worker.once('exit', () => resolve()) : resolve()));
      clearTimeout(t);
    }));
    if (this.opts.coherence.onLate) this.opts.coherence.onLate = undefined;
  }
}
