import { IOMMU_RO } from '../../memory/index.js';
import { Iotlb } from '../iotlb/iotlb.js';
import { FIELDS } from '../iotlb/layout.js';
import { LPAE_AFFD } from '../walk/lpae.js';
import type { MissPassHost } from './vtd-miss-pass.js';

/**
 * The miss pass of TranslationEngine.translateBatch for an Arm LPAE
 * stage-1 context with the 4 KiB granule (SMMUv3 CDs; oasBits and flags
 * from the context). The common miss, a page whose level-3 table is in the
 * walk cache, is served here in one descriptor read with the checks of
 * walk/lpae.ts (descriptor type 0b11, output address below 2^OAS, AF unless
 * AFFD, AP[2] and the APTable permission above); everything else (walk
 * cache misses, faults, blocks, stale entries) takes the general path.
 * Returns the number of faults.
 */
export function lpaeMissPass(h: MissPassHost, c: number, access: number, oasBits: number, flags: number,
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
  const oasHiMask = ((1 << (oasBits - 32)) - 1) | 0;
  const afCheck = (flags & LPAE_AFFD) === 0;
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
    // Level-3 tables of the 4 KiB granule cover 2 MiB (walk-cache region shift 21).
    const p = s < 0 ? pwc.lookup(c, Math.floor(vpn / 512), 21) : -1;
    if (p >= 0) {
      const e = ram.entry((pwc.tableLo[p]! >>> 0) + (vpn & 511) * 8, pwc.tableHi[p]!);
      if (e >= 0) {
        const lo = ram.mem[e]!;
        const hi = ram.mem[e + 1]!;
        const ahi = hi & 0xffff;
        if ((lo & 3) === 3 && (ahi & ~oasHiMask) === 0 && (!afCheck || (lo & 0x400) !== 0)) {
          const perm = lo & 0x80 ? pwc.perm[p]! & IOMMU_RO : pwc.perm[p]!;
          if ((perm & acc) === acc) {
            const delta = ahi * 0x1_0000_0000 + ((lo & 0xfffff000) >>> 0) - vpn * 4096;
            tlb.fill(b, c, vpn, delta, perm | (12 << 8));
            out[k] = iova + delta;
            continue;
          }
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
