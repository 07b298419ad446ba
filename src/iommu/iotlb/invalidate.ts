import { POW2 } from '../walk/walk-result.js';
import type { Iotlb } from './iotlb.js';
import { FIELDS, MAX_SHIFT } from './layout.js';

/** Calls fn(slot) for every valid slot of the IOTLB. */
function forEachSlot(tlb: Iotlb, fn: (s: number) => void): void {
  const w = tlb.ways;
  const e = tlb.ent;
  for (let b = 0; b < e.length; b += FIELDS * w) {
    for (let s = b; s < b + w; s++) if (e[s + 3 * w] !== 0) fn(s);
  }
}

/**
 * IOTLB invalidation by range: removes every entry of `ctx` (null: any
 * context) whose page or block overlaps [start, start + size), so that a
 * 4 KiB invalidation inside a 2 MiB entry removes the 2 MiB entry (VT-d
 * PSI, SMMU TLBI_NH_VA, a virtio-iommu UNMAP, H_PUT_TCE, vhost INVALIDATE).
 * `size` may be 2^64. It probes the sets the range maps to, size by size,
 * when that takes fewer probes than there are sets, and scans otherwise
 * (and for "any context", whose entries hash to any set).
 */
export function invalidateRange(tlb: Iotlb, ctx: number | null, start: number, size: number): number {
  const end = start + size;
  const c = (ctx ?? 0) | 0;
  let probes = 0;
  for (let s = 12; s < MAX_SHIFT && probes <= tlb.sets; s++) {
    if (tlb.shiftCount[s]! > 0) probes += Math.floor((end - 1) / POW2[s]!) - Math.floor(start / POW2[s]!) + 1;
  }
  let removed = 0;
  if (ctx === null || probes > tlb.sets) {
    const w = tlb.ways;
    forEachSlot(tlb, (s) => {
      const first = tlb.ent[s]! * 4096;
      const last = first + POW2[tlb.ent[s + 3 * w]! >>> 8]!;
      if ((ctx === null || tlb.ent[s + w] === c) && first < end && last > start) {
        tlb.drop(s);
        removed++;
      }
    });
    return removed;
  }
  for (let shift = 12; shift < MAX_SHIFT; shift++) {
    if (tlb.shiftCount[shift] === 0) continue;
    const lastPn = Math.floor((end - 1) / POW2[shift]!);
    for (let pn = Math.floor(start / POW2[shift]!); pn <= lastPn; pn++) {
      const slot = tlb.probe(c, pn, pn * POW2[shift - 12]!, shift);
      if (slot >= 0) {
        tlb.drop(slot);
        removed++;
      }
    }
  }
  return removed;
}

/** Removes every entry of a context (VT-d domain-selective, SMMU by ASID/VMID, a LIOBN). */
export function invalidateContext(tlb: Iotlb, ctx: number): number {
  let removed = 0;
  const w = tlb.ways;
  forEachSlot(tlb, (s) => {
    if (tlb.ent[s + w] === (ctx | 0)) {
      tlb.drop(s);
      removed++;
    }
  });
  return removed;
}
