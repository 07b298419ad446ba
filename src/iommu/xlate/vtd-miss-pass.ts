import { Iotlb } from '../iotlb/iotlb.js';
import { FIELDS } from '../iotlb/layout.js';
import type { GuestRamView } from '../walk/guest-ram-view.js';
import {
  vtdSlInterruptRange, vtdSlLeafCheck, vtdSlLeafRsvdHi, vtdSlLeafRsvdLo, vtdSlOutput,
} from '../walk/vtd-sl.js';
import type { WalkCache } from './walk-cache.js';

/** What the pass needs from its engine. */
export interface MissPassHost {
  readonly iotlb: Iotlb;
  readonly walkCache: WalkCache;
  readonly ram: GuestRamView;
  readonly missIdx: Int32Array;
  /** The general miss path: walk, fill; the address or -reason. */
  slowMiss(ctx: number, iova: number, access: number, b: number, stale: number): number;
}

/**
 * The miss pass of TranslationEngine.translateBatch for a VT-d
 * second-level context (hawBits and flags from its context entry). The
 * common miss, a 4 KiB page whose last-level table is in the walk cache,
 * is served here in one entry read, with the checks of walk/vtd-sl.ts
 * (permission, reserved bits, interrupt range); everything else (walk-cache
 * misses, faults, superpages, stale entries) takes the general path.
 * Returns the number of faults.
 */
export function vtdMissPass(h: MissPassHost, c: number, access: number, hawBits: number, flags: number,
  iovas: Float64Array, n: number, out: Float64Array): number {
  const tlb = h.iotlb;
  const ent = tlb.ent;
  const pwc = h.walkCache;
  const ram = h.ram;
  const missIdx = h.missIdx;
  const salt = Iotlb.salt(c, 12) | 0;
  const mask = tlb.setMask | 0;
  const w = tlb.ways | 0;
  const stride = (w * FIELDS) | 0;
  const acc = access | 0;
  const rsvdLo = vtdSlLeafRsvdLo(flags);
  const rsvdHi = vtdSlLeafRsvdHi(hawBits, flags);
  const lru = tlb.policy === 'lru';
  let misses = 0;
  let faults = 0;
  for (let i = 0; i < n; i++) {
    const k = missIdx[i]!;
    const iova = iovas[k]!;
    const vpn = Math.floor(iova / 4096);
    const b = (((vpn | 0) ^ salt) & mask) * stride;
    // An earlier miss of this pass may have filled the page.
    let s = tlb.probe4k(b, vpn, c);
    if (s < 0 && tlb.hasLarge) s = tlb.lookupLarge(c, iova);
    if (s >= 0 && (ent[s + 3 * w]! & acc) === acc) {
      if (lru) tlb.touch(s);
      out[k] = iova + ent[s + 2 * w]!;
      continue;
    }
    misses++;
    const p = s < 0 ? pwc.lookup(c, Math.floor(vpn / 512), 21) : -1;
    if (p >= 0) {
      const e = ram.entry((pwc.tableLo[p]! >>> 0) + (vpn & 511) * 8, pwc.tableHi[p]!);
      if (e >= 0) {
        const lo = ram.mem[e]!;
        const hi = ram.mem[e + 1]!;
        const addr = vtdSlOutput(lo, hi, hawBits);
        if (vtdSlLeafCheck(lo, hi, acc, rsvdLo, rsvdHi) === 0 && !vtdSlInterruptRange(addr, 4096)) {
          const delta = addr - vpn * 4096;
          tlb.fill(b, c, vpn, delta, (pwc.perm[p]! & lo & 3) | (12 << 8));
          out[k] = iova + delta;
          continue;
        }
      }
    }
    const r = h.slowMiss(c, iova, acc, b, s);
    if (r < 0) faults++;
    out[k] = r;
  }
  tlb.count(n - misses, misses);
  return faults;
}
