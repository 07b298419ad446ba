import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { ShootdownReceiver } from '../coherence/receiver.js';
import { ShootdownBus, type ShootdownBusDescriptor } from '../coherence/shootdown-bus.js';
import { Iotlb, type IotlbDescriptor } from '../iotlb/iotlb.js';
import { GuestRamView, type GuestRamViewDescriptor } from '../walk/guest-ram-view.js';
import { ContextTable, type ContextTableDescriptor } from '../xlate/context-table.js';
import { TranslationEngine } from '../xlate/engine.js';
import {
  ACCESS_CRASH, ACCESS_HANG, R_ACCESS, R_COUNT, R_CTX, R_FAULTS, R_FIRST, R_IN_BUF, R_OUT_BUF, R_STATUS, Ring, STATE_FAILED,
  STATE_READY, STATUS_ERROR, STATUS_OK, W_HEAD, W_MAIL, W_STATE, W_STOP, W_TAIL,
} from './ring.js';

/** What a translation worker receives at start-up (workerData). */
export interface WorkerInit {
  readonly ring: SharedArrayBuffer;
  readonly port: MessagePort;
  readonly ram: GuestRamViewDescriptor;
  readonly contexts: ContextTableDescriptor;
  readonly bus: ShootdownBusDescriptor;
  readonly busSlot: number;
  readonly iotlb: IotlbDescriptor;
  readonly walkCacheSize: number;
  /** Buffers registered so far: [id, SharedArrayBuffer]. */
  readonly buffers: readonly (readonly [number, SharedArrayBuffer])[];
}

/** A buffer registration (or, with sab null, its release) sent on the worker's port. */
export interface BufferMessage {
  readonly id: number;
  readonly sab: SharedArrayBuffer | null;
}

/** Translations between two polls of the shootdown bus (bounds how long a quiesce waits). */
export const CHUNK = 4096;
/** How long an idle worker sleeps before re-checking STOP. */
const IDLE_WAIT_MS = 200;

/**
 * The body of a translation worker: wait for requests on the ring (Atomics
 * on the index words only), translate them through this thread's own
 * engine in chunks, polling the shootdown bus between chunks, and publish
 * completion. An exception marks the ring FAILED and ends the thread; the
 * pool sees the exit, and retries or fails the batch.
 */
export function runWorker(init: WorkerInit): void {
  const ring = new Ring(init.ring);
  const ctl = ring.ctl;
  const engine = new TranslationEngine(GuestRamView.fromDescriptor(init.ram), new ContextTable(init.contexts),
    new Iotlb(init.iotlb), init.walkCacheSize);
  const rx = new ShootdownReceiver(new ShootdownBus(init.bus), init.busSlot, engine);
  const buffers = new Map<number, Float64Array>();
  for (const [id, sab] of init.buffers) buffers.set(id, new Float64Array(sab));
  let mailSeen = 0;
  const drainMail = () => {
    for (let m = receiveMessageOnPort(init.port); m; m = receiveMessageOnPort(init.port)) {
      const msg = m.message as BufferMessage;
      if (msg.sab) buffers.set(msg.id, new Float64Array(msg.sab));
      else buffers.delete(msg.id);
      mailSeen++;
    }
  };
  let taken = Atomics.load(ctl, W_TAIL);
  Atomics.store(ctl, W_STATE, STATE_READY);
  Atomics.notify(ctl, W_STATE);
  for (;;) {
    if (Atomics.load(ctl, W_STOP) !== 0) return;
    if (Atomics.load(ctl, W_HEAD) === taken) {
      Atomics.wait(ctl, W_HEAD, taken, IDLE_WAIT_MS);
      continue;
    }
    if (Atomics.load(ctl, W_MAIL) !== mailSeen) drainMail();
    const o = Ring.slot(taken);
    const s = ring.slots;
    rx.enter();
    try {
      if (s[o + R_ACCESS] === ACCESS_CRASH) throw new Error('injected translation-worker fault');
      while (s[o + R_ACCESS] === ACCESS_HANG) Atomics.load(ctl, W_STOP); // spins, never polls, until terminated (drill)
      const iovas = buffers.get(s[o + R_IN_BUF]!);
      const out = buffers.get(s[o + R_OUT_BUF]!);
      if (!iovas || !out) throw new Error(`unknown buffer ${s[o + R_IN_BUF]} or ${s[o + R_OUT_BUF]}`);
      const ctx = s[o + R_CTX]!;
      const access = s[o + R_ACCESS]!;
      const first = s[o + R_FIRST]!;
      const end = first + s[o + R_COUNT]!;
      let faults = 0;
      for (let k = first; k < end; k += CHUNK) {
        faults += engine.translateBatch(ctx, access, iovas, k, Math.min(end, k + CHUNK), out);
        rx.poll();
      }
      s[o + R_FAULTS] = faults;
      s[o + R_STATUS] = STATUS_OK;
    } catch (e) {
      s[o + R_STATUS] = STATUS_ERROR;
      Atomics.store(ctl, W_STATE, STATE_FAILED);
      rx.leave();
      throw e;
    }
    rx.leave();
    taken++;
    Atomics.store(ctl, W_TAIL, taken);
    Atomics.notify(ctl, W_TAIL);
  }
}
