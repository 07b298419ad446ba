import type { GuestRamView } from './guest-ram-view.js';
import { POW2, WALK_WRITE, type WalkResult } from './walk-result.js';
import { IOMMU_RO, IOMMU_RW, IOMMU_WO } from '../../memory/index.js';

/**
 * Fault kinds of an AArch64 (VMSAv8-64 LPAE) stage-1 walk; the SMMUv3 model
 * maps them to F_TRANSLATION, F_ADDR_SIZE, F_ACCESS, F_PERMISSION and
 * F_WALK_EABT (ref/smmuv3-vtd.md A5, A6).
 */
export const LPAE_FAULT_TRANSLATION = 1;
export const LPAE_FAULT_ADDR_SIZE = 2;
export const LPAE_FAULT_ACCESS = 3;
export const LPAE_FAULT_PERMISSION = 4;
/** A descriptor could not be read (outside guest RAM): external abort on walk. */
export const LPAE_FAULT_WALK_EABT = 5;

/** Walk options. */
export const LPAE_AFFD = 1; // CD.AFFD: an access-flag fault is not raised
export const LPAE_HAD = 2; // CD.HADx: APTable is ignored
/** QEMU behaviour: accept a block descriptor at any level below 3 (the spec allows only L1/L2 for 4K, L2 otherwise). */
export const LPAE_QEMU_BLOCKS = 4;


/** Levels at which a block descriptor is architected without 52-bit addressing (ARM DDI 0487 D8.3). */
function blockAllowed(granuleShift: number, level: number): boolean {
  return granuleShift === 12 ? level === 1 || level === 2 : level === 2;
}

/**
 * Arm LPAE stage-1 walk (smmu_ptw_64_s1; ref/smmuv3-vtd.md A5), one
 * translation table (TT0: the caller selects the table and passes an IOVA
 * below 2^(64 - tsz)). stride = granule - 3; start level = 4 - (inputsize -
 * 4) / stride; shift(level) = granule + (3 - level) * stride. Descriptor
 * bits [1:0]: 0bx0 invalid; below level 3, 0b11 table and 0b01 block; at
 * level 3, 0b11 page and 0b01 reserved. Output address [47:shift]. APTable
 * bit 62 (unless HAD) forbids writes below. Leaf checks in the order of the
 * Arm ARM (AArch64.S1Walk, then AF, then permissions): Address Size (output
 * >= 2^OAS), Access (AF bit 10 = 0 unless AFFD), Permission (write with
 * AP[2], bit 7, set; AP[1] ignored, accesses are privileged). QEMU checks
 * Access and Permission before Address Size.
 *
 * Returns 0 or an LPAE_FAULT_*; at most four descriptors are read.
 */
export function lpaeS1Walk(ram: GuestRamView, ttb: number, granuleShift: number, tsz: number, oasBits: number,
  flags: number, iova: number, access: number, out: WalkResult): number {
  out.level = 0;
  out.entryAddr = ttb;
  if (granuleShift !== 12 && granuleShift !== 14 && granuleShift !== 16) return LPAE_FAULT_TRANSLATION;
  const stride = granuleShift - 3;
  const inputSize = 64 - tsz;
  if (inputSize < 16 || inputSize > 48 || oasBits < 32 || oasBits > 48) return LPAE_FAULT_TRANSLATION;
  if (iova < 0 || iova >= POW2[inputSize]!) return LPAE_FAULT_TRANSLATION;
  const startLevel = 4 - Math.floor((inputSize - 4) / stride);
  if (startLevel < 0 || startLevel > 3) return LPAE_FAULT_TRANSLATION;
  // The start table is aligned to its own size (index bits cleared), truncated to the OAS.
  const startBits = inputSize - (granuleShift + (3 - startLevel) * stride);
  const ttbLo = ttb >>> 0;
  const tlo = (ttbLo & ~((1 << (startBits + 3)) - 1)) >>> 0;
  const thi = ((ttb - ttbLo) / 0x1_0000_0000) & ((1 << (oasBits - 32)) - 1);
  return lpaeS1WalkFrom(ram, tlo, thi, startLevel, startBits, IOMMU_RW, granuleShift, oasBits, flags, iova, access, out);
}

/**
 * The walk from the table at (tlo, thi) of `level` (indexed by `bits` IOVA
 * bits) down, with `perm` what the APTables above allow: the
 * paging-structure cache resumes here. On success `out` also says which
 * table held the leaf and the permission above it.
 */
export function lpaeS1WalkFrom(ram: GuestRamView, tlo: number, thi: number, level: number, bits: number, perm: number,
  granuleShift: number, oasBits: number, flags: number, iova: number, access: number, out: WalkResult): number {
  const stride = granuleShift - 3;
  const oasHiMask = (1 << (oasBits - 32)) - 1;
  // IOVA halves (exact), so that indexes are int operations.
  const ilo = iova >>> 0;
  const ihi = (iova - ilo) / 0x1_0000_0000;
  for (; level <= 3; level++) {
    const shift = granuleShift + (3 - level) * stride;
    const idx = (shift < 32 ? (ilo >>> shift) | (ihi << (32 - shift)) : ihi >>> (shift - 32)) & ((1 << bits) - 1);
    bits = stride;
    const elo = tlo + idx * 8;
    const k = ram.entry(elo, thi);
    out.level = level;
    out.entryAddr = thi * 0x1_0000_0000 + elo;
    if (k < 0) return LPAE_FAULT_WALK_EABT;
    const lo = ram.mem[k]!;
    const hi = ram.mem[k + 1]!;
    const type = lo & 3;
    if ((type & 1) === 0) return LPAE_FAULT_TRANSLATION;
    if (level < 3 && type === 3) {
      if (!(flags & LPAE_HAD) && hi & (1 << 30)) {
        perm = IOMMU_RO;
        if (access === WALK_WRITE) return LPAE_FAULT_PERMISSION;
      }
      tlo = (lo & ~((1 << granuleShift) - 1)) >>> 0;
      thi = hi & 0xffff;
      if ((thi & ~oasHiMask) !== 0) return LPAE_FAULT_ADDR_SIZE;
      continue;
    }
    if (level === 3 ? type !== 3 : !(blockAllowed(granuleShift, level) || flags & LPAE_QEMU_BLOCKS)) {
      return LPAE_FAULT_TRANSLATION;
    }
    // Output address [47:shift].
    const ahi = shift < 32 ? hi & 0xffff : hi & 0xffff & ~((1 << (shift - 32)) - 1);
    const alo = shift < 32 ? (lo & ~((1 << shift) - 1)) >>> 0 : 0;
    if ((ahi & ~oasHiMask) !== 0) return LPAE_FAULT_ADDR_SIZE;
    if ((lo & 0x400) === 0 && !(flags & LPAE_AFFD)) return LPAE_FAULT_ACCESS;
    const granted = lo & 0x80 ? perm & IOMMU_RO : perm;
    if (access === WALK_WRITE && !(granted & IOMMU_WO)) return LPAE_FAULT_PERMISSION;
    out.tableLo = tlo;
    out.tableHi = thi;
    out.tablePerm = perm;
    out.addr = ahi * 0x1_0000_0000 + alo;
    out.shift = shift;
    out.perm = granted;
    return 0;
  }
  return LPAE_FAULT_TRANSLATION;
}

/** Input bits per level, for callers sizing ranges: the block/page shift at `level`. */
export function lpaeLevelShift(granuleShift: number, level: number): number {
  return granuleShift + (3 - level) * (granuleShift - 3);
}
