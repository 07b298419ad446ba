import { readVhostMsg, VHOST_MSG_SIZE, writeVhostMsg, type VhostMsg } from './msg.js';

/**
 * The shared words between the machine side of a vhost device and its
 * worker thread (the "vhost fd" and the vring configuration ioctls), in one
 * SharedArrayBuffer. Atomics touch only the index and state words below,
 * each group on its own 64-byte line; message bytes, vring fields and
 * observation records are plain accesses ordered by the index stores that
 * publish them.
 *
 *   line 0  REQ      work posted by the machine (bumped after kicks and messages), KICK (vq bitmask, Atomics.or)
 *   line 1  DONE     the REQ value the worker has fully handled, STATE, BUSY (inside a round)
 *   line 2  TW_HEAD  machine -> worker messages posted, TW_TAIL applied by the worker
 *   line 3  TM_HEAD  worker -> machine messages posted, TM_TAIL consumed by the machine
 *   line 4  OBS_HEAD observation records posted, OBS_TAIL consumed, OBS_ON (the machine wants them)
 *   line 5  STOP, MAIN_WAKE (bumped + notified whenever the worker has something for the machine), CRASH (test drills)
 *   then    TW ring (vhost_msg_v2 slots), TM ring (vhost_msg_v2 slots), vring table (f64), observation ring (f64),
 *           clock (f64: the virtual time at which the current round's translations start), stats (f64)
 */
const LINE = 16;
export const W_REQ = 0;
export const W_KICK = 1;
export const W_DONE = LINE;
export const W_STATE = LINE + 1;
export const W_BUSY = LINE + 2;
export const W_TW_HEAD = 2 * LINE;
export const W_TW_TAIL = 2 * LINE + 1;
export const W_TM_HEAD = 3 * LINE;
export const W_TM_TAIL = 3 * LINE + 1;
export const W_OBS_HEAD = 4 * LINE;
export const W_OBS_TAIL = 4 * LINE + 1;
export const W_OBS_ON = 4 * LINE + 2;
export const W_STOP = 5 * LINE;
export const W_MAIN_WAKE = 5 * LINE + 1;
/** Fault-injection drills (tests): the worker throws (1) or hangs (2) in its next round after this many packets. */
export const W_CRASH = 5 * LINE + 2;
export const W_CRASH_AFTER = 5 * LINE + 3;
const CONTROL_WORDS = 6 * LINE;

export const STATE_STARTING = 0;
export const STATE_READY = 1;
export const STATE_FAILED = 2;
/** The worker ended itself after an idle period; the machine starts another at the next kick (the vring indices stay here). */
export const STATE_IDLE = 3;
export const CRASH_THROW = 1;
export const CRASH_HANG = 2;

export const MSG_SLOTS = 256;
/** Up to 2 queue pairs: rx0 tx0 rx1 tx1. */
export const MAX_VQS = 4;
/**
 * Per-vq fields (f64): NUM (0: not running), DESC, AVAIL, USED (ring addresses:
 * IOVAs with an IOTLB, else guest-physical), LAST_AVAIL and USED_IDX (the
 * worker's, VHOST_SET/GET_VRING_BASE), CALLS (interrupts the worker asked
 * for), EVENT_IDX (VIRTIO_RING_F_EVENT_IDX negotiated), ERROR (a vq_err:
 * the vq stopped), PENDING_MISS (iova of an unanswered miss, -1 none).
 */
export const VQ_NUM = 0;
export const VQ_DESC = 1;
export const VQ_AVAIL = 2;
export const VQ_USED = 3;
export const VQ_LAST_AVAIL = 4;
export const VQ_USED_IDX = 5;
export const VQ_CALLS = 6;
export const VQ_EVENT_IDX = 7;
export const VQ_ERROR = 8;
export const VQ_PENDING_MISS = 9;
export const VQ_FIELDS = 16;

/** Observation record (f64): iova, length, write, outcome (0 ok, 1 fault, 2 error), gpa (-1 none), time. */
export const OBS_FIELDS = 6;
export const OBS_SLOTS = 8192;
export const OBS_OK = 0;
export const OBS_FAULT = 1;
export const OBS_ERROR = 2;

/** Stats (f64): packets sent to the wire, received into the guest, bytes each way, misses sent, updates applied, invalidations applied. */
export const ST_TX_PACKETS = 0;
export const ST_RX_PACKETS = 1;
export const ST_TX_BYTES = 2;
export const ST_RX_BYTES = 3;
export const ST_MISSES = 4;
export const ST_UPDATES = 5;
export const ST_INVALIDATES = 6;
export const ST_ACCESS_FAILS = 7;
const STATS = 8;

export class VhostChannel {
  readonly ctl: Int32Array;
  readonly tw: DataView;
  readonly tm: DataView;
  readonly vq: Float64Array;
  readonly obs: Float64Array;
  readonly clock: Float64Array;
  readonly stats: Float64Array;

  constructor(readonly sab: SharedArrayBuffer) {
    let off = CONTROL_WORDS * 4;
    this.ctl = new Int32Array(sab, 0, CONTROL_WORDS);
    this.tw = new DataView(sab, off, MSG_SLOTS * VHOST_MSG_SIZE);
    off += MSG_SLOTS * VHOST_MSG_SIZE;
    this.tm = new DataView(sab, off, MSG_SLOTS * VHOST_MSG_SIZE);
    off += MSG_SLOTS * VHOST_MSG_SIZE;
    this.vq = new Float64Array(sab, off, MAX_VQS * VQ_FIELDS);
    off += MAX_VQS * VQ_FIELDS * 8;
    this.obs = new Float64Array(sab, off, OBS_SLOTS * OBS_FIELDS);
    off += OBS_SLOTS * OBS_FIELDS * 8;
    this.clock = new Float64Array(sab, off, 1);
    off += 8;
    this.stats = new Float64Array(sab, off, STATS);
  }

  static bytes(): number {
    return CONTROL_WORDS * 4 + 2 * MSG_SLOTS * VHOST_MSG_SIZE + (MAX_VQS * VQ_FIELDS + OBS_SLOTS * OBS_FIELDS + 1 + STATS) * 8;
  }

  static create(): VhostChannel {
    const c = new VhostChannel(new SharedArrayBuffer(VhostChannel.bytes()));
    for (let i = 0; i < MAX_VQS; i++) c.vq[i * VQ_FIELDS + VQ_PENDING_MISS] = -1;
    return c;
  }

  /** Machine -> worker: a message on the TW ring; false when the ring is full. */
  postToWorker(m: VhostMsg): boolean {
    const head = Atomics.load(this.ctl, W_TW_HEAD);
    if (head - Atomics.load(this.ctl, W_TW_TAIL) >= MSG_SLOTS) return false;
    writeVhostMsg(this.tw, (head % MSG_SLOTS) * VHOST_MSG_SIZE, m);
    Atomics.store(this.ctl, W_TW_HEAD, head + 1);
    return true;
  }

  /** Worker -> machine: a message on the TM ring; false when full. */
  postToMachine(m: VhostMsg): boolean {
    const head = Atomics.load(this.ctl, W_TM_HEAD);
    if (head - Atomics.load(this.ctl, W_TM_TAIL) >= MSG_SLOTS) return false;
    writeVhostMsg(this.tm, (head % MSG_SLOTS) * VHOST_MSG_SIZE, m);
    Atomics.store(this.ctl, W_TM_HEAD, head + 1);
    this.wakeMachine();
    return true;
  }

  /** The next message for the worker (raw: the type word may be anything a writer put there), or undefined. */
  takeForWorker(): VhostMsg | null | undefined {
    const tail = Atomics.load(this.ctl, W_TW_TAIL);
    if (tail === Atomics.load(this.ctl, W_TW_HEAD)) return undefined;
    const m = readVhostMsg(this.tw, (tail % MSG_SLOTS) * VHOST_MSG_SIZE);
    Atomics.store(this.ctl, W_TW_TAIL, tail + 1);
    return m ?? null;
  }

  takeForMachine(): VhostMsg | null | undefined {
    const tail = Atomics.load(this.ctl, W_TM_TAIL);
    if (tail === Atomics.load(this.ctl, W_TM_HEAD)) return undefined;
    const m = readVhostMsg(this.tm, (tail % MSG_SLOTS) * VHOST_MSG_SIZE);
    Atomics.store(this.ctl, W_TM_TAIL, tail + 1);
    return m ?? null;
  }

  /** Machine: more work (kicked vqs, messages) for the worker; returns the request number to wait for. */
  request(kickMask = 0): number {
    if (kickMask) Atomics.or(this.ctl, W_KICK, kickMask);
    const r = Atomics.add(this.ctl, W_REQ, 1) + 1;
    Atomics.notify(this.ctl, W_REQ);
    return r;
  }

  wakeMachine(): void {
    Atomics.add(this.ctl, W_MAIN_WAKE, 1);
    Atomics.notify(this.ctl, W_MAIN_WAKE);
  }

  vqField(vq: number, f: number): number {
    return this.vq[vq * VQ_FIELDS + f]!;
  }
  setVqField(vq: number, f: number, v: number): void {
    this.vq[vq * VQ_FIELDS + f] = v;
  }
}
