import type { GuestDevice } from '../device.js';
import { EINVAL, ENODEV, EPERM } from '../errno.js';
import type { PseriesContext } from './context.js';
import { removeDdw } from './ddw.js';
import { IommuTable } from './iommu-table.js';
import { queryPageShifts, TCE_SHIFT } from './papr.js';
import type { PseriesPe } from './pe.js';

/** IOMMU_TABLE_GROUP_MAX_TABLES. */
export const IOMMU_TABLE_GROUP_MAX_TABLES = 2;

/**
 * The operations VFIO's sPAPR TCE driver uses on a table group (Linux
 * struct iommu_table_group_ops): create_table only allocates, set_window /
 * unset_window program and unprogram window `num`, take_ownership /
 * release_ownership hand the group's windows to a user and back.
 */
export interface IommuTableGroupOps {
  getTableSize(pageShift: number, windowSize: bigint, levels: number): bigint;
  createTable(num: number, pageShift: number, windowSize: bigint, levels: number): IommuTable | number;
  setWindow(num: number, tbl: IommuTable): number;
  unsetWindow(num: number): number;
  takeOwnership(dev: GuestDevice): number;
  releaseOwnership(dev: GuestDevice): void;
}

function isPow2(v: bigint): boolean {
  return v > 0n && (v & (v - 1n)) === 0n;
}
function log2(v: bigint): number {
  return v.toString(2).length - 1;
}

/**
 * struct iommu_table_group of a pSeries PE (arch/powerpc/include/asm/
 * iommu.h; pseries ops after the 2024 rework, ref A8): the default 32-bit
 * window (tce32_start/size), the page sizes and number of windows the
 * hypervisor offers, tables[0..1] and the ops. On pSeries the hypervisor
 * owns the TCE tables: creating a table creates the window
 * (ibm,create-pe-dma-window) and unset_window removes it, without clearing
 * TCEs ("the user should have done it": seed 004).
 */
export class PseriesTableGroup implements IommuTableGroupOps {
  tce32Start = 0n;
  tce32Size = 0n;
  /** Page sizes as a mask of sizes (bit n = 2^n bytes), as VFIO reports them. */
  pgsizes = 1n << 12n;
  /** 1 for a PE with a single window (SR-IOV VF), 2 otherwise, 0 without DDW. */
  maxDynamicWindowsSupported = 0;
  maxLevels = 1;
  readonly tables: (IommuTable | undefined)[] = [undefined, undefined];
  readonly devices: GuestDevice[] = [];

  constructor(readonly ctx: PseriesContext, readonly pe: PseriesPe) {}

  /** spapr_tce_init_table_group plus the boot-time default table (pci_dma_bus_setup_pSeriesLP). */
  init(): void {
    const w = this.pe.defaultWindow;
    this.tce32Start = w.busAddr;
    this.tce32Size = w.size;
    this.tables[0] = this.defaultTable();
    if (!this.pe.tokens) return;
    const q = this.pe.query();
    if (q.status !== 0) {
      this.ctx.k.log.err('pseries-iommu', `${this.pe.node.path}: query_ddw failed (${q.status})`);
      return;
    }
    this.maxDynamicWindowsSupported = q.windowsAvailable === 0 ? 1 : IOMMU_TABLE_GROUP_MAX_TABLES;
    for (const s of queryPageShifts(q.pageSizes)) this.pgsizes |= 1n << BigInt(s);
  }

  /** The default window's table, from the live ibm,dma-window (4 KiB pages). */
  defaultTable(): IommuTable | undefined {
    const w = this.pe.liveWindow;
    if (!w) return undefined;
    return new IommuTable(this.ctx.hv, w.liobn, Number(w.busAddr >> BigInt(TCE_SHIFT)), Number(w.size >> BigInt(TCE_SHIFT)), TCE_SHIFT);
  }

  /** set_iommu_table_base for every device of the group (and drop their direct-DMA bypass). */
  setTableBase(tbl: IommuTable | undefined): void {
    for (const d of this.devices) {
      const a = this.ctx.archOf(d);
      if (!a) continue;
      a.table = tbl;
      a.bypass = false;
      a.dmaOffset = 0;
    }
  }

  getTableSize(pageShift: number, windowSize: bigint, levels: number): bigint {
    if (levels !== 1) return 0n;
    return (windowSize >> BigInt(pageShift)) * 8n;
  }

  /**
   * spapr_tce_create_table: power-of-two windows, one level. A request
   * for the default window (4 KiB pages, tce32_size) restores it with
   * reset-pe; anything else is a new window from create-pe-dma-window.
   */
  createTable(num: number, pageShift: number, windowSize: bigint, levels: number): IommuTable | number {
    if (!isPow2(windowSize) || levels > 1) return -EINVAL;
    const pe = this.pe;
    if (!pe.tokens) return -ENODEV;
    if (num === 0 && pageShift === TCE_SHIFT && windowSize === this.tce32Size && !pe.liveWindow) {
      if (pe.ddw) {
        this.ctx.k.log.warn('pseries-iommu', `${pe.node.path}: Attempt to create window#0 when 64-bit window is present. Preventing the attempt as that would destroy the 64-bit window`);
        return -EPERM;
      }
      pe.reset();
      pe.restoreWindowProp();
      const t = this.defaultTable();
      return t ?? -ENODEV;
    }
    const q = pe.query();
    if (q.status !== 0) return -ENODEV;
    const shift = log2(windowSize);
    if (q.largestBlock < 1n << BigInt(shift - pageShift)) return -EINVAL;
    const c = pe.create(pageShift, shift);
    if (c.status !== 0) {
      this.ctx.k.log.err('pseries-iommu', `${pe.node.path}: Create ddw failed (${c.status})`);
      return -ENODEV;
    }
    return new IommuTable(this.ctx.hv, c.liobn, Number(c.start >> BigInt(pageShift)), Number(windowSize >> BigInt(pageShift)), pageShift);
  }

  /** spapr_tce_set_window: the window is live since create; only the group's own table may be set. */
  setWindow(num: number, tbl: IommuTable): number {
    if (num < 0 || num >= IOMMU_TABLE_GROUP_MAX_TABLES) return -EINVAL;
    const cur = this.tables[num];
    if (cur && cur !== tbl) return -EPERM;
    this.tables[num] = tbl;
    return 0;
  }

  /** spapr_tce_unset_window: remove-pe-dma-window, TCEs left as they are. */
  unsetWindow(num: number): number {
    const tbl = this.tables[num];
    if (!tbl) return 0;
    const isDefault = num === 0 && tbl.itIndex === this.pe.defaultWindow.liobn && tbl.busStart === this.tce32Start;
    const rc = this.pe.remove(tbl.itIndex);
    if (rc !== 0) {
      this.ctx.k.log.err('pseries-iommu', `${this.pe.node.path}: The existing DDW removal failed (LIOBN 0x${tbl.itIndex.toString(16)}, ${rc})`);
      return -ENODEV;
    }
    if (isDefault) this.pe.saveWindowProp();
    this.tables[num] = undefined;
    return 0;
  }

  /**
   * spapr_tce_take_ownership: remove every DDW (clearing its TCEs, since
   * reset-pe would leave them for a VF's single window), then the default
   * window, and clear the device's table base. A no-op when an earlier
   * function of the group already did it.
   */
  takeOwnership(dev: GuestDevice): number {
    const tbl = this.tables[0];
    if (!tbl && this.maxDynamicWindowsSupported !== 1 && !this.pe.ddw) {
      this.setDeviceTable(dev, undefined);
      return 0;
    }
    if (!this.pe.liveWindow && !this.pe.ddw && !tbl) {
      this.ctx.k.log.warn('pseries-iommu', `${dev.name}: No dma-windows exist for the node ${this.pe.node.path}`);
      return -1;
    }
    if (tbl?.inUse()) return -EPERM;
    if (this.pe.ddw && !removeDdw(this.ctx, this)) return -1;
    const t0 = this.tables[0];
    if (t0) {
      t0.clear(0, t0.itSize);
      this.pe.remove(t0.itIndex);
      this.pe.saveWindowProp();
      this.tables[0] = undefined;
    }
    this.setTableBase(undefined);
    this.ctx.k.log.info('pseries-iommu', `${dev.name}: table group ${this.pe.node.path} taken: every DMA window removed`);
    return 0;
  }

  /** spapr_tce_release_ownership: if tables[0] is gone, reset-pe, restore ibm,dma-window and rebuild tables[0]. */
  releaseOwnership(dev: GuestDevice): void {
    if (this.tables[0]) return;
    this.pe.reset();
    this.pe.ddw = undefined;
    this.pe.restoreWindowProp();
    this.tables[0] = this.defaultTable();
    this.tables[1] = undefined;
    this.setTableBase(this.tables[0]);
    this.ctx.k.log.info('pseries-iommu', `${dev.name}: table group ${this.pe.node.path} released: default window restored`);
  }

  private setDeviceTable(dev: GuestDevice, tbl: IommuTable | undefined): void {
    const a = this.ctx.archOf(dev);
    if (a) a.table = tbl;
  }
}
