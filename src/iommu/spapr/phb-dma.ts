import type { EventLog } from '../../base/event-log.js';
import type { ContainerRegion } from '../../memory/index.js';
import {
  pageMaskToQueryMask, RTAS_OUT_HW_ERROR, RTAS_OUT_PARAM_ERROR, RTAS_OUT_SUCCESS, SPAPR_PCI_DMA_MAX_WINDOWS,
  SPAPR_TCE_PAGE_SHIFT, spaprPciLiobn,
} from './papr.js';
import { SpaprTceTable, type TceTableHost } from './tce-table.js';

/** A PHB's DMA properties (QEMU spapr-pci-host-bridge, plus viommu's own, each saying whose behaviour it gives). */
export interface SpaprPhbDmaOptions {
  readonly index: number;
  readonly buid: bigint;
  /** `ddw`: dynamic DMA windows offered (2 windows; else 1 and no DDW RTAS calls). */
  readonly ddw: boolean;
  /** `dma_win_addr` / `dma_win_size`: the default window (4 KiB pages). */
  readonly dmaWinAddr: bigint;
  readonly dmaWinSize: bigint;
  /** `dma64_win_addr`: where the second window goes. */
  readonly dma64WinAddr: bigint;
  /** `pgsz`: IOMMU page sizes offered, a mask of sizes. */
  readonly pgsz: bigint;
  /** `sriov-vf` (viommu): the PE is an SR-IOV VF as PowerVM gives it one DMA window in all; QEMU has no such PE. */
  readonly sriovVf: boolean;
  /** `def-win-quirk` (viommu, compat): QEMU 7.2's def_win that is never cleared (see remove()). */
  readonly defWinQuirk: boolean;
  /** `lopapr-npages0` (viommu): H_STUFF_TCE / H_PUT_TCE_INDIRECT with npages 0 succeed instead of QEMU's H_PARAMETER. */
  readonly lopaprNpages0: boolean;
  /** `persistent-tces` (viommu): PowerVM's per-PE tables keep their entries across remove and reset-pe (see SpaprTceTable.persist). */
  readonly persistentTces?: boolean;
}

/** QEMU's "largest block" of ibm,query-pe-dma-window: 0x80000000 TCEs (5 outputs), 2^37 as hi/lo (6 outputs: 1 << (58 - 21)). */
const LARGEST_BLOCK_5 = 0x8000_0000;
const LARGEST_BLOCK_6: readonly [number, number] = [0x20, 0];
/** viommu's limit: offsets inside a window are exact doubles, so a window spans at most 2^52 bytes. */
export const MAX_WINDOW_SHIFT = 52;

export type QueryResult = { status: number; out: number[] };
export type CreateResult = { status: number; liobn?: number; start?: bigint };

/**
 * The DMA side of one PHB (hw/ppc/spapr_pci.c, spapr_rtas_ddw.c; ref
 * A5-A6): its TCE tables (LIOBN#0 and, with DDW, LIOBN#1), each table's
 * root at 0 in the PHB's DMA address space, the default window set up by
 * spapr_phb_dma_reset, and the DDW operations behind the RTAS calls.
 */
export class SpaprPhbDma {
  readonly tables: SpaprTceTable[] = [];
  /** Windows removed while they still held valid TCEs (PAPR expects the OS to clear them first; seed 004). */
  readonly staleRemovals: { liobn: number; valid: number }[] = [];

  constructor(host: TceTableHost, readonly opts: SpaprPhbDmaOptions, readonly iommuRoot: ContainerRegion, ctxBase: number,
    private readonly log: EventLog | undefined) {
    for (let i = 0; i < this.windowsSupported; i++) {
      const t = new SpaprTceTable(host, spaprPciLiobn(opts.index, i), ctxBase + i);
      t.persist = opts.persistentTces ?? false;
      this.tables.push(t);
      iommuRoot.addSubregion(t.root, 0);
    }
  }

  /** spapr_phb_windows_supported: 2 with DDW (1 for an SR-IOV VF PE), else 1. */
  get windowsSupported(): number {
    return this.opts.ddw && !this.opts.sriovVf ? SPAPR_PCI_DMA_MAX_WINDOWS : 1;
  }
  get activeWindows(): number {
    return this.tables.filter((t) => t.enabled).length;
  }

  /** spapr_phb_dma_reset: every window off, then the default 32-bit window (4 KiB pages) on, marked def_win. */
  dmaReset(): void {
    for (const t of this.tables) t.disable();
    const t0 = this.tables[0]!;
    t0.enable(SPAPR_TCE_PAGE_SHIFT, this.opts.dmaWinAddr, Number(this.opts.dmaWinSize >> BigInt(SPAPR_TCE_PAGE_SHIFT)));
    t0.defWin = true;
  }

  /** Device reset of the tables (spapr_tce_reset): entries zeroed; then the PHB's DMA reset. */
  reset(): void {
    for (const t of this.tables) t.reset();
    this.dmaReset();
  }

  /** ibm,query-pe-dma-window outputs after the status (5 or 6 outputs in all). */
  query(nret: 5 | 6): QueryResult {
    const avail = this.windowsSupported - this.activeWindows;
    const pgmask = pageMaskToQueryMask(this.opts.pgsz);
    if (nret === 6) return { status: RTAS_OUT_SUCCESS, out: [avail, ...LARGEST_BLOCK_6, pgmask, 0] };
    return { status: RTAS_OUT_SUCCESS, out: [avail, LARGEST_BLOCK_5, pgmask, 0] };
  }

  /**
   * ibm,create-pe-dma-window: -3 for a page size the PHB does not offer or
   * a window smaller than a page; -1 when no window is free, or the table
   * cannot be made (QEMU: an entry count that does not fit its u32
   * nb_table; viommu also: a window above 2^52 bytes, or no room left for
   * the table). The first active window goes to dma_win_addr, the second
   * to dma64_win_addr; replay is skipped while the (empty) table appears.
   */
  create(pageShift: number, windowShift: number): CreateResult {
    if (pageShift >= 64 || !(this.opts.pgsz & (1n << BigInt(pageShift))) || windowShift < pageShift) return { status: RTAS_OUT_PARAM_ERROR };
    const t = this.tables.find((x) => !x.enabled);
    const windows = this.activeWindows;
    if (!t || windows >= this.windowsSupported) return { status: RTAS_OUT_HW_ERROR };
    if (windowShift - pageShift >= 32 || windowShift > MAX_WINDOW_SHIFT) return { status: RTAS_OUT_HW_ERROR };
    const start = windows === 0 ? this.opts.dmaWinAddr : this.opts.dma64WinAddr;
    t.skippingReplay = true;
    const ok = t.enable(pageShift, start, 2 ** (windowShift - pageShift));
    t.skippingReplay = false;
    if (!ok) return { status: RTAS_OUT_HW_ERROR };
    // LoPAPR: a window made by create is not the default window. QEMU never clears def_win, so a DDW
    // created in slot 0 counts as the default and removing it restores nothing (compat property).
    if (!this.opts.defWinQuirk) t.defWin = false;
    this.log?.info('spapr-tce', `PHB ${this.opts.index}: created DMA window LIOBN 0x${t.liobn.toString(16)} at 0x${start.toString(16)}, ${2 ** pageShift} byte pages, 2^${windowShift} bytes`);
    return { status: RTAS_OUT_SUCCESS, liobn: t.liobn, start };
  }

  /**
   * ibm,remove-pe-dma-window on one of this PHB's tables. LoPAPR: removing
   * the last window, when it is not the default window, restores the
   * default window. A window still holding valid TCEs is removed (QEMU
   * frees the table) but recorded and logged: PAPR expects an empty table.
   */
  remove(t: SpaprTceTable): number {
    if (!t.enabled) return RTAS_OUT_PARAM_ERROR;
    const valid = t.validCount();
    if (valid > 0) {
      this.staleRemovals.push({ liobn: t.liobn, valid });
      this.log?.warn('spapr-tce', `LIOBN 0x${t.liobn.toString(16)}: window removed with ${valid} valid TCE${valid === 1 ? '' : 's'}; PAPR expects the OS to clear them first`);
    }
    const wasDefault = t.defWin;
    t.disable();
    this.log?.info('spapr-tce', `PHB ${this.opts.index}: removed DMA window LIOBN 0x${t.liobn.toString(16)}`);
    if (this.activeWindows === 0 && !wasDefault) {
      this.dmaReset();
      this.log?.info('spapr-tce', `PHB ${this.opts.index}: last window removed, default window restored`);
    }
    return RTAS_OUT_SUCCESS;
  }
}
