import { IOMMU_NONE, type AddressSpace } from '../../memory/index.js';
import { IOMMU_NOTIFIER_MAP, IOMMU_NOTIFIER_UNMAP, type IOMMUTLBEvent } from '../notifier.js';
import type { GuestRamView } from '../walk/guest-ram-view.js';
import { VTD_SL_SNOOP, VTD_SL_TM } from '../walk/vtd-sl.js';
import { POW2 } from '../walk/walk-result.js';
import type { IovaTree } from './vtd-iova-tree.js';

const TWO32 = 0x1_0000_0000;

/** Constant information of one walk (QEMU vtd_page_walk_info). */
export interface VtdPageWalkInfo {
  readonly ram: GuestRamView;
  readonly awBits: number;
  /** VTD_SL_* flags: which of SNP / TM are legal (reserved-bit checks). */
  readonly walkFlags: number;
  /** Send UNMAP for invalid ranges that the tree says were mapped (shadow sync); replay sends MAPs only. */
  readonly notifyUnmap: boolean;
  readonly tree: IovaTree;
  readonly target: AddressSpace | null;
  readonly hook: (event: IOMMUTLBEvent) => void;
}

/**
 * vtd_slpte_nonzero_rsvd for the walk (spec 9.8; QEMU vtd_spte_rsvd*):
 * address bits [51:aw-bits] always; SNP (bit 11) unless snoop control; TM
 * (bit 62) except in leaves with device-IOTLB; PS at level 4; [20:12] of a
 * 2M leaf, [29:12] of a 1G leaf. Bits 63 and [61:52] are ignored.
 */
export function vtdSlpteReserved(lo: number, hi: number, level: number, awBits: number, flags: number): boolean {
  const above = (0xfffff & ~((1 << (awBits - 32)) - 1)) >>> 0;
  const snp = flags & VTD_SL_SNOOP ? 0 : 0x800;
  const large = (level === 2 || level === 3) && (lo & 0x80) !== 0;
  const leaf = level === 1 || large;
  const tm = leaf && flags & VTD_SL_TM ? 0 : 1 << 30;
  let rlo = snp;
  if (level === 4) rlo |= 0x80;
  else if (large) rlo |= level === 2 ? 0x1ff000 : 0x3ffff000;
  return (lo & rlo) !== 0 || (hi & (above | tm)) !== 0;
}

/** vtd_page_walk_one: the IOVA tree decides which events reach the hook. */
function walkOne(info: VtdPageWalkInfo, type: number, iova: number, mask: number, translated: number, perm: number): void {
  const tree = info.tree;
  const mapped = tree.find(iova, mask);
  if (type === IOMMU_NOTIFIER_UNMAP && !info.notifyUnmap) return;
  if (type === IOMMU_NOTIFIER_MAP) {
    if (mapped) {
      if (mapped.iova === iova && mapped.size === mask && mapped.translated === translated && mapped.perm === perm) return;
      // The translation changed: UNMAP the old one, then MAP.
      info.hook(event(info, IOMMU_NOTIFIER_UNMAP, iova, mask, translated, IOMMU_NONE));
      tree.remove(iova, mask);
    }
    tree.insert({ iova, size: mask, translated, perm });
  } else {
    if (!mapped) return;
    tree.remove(iova, mask);
  }
  info.hook(event(info, type, iova, mask, translated, perm));
}

function event(info: VtdPageWalkInfo, type: number, iova: number, mask: number, translated: number, perm: number): IOMMUTLBEvent {
  return {
    type,
    entry: { targetAs: info.target, iova: BigInt(iova), translatedAddr: BigInt(translated), addrMask: BigInt(mask), perm },
  };
}

/**
 * vtd_page_walk_level: the entries of the table at `table` covering [start,
 * end) at `level`, permissions stacked with the parents'. A valid
 * non-leaf entry is walked into; a leaf or an invalid entry becomes one
 * event for its whole span (MAP with the permission, UNMAP when there is
 * none). Unreadable entries and entries with reserved bits are skipped.
 */
export function vtdPageWalkLevel(info: VtdPageWalkInfo, table: number, start: number, end: number, level: number,
  read: boolean, write: boolean): void {
  const shift = 12 + 9 * (level - 1);
  const span = POW2[shift]!;
  const hawHi = (1 << (info.awBits - 32)) - 1;
  for (let iova = start; iova < end;) {
    const base = Math.floor(iova / span) * span;
    const next = base + span;
    const at = table + (Math.floor(iova / span) % 512) * 8;
    if (info.ram.ld64le(at) && !vtdSlpteReserved(info.ram.lo, info.ram.hi, level, info.awBits, info.walkFlags)) {
      const lo = info.ram.lo;
      const hi = info.ram.hi;
      const r = read && (lo & 1) !== 0;
      const w = write && (lo & 2) !== 0;
      const addr = (hi & hawHi) * TWO32 + ((lo & 0xfffff000) >>> 0);
      const last = level === 1 || (lo & 0x80) !== 0;
      if (!last && (r || w)) {
        vtdPageWalkLevel(info, addr, iova, Math.min(next, end), level - 1, r, w);
      } else {
        const perm = (r ? 1 : 0) | (w ? 2 : 0);
        walkOne(info, perm ? IOMMU_NOTIFIER_MAP : IOMMU_NOTIFIER_UNMAP, base, span - 1, addr, perm);
      }
    }
    iova = next;
  }
}

/**
 * vtd_page_walk over [start, end) of a context's table (`levels` from its
 * AW); nothing when start is beyond the address width, and end is cut to
 * 2^min(AGAW, aw-bits).
 */
export function vtdPageWalk(info: VtdPageWalkInfo, root: number, levels: number, start: number, end: number): void {
  const limit = POW2[Math.min(30 + 9 * (levels - 2), info.awBits)]!;
  if (start >= limit) return;
  vtdPageWalkLevel(info, root, start, Math.min(end, limit), levels, true, true);
}
