import type { GuestRamView } from './guest-ram-view.js';
import { WALK_NONE, WALK_WRITE, type WalkResult } from './walk-result.js';

/**
 * VT-d fault reasons a second-level walk produces (Intel VT-d spec 3.4,
 * section 7.1.3 "Fault reasons"; QEMU VTDFaultReason, ref/smmuv3-vtd.md B7).
 */
export const VTD_FR_CONTEXT_ENTRY_INV = 0x3;
export const VTD_FR_ADDR_BEYOND_MGAW = 0x4;
export const VTD_FR_WRITE = 0x5;
export const VTD_FR_READ = 0x6;
export const VTD_FR_PAGING_ENTRY_INV = 0x7;
export const VTD_FR_PAGING_ENTRY_RSVD = 0xc;
export const VTD_FR_INTERRUPT_ADDR = 0xe;

/** Walk options: SNP (bit 11) is allowed with snoop control; TM (bit 62) in leaves with device-TLB + stale-tm. */
export const VTD_SL_SNOOP = 1;
export const VTD_SL_TM = 2;

/** The interrupt address range a translation may not reach (VT-d 3.14). */
const INTR_FIRST = 0xfee00000;
const INTR_LAST = 0xfeefffff;
const TWO32 = 0x1_0000_0000;
/** 4 KiB pages per entry at each level (index 1..5). */
const LEVEL_DIV = [0, 1, 2 ** 9, 2 ** 18, 2 ** 27, 2 ** 36];

/** Adjusted guest address width of an L-level table: 39, 48, 57 bits (context-entry AW). */
export function vtdAgawBits(levels: number): number {
  return 30 + 9 * (levels - 2);
}

/**
 * Second-level (second-stage) table walk, QEMU vtd_iova_to_sspte
 * (ref/smmuv3-vtd.md B3). 512 eight-byte entries per level; index =
 * (iova >> (12 + 9 * (level - 1))) & 0x1ff. Entry: R bit 0, W bit 1, PS bit
 * 7 (leaf at levels 2 and 3), address [HAW-1:12]; bits 63 and [61:52] are
 * ignored. At every level, in this order: a failed read (CONTEXT_ENTRY_INV
 * at the top level, PAGING_ENTRY_INV below), the permission for the access
 * (READ / WRITE; an entry with neither R nor W is not present), reserved
 * bits (PAGING_ENTRY_RSVD: SNP bit 11 unless snoop control, address bits
 * at and above HAW, TM bit 62 except in leaves with VTD_SL_TM, PS at level
 * 4 and 5, [20:12] of a 2M leaf, [29:12] of a 1G leaf). The granted
 * permission is the AND across levels. An output range overlapping
 * 0xFEE00000-0xFEEFFFFF faults INTERRUPT_ADDR.
 *
 * `access` is WALK_NONE (report permissions), WALK_READ or WALK_WRITE;
 * returns 0 or a VT-d fault reason. The walk reads at most `levels`
 * entries, so no table (however hostile) can make it loop.
 */
export function vtdSlWalk(ram: GuestRamView, root: number, levels: number, mgawBits: number, hawBits: number,
  flags: number, iova: number, access: number, out: WalkResult): number {
  out.level = levels;
  out.entryAddr = root;
  if (levels < 3 || levels > 5 || hawBits <= 32 || hawBits > 52) return VTD_FR_CONTEXT_ENTRY_INV;
  const inputBits = Math.min(vtdAgawBits(levels), mgawBits);
  if (iova < 0 || iova >= 2 ** inputBits) return VTD_FR_ADDR_BEYOND_MGAW;
  // Reserved bits of the high half: address bits [51:HAW], and TM (bit 62).
  const hawHi = (1 << (hawBits - 32)) - 1;
  const hiAddrRsvd = 0xfffff & ~hawHi;
  const TM_HI = 1 << 30;
  const snp = flags & VTD_SL_SNOOP ? 0 : 0x800;
  const need = access === WALK_NONE ? 3 : access;
  const vpn = Math.floor(iova / 4096);
  let table = root;
  let perm = 3;
  for (let level = levels; level >= 1; level--) {
    const shift = 12 + 9 * (level - 1);
    const idx = Math.floor(vpn / LEVEL_DIV[level]!) % 512;
    const ea = table + idx * 8;
    out.level = level;
    out.entryAddr = ea;
    if (!ram.ld64le(ea)) return level === levels ? VTD_FR_CONTEXT_ENTRY_INV : VTD_FR_PAGING_ENTRY_INV;
    const lo = ram.lo;
    const hi = ram.hi;
    perm &= lo & 3;
    if ((lo & need) === 0) {
      return access === WALK_WRITE ? VTD_FR_WRITE : VTD_FR_READ;
    }
    const ps = (lo & 0x80) !== 0;
    const leaf = level === 1 || (ps && (level === 2 || level === 3));
    let loRsvd = snp;
    if (level >= 4) loRsvd |= 0x80;
    else if (leaf && level === 2) loRsvd |= 0x1ff000;
    else if (leaf && level === 3) loRsvd |= 0x3ffff000;
    const tmRsvd = leaf && flags & VTD_SL_TM ? 0 : TM_HI;
    if ((lo & loRsvd) !== 0 || (hi & (hiAddrRsvd | tmRsvd)) !== 0) return VTD_FR_PAGING_ENTRY_RSVD;
    const addr = (hi & hawHi) * TWO32 + ((lo & 0xfffff000) >>> 0);
    if (leaf) {
      const size = 2 ** shift;
      if (!(addr > INTR_LAST || addr + size - 1 < INTR_FIRST)) return VTD_FR_INTERRUPT_ADDR;
      out.addr = addr;
      out.shift = shift;
      out.perm = perm;
      return 0;
    }
    table = addr;
  }
  return VTD_FR_PAGING_ENTRY_INV;
}
