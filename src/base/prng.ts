/**
 * Seeded randomness (DESIGN "Determinism"). xorshift32 is the generator of
 * the standard IOTLB workload (shared/bench/IOTLB-WORKLOAD.md):
 * x ^= x << 13; x ^= x >>> 17; x ^= x << 5, over a uint32 state.
 */
export class Xorshift32 {
  private x: number;

  constructor(seed: number) {
    this.x = seed >>> 0 || 0x9e3779b9;
  }

  /** Next uint32. */
  next(): number {
    let x = this.x;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    this.x = x;
    return x;
  }

  /** Uniform integer in [0, n) by modulo, as the workload defines it. */
  below(n: number): number {
    return this.next() % n;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.next() / 0x1_0000_0000;
  }

  /** A generator for a named sub-stream, so that adding one consumer does not shift the others. */
  fork(label: string): Xorshift32 {
    let h = this.x ^ 0x811c9dc5;
    for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
    return new Xorshift32(h || 1);
  }
}
