import type { GuestRamView } from '../walk/guest-ram-view.js';
import { VTD_FR_CONTEXT_ENTRY_INV } from '../walk/vtd-sl.js';

/** Fault reasons of the root/context lookup (spec 7.1.3; QEMU VTDFaultReason; ref/smmuv3-vtd.md B7). */
export const VTD_FR_ROOT_ENTRY_P = 0x1;
export const VTD_FR_CONTEXT_ENTRY_P = 0x2;
export const VTD_FR_ROOT_TABLE_INV = 0x8;
export const VTD_FR_CONTEXT_TABLE_INV = 0x9;
export const VTD_FR_ROOT_ENTRY_RSVD = 0xa;
export const VTD_FR_CONTEXT_ENTRY_RSVD = 0xb;
/** PCE for translation request specifies blocking (a translated request into a context without TT=1). */
export const VTD_FR_CONTEXT_ENTRY_TT = 0xd;

/** Context-entry translation types (spec 9.3, TT [3:2]). */
export const VTD_TT_MULTI_LEVEL = 0;
export const VTD_TT_DEV_IOTLB = 1;
export const VTD_TT_PASS_THROUGH = 2;

/** A decoded legacy context entry (spec 9.3). */
export class VtdContext {
  /** Domain identifier, hi [23:8]. */
  did = 0;
  /** Translation type, lo [3:2]. */
  tt = 0;
  /** Page-table levels: 2 + AW (hi [2:0]). */
  levels = 0;
  /** Second-level page-table pointer, lo [63:12]. */
  slptptr = 0;
  /** Fault processing disable, lo bit 1 (meaningful once the context entry was read). */
  fpd = false;
  /** Raw entry (lo, hi quadwords as u32 halves), for `info iommu`. */
  lo = 0;
  loHi = 0;
  hi = 0;
  hiHi = 0;
}

/** What the lookup needs from the device's configuration. */
export interface VtdContextParams {
  /** aw-bits: bits above it in table pointers are reserved. */
  readonly awBits: number;
  /** CAP.SAGAW, bit n for an (n + 2)-level table. */
  readonly sagaw: number;
  readonly dt: boolean;
  readonly pt: boolean;
}

const TWO32 = 0x1_0000_0000;

/**
 * vtd_dev_to_context_entry, legacy mode (spec 3.4.2, 9.1, 9.3; QEMU
 * ref/smmuv3-vtd.md B2): the root entry indexed by bus at the latched root
 * table address, then the context entry indexed by devfn. Checks, in
 * QEMU's order: root read (ROOT_TABLE_INV), root P (ROOT_ENTRY_P), root
 * reserved bits (hi = 0, lo [11:1], address bits at and above aw-bits:
 * ROOT_ENTRY_RSVD), context read (CONTEXT_TABLE_INV), context P
 * (CONTEXT_ENTRY_P), context reserved bits (lo [11:4] and above aw-bits,
 * hi bit 7 and [63:24]: CONTEXT_ENTRY_RSVD), AW supported by SAGAW and TT
 * allowed by ECAP (CONTEXT_ENTRY_INV). Returns 0 or the fault reason; `ce`
 * is filled as far as it was read (its FPD decides whether a qualified
 * fault is recorded).
 */
export function vtdLookupContext(ram: GuestRamView, root: number, p: VtdContextParams, bus: number, devfn: number,
  ce: VtdContext): number {
  ce.fpd = false;
  const hawHiMask = ~((1 << (p.awBits - 32)) - 1) >>> 0;
  const re = root + bus * 16;
  if (!ram.ld64le(re)) return VTD_FR_ROOT_TABLE_INV;
  const rlo = ram.lo;
  const rhi = ram.hi;
  if (!ram.ld64le(re + 8)) return VTD_FR_ROOT_TABLE_INV;
  const r2lo = ram.lo;
  const r2hi = ram.hi;
  if (!(rlo & 1)) return VTD_FR_ROOT_ENTRY_P;
  if (r2lo !== 0 || r2hi !== 0 || (rlo & 0xffe) !== 0 || (rhi & hawHiMask) !== 0) return VTD_FR_ROOT_ENTRY_RSVD;
  const ctp = rhi * TWO32 + ((rlo & 0xfffff000) >>> 0);
  const at = ctp + devfn * 16;
  if (!ram.ld64le(at)) return VTD_FR_CONTEXT_TABLE_INV;
  ce.lo = ram.lo;
  ce.loHi = ram.hi;
  if (!ram.ld64le(at + 8)) return VTD_FR_CONTEXT_TABLE_INV;
  ce.hi = ram.lo;
  ce.hiHi = ram.hi;
  ce.fpd = (ce.lo & 2) !== 0;
  ce.tt = (ce.lo >>> 2) & 3;
  ce.did = (ce.hi >>> 8) & 0xffff;
  ce.levels = 2 + (ce.hi & 7);
  ce.slptptr = ce.loHi * TWO32 + ((ce.lo & 0xfffff000) >>> 0);
  if (!(ce.lo & 1)) return VTD_FR_CONTEXT_ENTRY_P;
  if ((ce.lo & 0xff0) !== 0 || (ce.loHi & hawHiMask) !== 0 || (ce.hi & 0xff000080) !== 0 || ce.hiHi !== 0) {
    return VTD_FR_CONTEXT_ENTRY_RSVD;
  }
  if (!(p.sagaw & (1 << (ce.levels - 2)))) return VTD_FR_CONTEXT_ENTRY_INV;
  if (ce.tt === 3 || (ce.tt === VTD_TT_DEV_IOTLB && !p.dt) || (ce.tt === VTD_TT_PASS_THROUGH && !p.pt)) {
    return VTD_FR_CONTEXT_ENTRY_INV;
  }
  return 0;
}
