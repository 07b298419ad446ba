import { Xorshift32 } from '../../base/index.js';

/**
 * The standard IOTLB workload, iotlb-std version 1
 * (shared/bench/IOTLB-WORKLOAD.md): parameters, the mapping and the access
 * stream, all drawn from one xorshift32 generator.
 */
export const IOVA_BASE_PAGE = 0x100000;
export const DATA_BASE_PAGE = 0x10000;
export const WORKLOAD_DEFAULT_SEED = 0x9e3779b9;

export type WorkloadPattern = 'random' | 'seq';

export interface WorkloadParams {
  readonly pages: number;
  readonly ws: number;
  readonly ops: number;
  readonly pattern: WorkloadPattern;
  readonly seed: number;
}

/**
 * perm = [0..pages) shuffled by Fisher-Yates (i from pages-1 down to 1,
 * j = rng() % (i+1)); IOVA page IOVA_BASE_PAGE + i maps to DATA_BASE_PAGE +
 * perm[i]. Draws from `rng` first, as the workload requires.
 */
export function workloadMapping(pages: number, rng: Xorshift32): Uint32Array {
  const perm = new Uint32Array(pages);
  for (let i = 0; i < pages; i++) perm[i] = i;
  for (let i = pages - 1; i >= 1; i--) {
    const j = rng.next() % (i + 1);
    const t = perm[i]!;
    perm[i] = perm[j]!;
    perm[j] = t;
  }
  return perm;
}

/**
 * The stream of IOVAs, drawn after the mapping: random (p = rng() % ws,
 * off = rng() & 0xfff) or seq (p = k % ws, off = (k * 64) & 0xfff); iova =
 * (IOVA_BASE_PAGE + p) * 4096 + off. Written into a SharedArrayBuffer so
 * translation workers read it in place.
 */
export function workloadStream(p: WorkloadParams, rng: Xorshift32): Float64Array {
  const out = new Float64Array(new SharedArrayBuffer(p.ops * 8));
  for (let k = 0; k < p.ops; k++) {
    let page: number;
    let off: number;
    if (p.pattern === 'seq') {
      page = k % p.ws;
      off = (k * 64) & 0xfff;
    } else {
      page = rng.next() % p.ws;
      off = rng.next() & 0xfff;
    }
    out[k] = (IOVA_BASE_PAGE + page) * 4096 + off;
  }
  return out;
}

/** checksum = sum of (gpa mod 2^32), mod 2^32; -1 if any access faulted. */
export function workloadChecksum(gpas: Float64Array, count: number): number {
  let sum = 0;
  for (let k = 0; k < count; k++) {
    const g = gpas[k]!;
    if (g < 0) return -1;
    sum = (sum + (g % 0x1_0000_0000)) % 0x1_0000_0000;
  }
  return sum;
}
