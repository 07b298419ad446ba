/**
 * SharedArrayBuffer layout of an IOTLB (see iotlb.ts). Every array starts on
 * a 64-byte line; the three counters sit on three separate lines so that the
 * owner's updates never share a line with anything another thread reads.
 *
 * Entries live in `ent` (f64) one set after another. A set of W ways is a
 * block of 4W values: W tags (first 4 KiB page number), W context tags, W
 * deltas (translated - iova), W meta words (perm | shift << 8). With 4 ways a
 * block is two cache lines: the probe reads one (tags and contexts), a hit
 * reads the other. A slot is the index of its tag in `ent`; its other
 * fields are at slot + W, slot + 2W, slot + 3W.
 */
export const LINE = 64;

/** Counter indexes, in Float64 units: one 64-byte line each. */
export const CTR_HITS = 0;
export const CTR_MISSES = 8;
export const CTR_EVICTIONS = 16;
const COUNTER_BYTES = 3 * LINE;

/** Field offsets within a set block, in multiples of the way count. */
export const F_VPN = 0;
export const F_CTX = 1;
export const F_DELTA = 2;
export const F_META = 3;
export const FIELDS = 4;

/** Size shifts tracked (page and block sizes 2^12 .. 2^63). */
export const MAX_SHIFT = 64;

export interface IotlbLayout {
  readonly sets: number;
  readonly ways: number;
  readonly bytes: number;
  readonly counters: number;
  readonly ent: number;
  readonly age: number;
  readonly fifo: number;
  readonly valid: number;
  readonly shiftCount: number;
}

function up(n: number): number {
  return Math.ceil(n / LINE) * LINE;
}

export function iotlbLayout(sets: number, ways: number): IotlbLayout {
  const cap = sets * ways;
  let at = 0;
  const take = (bytes: number) => {
    const o = at;
    at = up(at + bytes);
    return o;
  };
  const counters = take(COUNTER_BYTES);
  const ent = take(cap * FIELDS * 8);
  const age = take(cap * 4);
  const fifo = take(sets * 4);
  const valid = take(sets * 4);
  const shiftCount = take(MAX_SHIFT * 4);
  return { sets, ways, bytes: at, counters, ent, age, fifo, valid, shiftCount };
}
