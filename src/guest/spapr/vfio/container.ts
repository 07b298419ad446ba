import type { GuestDevice } from '../../device.js';
import { EBUSY, EINVAL, EIO, ENODEV, ENOSPC, EPERM } from '../../errno.js';
import { IOMMU_DOMAIN_UNMANAGED, IOMMU_READ, IOMMU_WRITE } from '../../iommu-core/domain-types.js';
import { IommuDomain } from '../../iommu-core/driver.js';
import type { IommuGroup } from '../../iommu-core/group.js';
import { iommuGroupClaimDmaOwner, iommuGroupReleaseDmaOwner } from '../../iommu-core/ownership.js';
import type { GuestKernel } from '../../kernel.js';
import type { SpaprTceDriver } from '../driver.js';
import type { IommuTable } from '../iommu-table.js';
import { TCE_PCI_READ, TCE_PCI_WRITE, TCE_SHIFT } from '../papr.js';
import type { PseriesTableGroup } from '../table-group.js';
import { VFIO_SPAPR_TCE_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU } from './uapi.js';
import type { VfioUserMemory } from './user-mm.js';

/** What a TCE the container wrote points at, so clearing can unuse the preregistered page. */
interface Written {
  readonly hpa: number;
  readonly perm: number;
}

/**
 * A VFIO container with the sPAPR TCE IOMMU driver (Linux
 * drivers/vfio/vfio_iommu_spapr_tce.c, after the 2024 series; ref A9):
 * groups join it (claiming DMA ownership: the BLOCKED domain takes the
 * table group), SET_IOMMU picks v1 or v2, windows are table-group tables
 * created on demand, and MAP/UNMAP exchange TCEs in them through the
 * hypercalls. Detach clears a window's TCEs before unsetting it
 * (4ba2fdff2eb1; 'seed004' reverses the order), then the group's DMA
 * ownership is released. The oracle follows the container's mappings as
 * an UNMANAGED domain the group's devices are attached to while it owns
 * them. The ioctl decoding is container-ioctl.ts.
 */
export class VfioSpaprTceContainer {
  v2 = false;
  iommuSet = false;
  enabled = false;
  defWindowPending = false;
  readonly groups: IommuGroup[] = [];
  readonly tables: (IommuTable | undefined)[] = [undefined, undefined];
  /** The oracle's view of what the user mapped. */
  readonly domain: IommuDomain;
  /** Entries (absolute TCE index) each table got from this container. */
  private readonly written = new Map<IommuTable, Map<number, Written>>();

  constructor(readonly k: GuestKernel, readonly driver: SpaprTceDriver, readonly user: VfioUserMemory) {
    this.domain = k.iommu.initDomain(new IommuDomain(IOMMU_DOMAIN_UNMANAGED, { attachDev: () => 0 }), driver, IOMMU_DOMAIN_UNMANAGED);
  }

  tableGroupOf(group: IommuGroup): PseriesTableGroup | undefined {
    const dev = group.devices[0];
    return dev ? this.driver.groupOf(dev) : undefined;
  }

  private attached(devs: readonly GuestDevice[]): void {
    for (const d of devs) for (const o of this.k.iommu.observers) o.attached?.(d, this.domain, 0);
  }

  /** VFIO_GROUP_SET_CONTAINER: iommu_group_claim_dma_owner, then attach if the IOMMU type is set. */
  setContainer(group: IommuGroup): number {
    if (this.groups.includes(group)) return -EBUSY;
    const ret = iommuGroupClaimDmaOwner(this.k.iommu, group, this);
    if (ret) return ret;
    if (!this.iommuSet) {
      this.groups.push(group);
      return 0;
    }
    const a = this.attachGroup(group);
    if (a) iommuGroupReleaseDmaOwner(this.k.iommu, group);
    return a;
  }

  /** VFIO_SET_IOMMU -> tce_iommu_open and attach_group for every group already in the container. */
  setIommu(type: number): number {
    if (this.iommuSet) return -EBUSY;
    if (type !== VFIO_SPAPR_TCE_IOMMU && type !== VFIO_SPAPR_TCE_v2_IOMMU) return -EINVAL;
    if (this.groups.length === 0) return -EINVAL;
    this.v2 = type === VFIO_SPAPR_TCE_v2_IOMMU;
    const pending = [...this.groups];
    this.groups.length = 0;
    this.iommuSet = true;
    for (const g of pending) {
      const ret = this.attachGroup(g);
      if (ret) {
        this.iommuSet = this.groups.length > 0;
        return ret;
      }
    }
    return 0;
  }

  /**
   * tce_iommu_attach_group: a table group with take/release ops needs v2
   * (-EPERM for v1); the container's tables are set on it; the first group
   * of a container without tables[0] gets the default window lazily.
   */
  private attachGroup(group: IommuGroup): number {
    const tg = this.tableGroupOf(group);
    if (!tg) return -ENODEV;
    if (!this.v2) return -EPERM;
    for (let i = 0; i < this.tables.length; i++) {
      const t = this.tables[i];
      if (!t) continue;
      const ret = tg.setWindow(i, t);
      if (ret) {
        for (let j = 0; j < i; j++) if (this.tables[j]) tg.unsetWindow(j);
        return ret;
      }
    }
    if (this.groups.length === 0 && !this.tables[0]) this.defWindowPending = true;
    this.groups.push(group);
    this.attached(group.devices);
    return 0;
  }

  /** VFIO_GROUP_UNSET_CONTAINER: tce_iommu_detach_group (clear, then unset each window), then release the DMA ownership. */
  unsetContainer(group: IommuGroup): number {
    const i = this.groups.indexOf(group);
    if (i < 0) return -EINVAL;
    const tg = this.tableGroupOf(group);
    if (tg && this.iommuSet) {
      for (let n = 0; n < this.tables.length; n++) if (this.tables[n]) this.clearAndUnset(tg, n);
    }
    this.groups.splice(i, 1);
    if (this.groups.length === 0) {
      this.tables.fill(undefined);
      this.written.clear();
      this.iommuSet = false;
      this.enabled = false;
      this.defWindowPending = false;
    }
    iommuGroupReleaseDmaOwner(this.k.iommu, group);
    return 0;
  }

  /** The 2024 order: clear the TCEs, then unset the window; 'seed004' unsets first (the old bug). */
  private clearAndUnset(tg: PseriesTableGroup, num: number): void {
    const tbl = this.tables[num]!;
    const oldOrder = this.k.iommu.regress.has('seed004');
    if (!oldOrder) this.clear(tbl, tbl.itOffset, tbl.itSize);
    tg.unsetWindow(num);
    if (oldOrder) this.clear(tbl, tbl.itOffset, tbl.itSize);
  }

  /** tce_iommu_find_table: the container window holding bus address `ioba`. */
  findTable(ioba: bigint): number {
    return this.tables.findIndex((t) => t !== undefined && t.contains(ioba));
  }

  /** tce_iommu_create_default_window: the 4 KiB, tce32_size window, on first need. */
  createDefaultWindow(): number {
    if (!this.defWindowPending) return 0;
    const tg = this.groups[0] ? this.tableGroupOf(this.groups[0]) : undefined;
    if (!tg) return -ENODEV;
    const r = this.createWindow(TCE_SHIFT, tg.tce32Size, 1);
    if (typeof r === 'number') return r;
    this.defWindowPending = false;
    return 0;
  }

  /** tce_iommu_create_window: a free slot, a page size the groups offer, create_table, set_window on every group. */
  createWindow(pageShift: number, windowSize: bigint, levels: number): bigint | number {
    const num = this.tables.findIndex((t) => t === undefined);
    if (num < 0) return -ENOSPC;
    const tg = this.groups[0] ? this.tableGroupOf(this.groups[0]) : undefined;
    if (!tg) return -EINVAL;
    if (pageShift >= 64 || !(tg.pgsizes & (1n << BigInt(pageShift)))) return -EINVAL;
    if (tg.getTableSize(pageShift, windowSize, levels) === 0n) return -EINVAL;
    const tbl = tg.createTable(num, pageShift, windowSize, levels);
    if (typeof tbl === 'number') return tbl;
    for (const g of this.groups) {
      const ret = this.tableGroupOf(g)!.setWindow(num, tbl);
      if (ret) return ret;
    }
    this.tables[num] = tbl;
    return tbl.busStart;
  }

  /** tce_iommu_remove_window: clear (before unset, unless 'seed004'), unset on every group, free. */
  removeWindow(start: bigint): number {
    const num = this.findTable(start);
    if (num < 0) return -EINVAL;
    for (const g of this.groups) this.clearAndUnset(this.tableGroupOf(g)!, num);
    this.written.delete(this.tables[num]!);
    this.tables[num] = undefined;
    return 0;
  }

  /**
   * tce_iommu_build_v2 (v1: tce_iommu_build): one TCE exchange per page,
   * each page a preregistered user page (-EINVAL otherwise); on failure
   * the pages done so far are cleared again.
   */
  build(tbl: IommuTable, ioba: bigint, vaddr: bigint, pages: number, read: boolean, write: boolean): number {
    const ps = BigInt(tbl.pageSize);
    const first = Number(ioba >> BigInt(tbl.itPageShift));
    const perm = (read ? TCE_PCI_READ : 0n) | (write ? TCE_PCI_WRITE : 0n);
    const map = this.writtenOf(tbl);
    for (let i = 0; i < pages; i++) {
      const ua = vaddr + BigInt(i) * ps;
      const hit = this.v2 ? this.user.lookup(ua, ps) : undefined;
      const hpa = this.v2 ? hit?.hpa : this.user.translate(ua, ps);
      if (hpa === undefined || hpa % tbl.pageSize) {
        this.clear(tbl, first, i);
        return -EINVAL;
      }
      const entry = first + i;
      const old = tbl.exchange(entry - tbl.itOffset, BigInt(hpa) | perm);
      if (old === undefined) {
        this.clear(tbl, first, i);
        return -EIO;
      }
      this.unuse(tbl, entry);
      if (hit) hit.region.mapped++;
      map.set(entry, { hpa, perm: Number(perm) });
      this.k.iommu.notifyMapped(this.domain, Number(BigInt(entry) * ps), hpa, tbl.pageSize, (read ? IOMMU_READ : 0) | (write ? IOMMU_WRITE : 0));
    }
    return 0;
  }

  /** tce_iommu_clear over absolute entries [entry, entry + pages): the TCEs this container wrote go back to 0. */
  clear(tbl: IommuTable, entry: number, pages: number): void {
    const map = this.written.get(tbl);
    if (!map) return;
    for (const e of [...map.keys()].sort((a, b) => a - b)) {
      if (e < entry || e >= entry + pages) continue;
      tbl.exchange(e - tbl.itOffset, 0n);
      this.unuse(tbl, e);
    }
  }

  /** Drops the container's record of an entry (tce_iommu_unuse_page_v2) and tells the oracle the page is gone. */
  private unuse(tbl: IommuTable, entry: number): void {
    const map = this.written.get(tbl);
    const w = map?.get(entry);
    if (!map || !w) return;
    map.delete(entry);
    const region = this.user.regionOf(w.hpa);
    if (region && region.mapped > 0) region.mapped--;
    const iova = entry * tbl.pageSize;
    this.k.iommu.notifyUnmapped(this.domain, iova, tbl.pageSize);
    this.k.iommu.notifyInvalidated(this.domain, iova, tbl.pageSize);
  }

  private writtenOf(tbl: IommuTable): Map<number, Written> {
    let m = this.written.get(tbl);
    if (!m) this.written.set(tbl, (m = new Map()));
    return m;
  }

  /** TCEs the container has in a window now (for tests and reports). */
  liveEntries(num: number): number {
    const t = this.tables[num];
    return t ? this.written.get(t)?.size ?? 0 : 0;
  }
}
