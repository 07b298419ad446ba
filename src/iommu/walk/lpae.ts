import type { GuestRamView } from './guest-ram-view.js';
import { WALK_WRITE, type WalkResult } from './walk-result.js';
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

const TWO32 = 0x1_0000_0000;

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
  if (iova < 0 || iova >= 2 ** inputSize) return LPAE_FAULT_TRANSLATION;
  const startLevel = 4 - Math.floor((inputSize - 4) / stride);
  if (startLevel < 0 || startLevel > 3) return LPAE_FAULT_TRANSLATION;
  const oasLimit = 2 ** oasBits;
  // The start table is aligned to its own size (index bits cleared), truncated to the OAS.
  const startBits = inputSize - (granuleShift + (3 - startLevel) * stride);
  const startAlign = 2 ** Math.max(startBits + 3, 3);
  let table = ttb % oasLimit;
  table -= table % startAlign;
  let writeOk = true;
  for (let level = startLevel; level <= 3; level++) {
    const shift = granuleShift + (3 - level) * stride;
    const bits = level === startLevel ? startBits : stride;
    const idx = Math.floor(iova / 2 ** shift) % 2 ** bits;
    const ea = table + idx * 8;
    out.level = level;
    out.entryAddr = ea;
    if (!ram.ld64le(ea)) return LPAE_FAULT_WALK_EABT;
    const lo = ram.lo;
    const hi = ram.hi;
    const type = lo & 3;
    if ((type & 1) === 0) return LPAE_FAULT_TRANSLATION;
    if (level < 3 && type === 3) {
      if (!(flags & LPAE_HAD) && hi & (1 << 30)) {
        writeOk = false;
        if (access === WALK_WRITE) return LPAE_FAULT_PERMISSION;
      }
      const next = (hi & 0xffff) * TWO32 + ((lo & 0xfffff000) >>> 0);
      table = next - (next % 2 ** granuleShift);
      if (table >= oasLimit) return LPAE_FAULT_ADDR_SIZE;
      continue;
    }
    if (level === 3 ? type !== 3 : !(blockAllowed(granuleShift, level) || flags & LPAE_QEMU_BLOCKS)) {
      return LPAE_FAULT_TRANSLATION;
    }
    const raw = (hi & 0xffff) * TWO32 + ((lo & 0xfffff000) >>> 0);
    const addr = raw - (raw % 2 ** shift);
    if (addr >= oasLimit) return LPAE_FAULT_ADDR_SIZE;
    if ((lo & 0x400) === 0 && !(flags & LPAE_AFFD)) return LPAE_FAULT_ACCESS;
    const ap2 = (lo & 0x80) !== 0;
    const perm = ap2 || !writeOk ? IOMMU_RO : IOMMU_RW;
    if (access === WALK_WRITE && !(perm & IOMMU_WO)) return LPAE_FAULT_PERMISSION;
    out.addr = addr;
    out.shift = shift;
    out.perm = perm;
    return 0;
  }
  return LPAE_FAULT_TRANSLATION;
}

/** Input bits per level, for callers sizing ranges: the block/page shift at `level`. */
export function lpaeLevelShift(granuleShift: number, level: number): number {
  return granuleShift + (3 - level) * (granuleShift - 3);
}
