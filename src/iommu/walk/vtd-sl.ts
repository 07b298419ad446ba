import type { GuestRamView } from './guest-ram-view.js';
import { POW2, WALK_NONE, WALK_WRITE, type WalkResult } from './walk-result.js';

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

/** 2^shift for the leaf shifts 12, 21, 30. */
const LEVEL_SIZE: readonly number[] = Array.from({ length: 31 }, (_, i) => 2 ** i);

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
  if (!(iova >= 0 && iova < POW2[inputBits]!)) return VTD_FR_ADDR_BEYOND_MGAW;
  const rlo = root >>> 0;
  return vtdSlWalkFrom(ram, rlo, (root - rlo) / 0x1_0000_0000, levels, levels, 3, hawBits, flags, iova, access, out);
}

/**
 * The walk from the table at (tlo, thi) of `level` down, with `perm` the
 * AND of the levels above it. On success `out` also says which table held
 * the leaf and the permission above it (the paging-structure cache keeps
 * them, xlate/walk-cache.ts).
 */
export function vtdSlWalkFrom(ram: GuestRamView, tlo: number, thi: number, level: number, levels: number,
  perm: number, hawBits: number, flags: number, iova: number, access: number, out: WalkResult): number {
  // Reserved bits above the leaf level: address bits [51:HAW] and TM (bit 62) in the high
  // half; SNP (bit 11) and PS at levels 4-5 in the low half. Superpage leaves: TM unless
  // VTD_SL_TM, and [20:12] of a 2M leaf, [29:12] of a 1G leaf.
  const hawHi = (1 << (hawBits - 32)) - 1;
  const hiRsvd = (0xfffff & ~hawHi) | (1 << 30);
  const hiRsvdLeaf = flags & 2 /* VTD_SL_TM */ ? hiRsvd & ~(1 << 30) : hiRsvd;
  const snp = flags & 1 /* VTD_SL_SNOOP */ ? 0 : 0x800;
  const need = access === WALK_NONE ? 3 : access;
  // The IOVA and table addresses as u32 halves, so that the walk is int arithmetic.
  const ilo = iova >>> 0;
  const ihi = (iova - ilo) / 0x1_0000_0000;
  for (; level >= 2; level--) {
    const shift = 3 + 9 * level;
    const elo = tlo + ((shift < 32 ? (ilo >>> shift) | (ihi << (32 - shift)) : ihi >>> (shift - 32)) & 511) * 8;
    const k = ram.entry(elo, thi);
    out.level = level;
    out.entryAddr = thi * 0x1_0000_0000 + elo;
    if (k < 0) return level === levels ? VTD_FR_CONTEXT_ENTRY_INV : VTD_FR_PAGING_ENTRY_INV;
    const lo = ram.mem[k]!;
    const hi = ram.mem[k + 1]!;
    if ((lo & need) === 0) return access === WALK_WRITE ? VTD_FR_WRITE : VTD_FR_READ;
    if ((lo & 0x80) !== 0 && level <= 3) {
      if ((lo & (level === 2 ? snp | 0x1ff000 : snp | 0x3ffff000)) !== 0 || (hi & hiRsvdLeaf) !== 0) {
        return VTD_FR_PAGING_ENTRY_RSVD;
      }
      out.tableLo = tlo;
      out.tableHi = thi;
      out.tablePerm = perm;
      return leafResult((hi & hawHi) * 0x1_0000_0000 + ((lo & 0xfffff000) >>> 0), shift, perm & lo & 3, out);
    }
    if ((lo & (level >= 4 ? snp | 0x80 : snp)) !== 0 || (hi & hiRsvd) !== 0) return VTD_FR_PAGING_ENTRY_RSVD;
    perm &= lo;
    tlo = (lo & 0xfffff000) >>> 0;
    thi = hi & hawHi;
  }
  out.tableLo = tlo;
  out.tableHi = thi;
  out.tablePerm = perm;
  return vtdSlLeaf(ram, tlo, thi, perm, hawBits, flags, iova, access, out);
}

/**
 * The last level: the 4 KiB entry for `iova` in the level-1 table at (tlo,
 * thi), with `perm` the AND of the levels above. Every walk ends here for
 * 4 KiB pages, and the paging-structure cache resumes here: one entry read.
 */
export function vtdSlLeaf(ram: GuestRamView, tlo: number, thi: number, perm: number, hawBits: number, flags: number,
  iova: number, access: number, out: WalkResult): number {
  const elo = tlo + ((iova >>> 12) & 511) * 8;
  const k = ram.entry(elo, thi);
  out.level = 1;
  let err = VTD_FR_PAGING_ENTRY_INV;
  if (k >= 0) {
    const lo = ram.mem[k]!;
    const hi = ram.mem[k + 1]!;
    err = vtdSlLeafCheck(lo, hi, access, vtdSlLeafRsvdLo(flags), vtdSlLeafRsvdHi(hawBits, flags));
    if (err === 0) return leafResult(vtdSlOutput(lo, hi, hawBits), 12, perm & lo & 3, out);
  }
  out.entryAddr = thi * 0x1_0000_0000 + elo;
  return err;
}

/** Reserved bits of a 4 KiB leaf, low half: SNP (bit 11) unless snoop control. */
export function vtdSlLeafRsvdLo(flags: number): number {
  return flags & 1 /* VTD_SL_SNOOP */ ? 0 : 0x800;
}

/** Reserved bits of a 4 KiB leaf, high half: address bits [51:HAW], and TM (bit 62) unless VTD_SL_TM. */
export function vtdSlLeafRsvdHi(hawBits: number, flags: number): number {
  return (0xfffff & ~((1 << (hawBits - 32)) - 1)) | (flags & 2 /* VTD_SL_TM */ ? 0 : 1 << 30);
}

/** The checks of a level-1 entry, in QEMU's order: permission for `access`, then reserved bits. 0 or a reason. */
export function vtdSlLeafCheck(lo: number, hi: number, access: number, rsvdLo: number, rsvdHi: number): number {
  if ((lo & (access === WALK_NONE ? 3 : access)) === 0) return access === WALK_WRITE ? VTD_FR_WRITE : VTD_FR_READ;
  if ((lo & rsvdLo) !== 0 || (hi & rsvdHi) !== 0) return VTD_FR_PAGING_ENTRY_RSVD;
  return 0;
}

/** Output address [HAW-1:12] of an entry. */
export function vtdSlOutput(lo: number, hi: number, hawBits: number): number {
  return (hi & ((1 << (hawBits - 32)) - 1)) * 0x1_0000_0000 + ((lo & 0xfffff000) >>> 0);
}

/** True if [addr, addr + size) overlaps the interrupt range 0xFEE00000-0xFEEFFFFF (VT-d 3.14): never a DMA target. */
export function vtdSlInterruptRange(addr: number, size: number): boolean {
  return addr <= 0xfeefffff && addr + size - 1 >= 0xfee00000;
}

/** A leaf's output, refused if it overlaps the interrupt range. */
function leafResult(addr: number, shift: number, perm: number, out: WalkResult): number {
  if (vtdSlInterruptRange(addr, LEVEL_SIZE[shift]!)) return VTD_FR_INTERRUPT_ADDR;
  out.addr = addr;
  out.shift = shift;
  out.perm = perm;
  return 0;
}
