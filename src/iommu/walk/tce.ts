import type { GuestRamView } from './guest-ram-view.js';
import { POW2, WALK_NONE, type WalkResult } from './walk-result.js';

/** Fault kinds of a TCE lookup; the sPAPR model reports them EEH-style. */
/** The I/O bus address is outside the window: index >= nb_table (compared unsigned). */
export const TCE_FAULT_WINDOW = 1;
/** The TCE grants no permission (bits 1:0 = 0, "FAULT") or not the one asked for. */
export const TCE_FAULT_PERM = 2;
/** The table entry could not be read. */
export const TCE_FAULT_TABLE = 3;
/** The real address does not fit in 52 bits. */
export const TCE_FAULT_ADDR = 4;

/** Table byte order: big-endian as PAPR and Linux keep TCE tables, or little-endian. */
export const TCE_TABLE_BE = 1;


/**
 * One TCE lookup (ref/spapr-virtio-iommu.md A1; QEMU spapr_tce_translate_iommu):
 * index = ioba >> page_shift, where `ioba` is relative to the window's
 * bus_offset; one u64 per IOMMU page; bits 1:0 are the permission (1: the
 * device may read memory, IOMMU_RO; 2: it may write, IOMMU_WO; 3: both);
 * the real address is tce & ~(page size - 1), no other bits checked.
 * `access` is WALK_NONE, WALK_READ or WALK_WRITE; returns 0 or a
 * TCE_FAULT_*. A table whose `nbTable` reaches past RAM faults on the
 * entries outside it, never throws.
 */
export function tceWalk(ram: GuestRamView, table: number, nbTable: number, pageShift: number, flags: number,
  ioba: number, access: number, out: WalkResult): number {
  out.level = 1;
  if (pageShift < 12 || pageShift > 40) return TCE_FAULT_WINDOW;
  const index = Math.floor(ioba / POW2[pageShift]!);
  out.entryAddr = table + index * 8;
  if (ioba < 0 || index >= nbTable) return TCE_FAULT_WINDOW;
  const ok = flags & TCE_TABLE_BE ? ram.ld64be(out.entryAddr) : ram.ld64le(out.entryAddr);
  if (!ok) return TCE_FAULT_TABLE;
  const perm = ram.lo & 3;
  if (perm === 0 || (access !== WALK_NONE && (perm & access) !== access)) return TCE_FAULT_PERM;
  if (ram.hi >= 1 << 20) return TCE_FAULT_ADDR;
  out.addr = pageShift < 32
    ? ram.hi * 0x1_0000_0000 + ((ram.lo & ~((1 << pageShift) - 1)) >>> 0)
    : (ram.hi & ~((1 << (pageShift - 32)) - 1)) * 0x1_0000_0000;
  out.shift = pageShift;
  out.perm = perm;
  return 0;
}
