import type { GuestDevice } from '../device.js';
import { IOMMU_READ, IOMMU_WRITE } from '../iommu-core/domain-types.js';
import { reportMapped, reportUnmapped, type PseriesContext } from './context.js';
import { IommuTable } from './iommu-table.js';
import { DIRECT64_PROP, DMA64_PROP, iommuGetPageShift } from './papr.js';
import type { PseriesTableGroup } from './table-group.js';

/** The synthetic guest keeps bus addresses in doubles: a window must end below 2^53 for its DMA API to use it. */
const GUEST_DMA_LIMIT = 2n ** 53n;

function orderBase2(n: number): number {
  let s = 0;
  while (2 ** s < n) s++;
  return s;
}

function be32s(values: readonly number[]): Uint8Array {
  const b = new Uint8Array(values.length * 4);
  const dv = new DataView(b.buffer);
  values.forEach((v, i) => dv.setUint32(i * 4, v >>> 0, false));
  return b;
}

/** The ddw property Linux stores on the PE node: liobn, start (2 cells), page shift, window shift. */
function ddwProp(liobn: number, start: bigint, pageShift: number, windowShift: number): Uint8Array {
  return be32s([liobn, Number(start >> 32n), Number(start & 0xffff_ffffn), pageShift, windowShift]);
}

/** RAM as the guest's memory map has it (ddw_memory_hotplug_max: no hot-pluggable memory here). */
function ramTop(ctx: PseriesContext): number {
  return Math.max(...ctx.k.port.ramRanges.map((r) => r.base + r.size));
}

/** The default window goes back after a failed VF attempt: reset-pe and the saved property. */
function restoreDefault(ctx: PseriesContext, g: PseriesTableGroup): void {
  g.pe.reset();
  g.pe.restoreWindowProp();
  g.tables[0] = g.defaultTable();
  g.setTableBase(g.tables[0]);
}

/**
 * enable_ddw (arch/powerpc/platforms/pseries/iommu.c): give the PE a
 * 64-bit window. Query; with no window available (an SR-IOV VF's single
 * window) remove the default window first, if nothing uses it and reset
 * is there to bring it back, and query again. Page size: the largest
 * offered (iommu_get_page_shift). Size: all of RAM (order_base_2); if the
 * largest block cannot map that, a smaller dynamic window with its own
 * table. A direct-mapped window gets TCEs for all of RAM and the device
 * DMAs at physical address + window start (dma_offset). Returns whether
 * the window is direct-mapped. Failures are remembered (no retry).
 */
export function enableDdw(ctx: PseriesContext, g: PseriesTableGroup, dev: GuestDevice): boolean {
  const pe = g.pe;
  const arch = ctx.archOf(dev)!;
  const log = ctx.k.log;
  if (!pe.tokens || pe.ddwFailed || (!pe.liveWindow && !pe.ddw)) return false;
  if (pe.ddw) {
    if (pe.ddw.direct) arch.dmaOffset = Number(pe.ddw.start);
    else arch.table = g.tables[g.tables[1] ? 1 : 0];
    return pe.ddw.direct;
  }
  const fail = (why: string, defaultRemoved: boolean): boolean => {
    log.warn(`pseries-iommu ${dev.name}`, `enable_ddw: ${why}`);
    pe.ddwFailed = true;
    if (defaultRemoved) restoreDefault(ctx, g);
    return false;
  };
  let q = pe.query();
  if (q.status !== 0) return fail(`query failed (${q.status})`, false);
  let defaultRemoved = false;
  if (q.windowsAvailable === 0) {
    const t0 = g.tables[0];
    if (t0?.inUse()) return fail("current IOMMU table in use, can't be replaced.", false);
    if (pe.tokens.reset === undefined) return fail('no reset-pe-dma-window to bring the default window back', false);
    if (t0) t0.clear(0, t0.itSize);
    pe.remove(pe.liveWindow!.liobn);
    pe.saveWindowProp();
    g.tables[0] = undefined;
    defaultRemoved = true;
    q = pe.query();
    if (q.status !== 0 || q.windowsAvailable === 0) return fail('no free dynamic windows', true);
  }
  const pageShift = iommuGetPageShift(q.pageSizes);
  if (!pageShift) return fail(`no page size offered (mask 0x${q.pageSizes.toString(16)})`, defaultRemoved);
  const top = ramTop(ctx);
  let len = Math.max(orderBase2(top), pageShift);
  let direct = true;
  if (q.largestBlock < 2n ** BigInt(len - pageShift)) {
    len = orderBase2(Number(q.largestBlock) * 2 ** pageShift);
    direct = false;
  }
  const c = pe.create(pageShift, len);
  if (c.status !== 0) return fail(`Create ddw failed (${c.status})`, defaultRemoved);
  if (c.start + (1n << BigInt(len)) > GUEST_DMA_LIMIT) {
    pe.remove(c.liobn);
    return fail(`the window at 0x${c.start.toString(16)} ends beyond the 53-bit bus addresses this guest's DMA API keeps; `
      + 'lower the PHB\'s dma64_win_addr to use it', defaultRemoved);
  }
  const start = Number(c.start);
  pe.ddw = { liobn: c.liobn, start: c.start, pageShift, windowShift: len, direct };
  pe.node.props.set(direct ? DIRECT64_PROP : DMA64_PROP, ddwProp(c.liobn, c.start, pageShift, len));
  if (direct) {
    const tbl = new IommuTable(ctx.hv, c.liobn, start / 2 ** pageShift, 2 ** (len - pageShift), pageShift);
    for (const r of ctx.k.port.ramRanges) {
      const first = Math.floor(r.base / 2 ** pageShift);
      const last = Math.ceil((r.base + r.size) / 2 ** pageShift);
      if (!tbl.set(first, last - first, first * 2 ** pageShift, true)) return fail('tce_setrange_multi_pSeriesLP failed', defaultRemoved);
      reportMapped(ctx, start + first * 2 ** pageShift, first * 2 ** pageShift, (last - first) * 2 ** pageShift, IOMMU_READ | IOMMU_WRITE);
    }
    if (defaultRemoved) g.setTableBase(undefined);
    arch.dmaOffset = start;
  } else {
    const tbl = new IommuTable(ctx.hv, c.liobn, start / 2 ** pageShift, 2 ** (len - pageShift), pageShift);
    g.tables[defaultRemoved ? 0 : 1] = tbl;
    arch.table = tbl;
  }
  log.info(`pseries-iommu ${dev.name}`, `DDW ${direct ? 'direct-mapped' : 'dynamic'}: LIOBN 0x${c.liobn.toString(16)} at 0x${start.toString(16)}, 2^${len} bytes of ${2 ** pageShift}-byte pages${defaultRemoved ? ' (default window removed: single-window PE)' : ''}`);
  return direct;
}

/**
 * remove_dynamic_dma_windows: clear a direct-mapped window's TCEs
 * (clean_dma_window) and remove it; a dynamic window's table must be
 * empty. The property goes, and the devices lose their direct offset.
 */
export function removeDdw(ctx: PseriesContext, g: PseriesTableGroup): boolean {
  const w = g.pe.ddw;
  if (!w) return true;
  const pages = 2 ** (w.windowShift - w.pageShift);
  const tbl = new IommuTable(ctx.hv, w.liobn, Number(w.start >> BigInt(w.pageShift)), pages, w.pageShift);
  if (w.direct) tbl.clear(0, pages);
  else {
    const dyn = g.tables.findIndex((t) => t?.itIndex === w.liobn);
    if (dyn >= 0 && g.tables[dyn]!.inUse()) return false;
    if (dyn >= 0) g.tables[dyn] = undefined;
  }
  if (g.pe.remove(w.liobn) !== 0) {
    ctx.k.log.warn('pseries-iommu', `${g.pe.node.path}: The existing DDW removal failed`);
    return false;
  }
  if (w.direct) {
    const ps = 2 ** w.pageShift;
    for (const r of ctx.k.port.ramRanges) {
      const first = Math.floor(r.base / ps);
      reportUnmapped(ctx, Number(w.start) + first * ps, (Math.ceil((r.base + r.size) / ps) - first) * ps);
    }
  }
  g.pe.node.props.delete(DIRECT64_PROP);
  g.pe.node.props.delete(DMA64_PROP);
  g.pe.ddw = undefined;
  g.setTableBase(g.tables[0]);
  return true;
}
