import type { SpaprTceTable } from './tce-table.js';
import {
  H_GET_TCE, H_PARAMETER, H_PUT_TCE, H_PUT_TCE_INDIRECT, H_STUFF_TCE, H_SUCCESS, SPAPR_TCE_LIST_MAX, type SpaprHcallRegistry,
} from './papr.js';

/** What the TCE hypercalls need from the machine-wide model (spapr-tce.ts). */
export interface TceHcallHost {
  /** spapr_tce_find_by_liobn: a LIOBN with bits above 31 set is never found. */
  findByLiobn(liobn: bigint): SpaprTceTable | undefined;
  /** Whether npages = 0 succeeds (the LoPAPR reading) for the PHB owning `table`; QEMU answers H_PARAMETER. */
  npagesZeroSucceeds(table: SpaprTceTable): boolean;
  /**
   * ldq_be_phys of `count` u64 at `addr` on system memory, as [hi, lo]
   * pairs (0 where nothing answers, as QEMU's unassigned reads give).
   */
  readTceList(addr: bigint, count: number): Uint32Array;
  /** Drops the engine's own IOTLB entries of entries [first, first + count) (before and after a multi-TCE loop). */
  invalidateLocal(table: SpaprTceTable, first: number, count: number): void;
  /**
   * The hcall returns: post the invalidation of entries [first, first +
   * count) to the translation workers and wait for them (the completion
   * point of DESIGN "Shared IOTLB").
   */
  complete(table: SpaprTceTable, first: number, count: number): void;
}

const U64 = (1n << 64n) - 1n;
const TCE_LIST_ALIGN = 0xfffn;

/** IOMMU_PAGE_MASK(shift) as QEMU applies it to ioba (page_shift 0 while a window is disabled: no masking). */
function pageMask(t: SpaprTceTable): bigint {
  return U64 ^ ((1n << BigInt(t.pageShift)) - 1n);
}

/**
 * The "hcall-tce" and "hcall-multi-tce" sets (QEMU hw/ppc/spapr_iommu.c;
 * ref A3, conformance behaviours 1-3). Arguments are r4..r7: LIOBN, I/O
 * bus address (masked to the window's page), then the TCE, or the list
 * address and count, or the value and count. Every store goes through
 * SpaprTceTable.put (one notifier event per page); STUFF and INDIRECT stop
 * at the first failure and keep what they wrote. npages = 0 answers
 * H_PARAMETER as QEMU does (its return value starts as H_PARAMETER and the
 * loop never runs); the PHB property `lopapr-npages0` gives H_SUCCESS, our
 * reading of LoPAPR (no TCE to change is not an invalid parameter).
 */
export function registerTceHcalls(reg: SpaprHcallRegistry, host: TceHcallHost): void {
  reg.register(H_PUT_TCE, 'H_PUT_TCE', (a) => {
    const t = host.findByLiobn(a[0] ?? 0n);
    if (!t) return { ret: H_PARAMETER, out: [] };
    const ioba = (a[1] ?? 0n) & pageMask(t);
    const ret = t.put(ioba, a[2] ?? 0n);
    if (ret === H_SUCCESS) host.complete(t, t.indexOf(ioba), 1);
    return { ret, out: [] };
  });

  reg.register(H_GET_TCE, 'H_GET_TCE', (a) => {
    const t = host.findByLiobn(a[0] ?? 0n);
    if (!t) return { ret: H_PARAMETER, out: [] };
    const r = t.get((a[1] ?? 0n) & pageMask(t));
    return r.ret === H_SUCCESS ? { ret: r.ret, out: [r.tce] } : { ret: r.ret, out: [] };
  });

  reg.register(H_STUFF_TCE, 'H_STUFF_TCE', (a) => {
    const t = host.findByLiobn(a[0] ?? 0n);
    if (!t) return { ret: H_PARAMETER, out: [] };
    const npages = a[3] ?? 0n;
    if (npages > BigInt(t.nbTable)) return { ret: H_PARAMETER, out: [] };
    const v = BigInt.asUintN(64, a[2] ?? 0n);
    const lo = Number(v & 0xffff_ffffn);
    const hi = Number(v >> 32n);
    return multi(t, (a[1] ?? 0n) & pageMask(t), Number(npages), () => lo, () => hi);
  });

  reg.register(H_PUT_TCE_INDIRECT, 'H_PUT_TCE_INDIRECT', (a) => {
    const t = host.findByLiobn(a[0] ?? 0n);
    if (!t) return { ret: H_PARAMETER, out: [] };
    const list = a[2] ?? 0n;
    const npages = a[3] ?? 0n;
    if (npages > BigInt(SPAPR_TCE_LIST_MAX) || (list & TCE_LIST_ALIGN) !== 0n) return { ret: H_PARAMETER, out: [] };
    const tces = host.readTceList(list, Number(npages));
    return multi(t, (a[1] ?? 0n) & pageMask(t), Number(npages), (i) => tces[2 * i + 1]!, (i) => tces[2 * i]!);
  });

  /**
   * The loop of H_STUFF_TCE and H_PUT_TCE_INDIRECT: consecutive pages from
   * ioba, stopping at the first one outside the window (H_PARAMETER) with
   * the earlier stores kept. npages 0 never enters the loop.
   */
  function multi(t: SpaprTceTable, ioba: bigint, npages: number, lo: (i: number) => number, hi: (i: number) => number): { ret: bigint; out: bigint[] } {
    const first = t.indexOf(ioba);
    let ret = npages === 0 && host.npagesZeroSucceeds(t) ? H_SUCCESS : H_PARAMETER;
    if (first < 0 || npages === 0) return { ret, out: [] };
    const n = Math.min(npages, t.nbTable - first);
    host.invalidateLocal(t, first, n);
    for (let i = 0; i < n; i++) t.store(first + i, lo(i), hi(i));
    ret = n === npages ? H_SUCCESS : H_PARAMETER;
    host.complete(t, first, n);
    return { ret, out: [] };
  }
}
