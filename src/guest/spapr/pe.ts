import type { FdtNode } from '../fw/fdt/fdt.js';
import { cellsValue } from '../fw/fdt/props.js';
import type { PseriesHv } from './hv.js';
import { DMA_WINDOW_PROP, DMA_WINDOW_SAVED_PROP } from './papr.js';

/** A DMA window as "ibm,dma-window" describes it: LIOBN, bus address, size. */
export interface DmaWindowDesc {
  readonly liobn: number;
  readonly busAddr: bigint;
  readonly size: bigint;
}

/** The DDW a PE has (Linux keeps it as a "linux,direct64-ddr-window-info" / "linux,dma64-ddr-window-info" property). */
export interface DdwState {
  readonly liobn: number;
  readonly start: bigint;
  readonly pageShift: number;
  readonly windowShift: number;
  /** Direct mapping: all of RAM at start + physical address (dma_offset). Otherwise a dynamic table (tables[0|1]). */
  readonly direct: boolean;
}

export interface QueryOut {
  readonly status: number;
  readonly windowsAvailable: number;
  readonly largestBlock: bigint;
  readonly pageSizes: number;
  readonly migration: number;
}

export interface DdwTokens {
  readonly query: number;
  readonly create: number;
  readonly remove: number;
  /** ibm,ddw-extensions[1]: reset-pe-dma-window, when offered. */
  readonly reset: number | undefined;
  /** ibm,ddw-extensions[2] == 1: query has 6 outputs (64-bit largest block). */
  readonly query6: boolean;
}

function be32s(values: readonly number[]): Uint8Array {
  const b = new Uint8Array(values.length * 4);
  const dv = new DataView(b.buffer);
  values.forEach((v, i) => dv.setUint32(i * 4, v >>> 0, false));
  return b;
}

/** Decodes "ibm,dma-window" with the node's ibm,#dma-address-cells / -size-cells (default 2 each, as QEMU sets them). */
export function parseDmaWindow(node: FdtNode, prop = DMA_WINDOW_PROP): DmaWindowDesc | undefined {
  const c = node.cells(prop);
  const ac = node.u32('ibm,#dma-address-cells') ?? 2;
  const sc = node.u32('ibm,#dma-size-cells') ?? 2;
  if (!c || c.length < 1 + ac + sc) return undefined;
  return { liobn: c[0]! >>> 0, busAddr: cellsValue(c, 1, ac), size: cellsValue(c, 1 + ac, sc) };
}

/**
 * A partitionable endpoint with its own DMA windows: on QEMU's pseries,
 * a PHB (its device-tree node carries ibm,dma-window and the DDW tokens).
 * It knows how to make the DDW RTAS calls for itself and keeps the
 * firmware's description of its default window, so the window can be
 * restored after it was removed, whether or not the node exists in the
 * boot device tree (DLPAR; seed 004's known limitation).
 */
export class PseriesPe {
  /** The default window as firmware first described it (never changes). */
  readonly defaultWindow: DmaWindowDesc;
  ddw: DdwState | undefined;
  /** enable_ddw failed once: do not retry (Linux's failed-DDW list). */
  ddwFailed = false;

  constructor(readonly node: FdtNode, readonly buid: bigint, readonly tokens: DdwTokens | undefined, private readonly hv: PseriesHv,
    window: DmaWindowDesc) {
    this.defaultWindow = window;
  }

  /** The PE's configuration address for the DDW calls (bus << 16 | devfn << 8 of the PHB itself: 0). */
  get cfgAddr(): number {
    return 0;
  }
  private get buidHi(): number {
    return Number(this.buid >> 32n);
  }
  private get buidLo(): number {
    return Number(this.buid & 0xffff_ffffn);
  }

  /** query_ddw: 5 or 6 outputs as ibm,ddw-extensions says. */
  query(): QueryOut {
    const t = this.tokens!;
    const r = this.hv.rtas(t.query, [this.cfgAddr, this.buidHi, this.buidLo], t.query6 ? 6 : 5);
    if (t.query6) {
      return { status: r[0]!, windowsAvailable: r[1]! >>> 0, largestBlock: (BigInt(r[2]! >>> 0) << 32n) | BigInt(r[3]! >>> 0), pageSizes: r[4]! >>> 0, migration: r[5]! >>> 0 };
    }
    return { status: r[0]!, windowsAvailable: r[1]! >>> 0, largestBlock: BigInt(r[2]! >>> 0), pageSizes: r[3]! >>> 0, migration: r[4]! >>> 0 };
  }

  /** create_ddw: the new window's LIOBN and start. */
  create(pageShift: number, windowShift: number): { status: number; liobn: number; start: bigint } {
    const r = this.hv.rtas(this.tokens!.create, [this.cfgAddr, this.buidHi, this.buidLo, pageShift, windowShift], 4);
    return { status: r[0]!, liobn: r[1]! >>> 0, start: (BigInt(r[2]! >>> 0) << 32n) | BigInt(r[3]! >>> 0) };
  }

  /** remove_dma_window's RTAS call. */
  remove(liobn: number): number {
    return this.hv.rtas(this.tokens!.remove, [liobn], 1)[0]!;
  }

  /** reset_dma_window: -1 when the hypervisor offers no reset extension. */
  reset(): number {
    if (this.tokens?.reset === undefined) return -1;
    return this.hv.rtas(this.tokens.reset, [this.cfgAddr, this.buidHi, this.buidLo], 1)[0]!;
  }

  /** The default window the live tree describes now (gone while the window is removed). */
  get liveWindow(): DmaWindowDesc | undefined {
    return parseDmaWindow(this.node);
  }

  /** The default window was removed: its property moves to ibm,dma-window-saved (Linux keeps it for the restore). */
  saveWindowProp(): void {
    const p = this.node.props.get(DMA_WINDOW_PROP);
    if (!p) return;
    this.node.props.set(DMA_WINDOW_SAVED_PROP, p);
    this.node.props.delete(DMA_WINDOW_PROP);
  }

  /**
   * The default window is back: ibm,dma-window from ibm,dma-window-saved,
   * or, for a node that never had the saved copy (a DLPAR node whose
   * property was dropped), from the description kept with the PE.
   */
  restoreWindowProp(): void {
    const saved = this.node.props.get(DMA_WINDOW_SAVED_PROP);
    this.node.props.delete(DMA_WINDOW_SAVED_PROP);
    if (saved) {
      this.node.props.set(DMA_WINDOW_PROP, saved);
      return;
    }
    const w = this.defaultWindow;
    const cells = [w.liobn, Number(w.busAddr >> 32n), Number(w.busAddr & 0xffff_ffffn), Number(w.size >> 32n), Number(w.size & 0xffff_ffffn)];
    this.node.props.set(DMA_WINDOW_PROP, be32s(cells));
  }
}
