/**
 * The request ring between the pool (main thread) and one translation
 * worker, in one SharedArrayBuffer. Atomics touch only the index and state
 * words, each on its own 64-byte line; request fields are plain f64s
 * written before the HEAD store that publishes them (and read after the
 * Atomics.load that sees it), so the sequentially consistent index words
 * order them.
 *
 *   line 0  HEAD    requests posted (main writes)      STOP (main asks the worker to end)
 *   line 1  TAIL    requests completed (worker writes) STATE (STARTING / READY / FAILED)
 *   line 2  MAIL    messages posted on the worker's port (buffer registrations)
 *   slots   RING_SLOTS x SLOT_F64 f64: ctx, access, input buffer, output buffer, first index, count,
 *           faults, status (iovas[first..first+count) of the input translate into the same indexes of the output)
 */
export const RING_SLOTS = 4;
export const SLOT_F64 = 8;
const LINE_WORDS = 16;

export const W_HEAD = 0;
export const W_STOP = 1;
export const W_TAIL = LINE_WORDS;
export const W_STATE = LINE_WORDS + 1;
export const W_MAIL = 2 * LINE_WORDS;
const CONTROL_WORDS = 3 * LINE_WORDS;

export const STATE_STARTING = 0;
export const STATE_READY = 1;
/** The worker caught an exception and is exiting. */
export const STATE_FAILED = 2;

/** Slot fields. */
export const R_CTX = 0;
export const R_ACCESS = 1;
export const R_IN_BUF = 2;
export const R_OUT_BUF = 3;
export const R_FIRST = 4;
export const R_COUNT = 5;
export const R_FAULTS = 6;
export const R_STATUS = 7;

export const STATUS_OK = 1;
export const STATUS_ERROR = 2;

/** `access` values for fault-injection drills (tests): the worker throws, or spins without polling. */
export const ACCESS_CRASH = -1;
export const ACCESS_HANG = -2;

export class Ring {
  readonly ctl: Int32Array;
  readonly slots: Float64Array;

  constructor(readonly sab: SharedArrayBuffer) {
    this.ctl = new Int32Array(sab, 0, CONTROL_WORDS);
    this.slots = new Float64Array(sab, CONTROL_WORDS * 4, RING_SLOTS * SLOT_F64);
  }

  static create(): Ring {
    return new Ring(new SharedArrayBuffer(CONTROL_WORDS * 4 + RING_SLOTS * SLOT_F64 * 8));
  }

  /** Index in `slots` of request number n. */
  static slot(n: number): number {
    return (n % RING_SLOTS) * SLOT_F64;
  }
}
