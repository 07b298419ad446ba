import type { EventLog } from '../../base/event-log.js';
import type { GuestDevice } from '../device.js';
import { EINVAL, ENODEV, EPROBE_DEFER, errnoName } from '../errno.js';
import type { PciFunction } from '../pci-core/device.js';
import { pciMaxPasids } from '../pci-core/ats.js';
import { pciDeviceGroup } from './device-group.js';
import { isPaging, type DomainType } from './domain-types.js';
import type { IommuCap, IommuDomain, IommuDriver, IommuFwspec, IommuInstance, ResvRegion } from './driver.js';
import type { IommuEvents } from './events.js';
import { IommuGroup } from './group.js';
import { setupDefaultDomain } from './default-domain.js';
import { createDirectMappings, deviceSetDomain } from './attach.js';

/**
 * Historical bugs the core can reproduce on purpose, so tests can show the
 * checks catch them:
 * - 'seed000': releasing DMA ownership does not run the default domain's
 *   attach (powerpc 2ad56efa80db before d2d00e15808c: release_ownership
 *   never ran, the group stayed blocked while the kernel believed the
 *   default domain was back);
 * - 'pre-83b3836bf83f': a static default domain's type is not the driver's
 *   opinion, so !CONFIG_IOMMU_DMA picks IDENTITY against a PLATFORM static
 *   domain and the group gets no default domain (seed 000, patch 2/2);
 * - 'seed004': VFIO's sPAPR TCE driver unsets a window before clearing its
 *   TCEs (before 4ba2fdff2eb1), so the hypervisor removes a window that
 *   still translates and the clearing hypercalls then fail.
 */
export type RegressionSwitch = 'seed000' | 'pre-83b3836bf83f' | 'seed004';
export const REGRESSION_SWITCHES: readonly RegressionSwitch[] = ['seed000', 'pre-83b3836bf83f', 'seed004'];

export interface IommuCoreOptions {
  readonly log: EventLog;
  /** iommu_def_domain_type: DMA (iommu.strict=1), DMA_FQ (lazy) or IDENTITY (iommu.passthrough=1). */
  readonly defaultDomainType: DomainType;
  /** CONFIG_IOMMU_DMA: whether the DMA API can use IOMMU domains at all. */
  readonly iommuDma: boolean;
  readonly regress?: ReadonlySet<RegressionSwitch>;
}

/** Per-device IOMMU state (Linux struct dev_iommu). */
export interface DevIommu {
  readonly fwspec: IommuFwspec;
  instance: IommuInstance | undefined;
  group: IommuGroup | undefined;
  maxPasids: number;
  requireDirect: boolean;
}

/**
 * The guest kernel's IOMMU core, after Linux drivers/iommu/iommu.c: probe
 * (with deferral until the device's IOMMU instance is registered and ready),
 * groups, default domains, domain switching. Ownership, map/unmap and PASID
 * attachment live in ownership.ts, iommu-map.ts and pasid.ts.
 */
export class IommuCore {
  readonly instances: IommuInstance[] = [];
  readonly groups: IommuGroup[] = [];
  readonly observers: IommuEvents[] = [];
  readonly regress: ReadonlySet<RegressionSwitch>;
  /** Counters for the boot report. */
  readonly stats = { maps: 0, unmaps: 0, iotlbSyncs: 0, flushAlls: 0 };
  /** iommu_setup_dma_ops: the DMA layer's hook, run for each device once its group has a default domain. */
  setupDmaOps: ((dev: GuestDevice) => void) | undefined;
  private readonly devs = new Map<GuestDevice, DevIommu>();
  private readonly known: GuestDevice[] = [];
  private readonly byPci = new Map<PciFunction, GuestDevice>();
  private readonly providers: ((dev: GuestDevice) => IommuFwspec | undefined)[] = [];
  private readonly deferredSet = new Set<GuestDevice>();
  private readonly globalPasids = new Set<number>();
  private nextGroupId = 0;
  private nextDomainSerial = 0;

  constructor(readonly opts: IommuCoreOptions) {
    this.regress = opts.regress ?? new Set();
  }

  get log(): EventLog {
    return this.opts.log;
  }

  /** Firmware topology (DMAR scopes, IORT, VIOT, DT iommu-map): which IOMMU instance translates a device. */
  addFwspecProvider(p: (dev: GuestDevice) => IommuFwspec | undefined): void {
    this.providers.push(p);
  }

  fwspecOf(dev: GuestDevice): IommuFwspec | undefined {
    const st = this.devs.get(dev);
    if (st) return st.fwspec;
    for (const p of this.providers) {
      const f = p(dev);
      if (f) return f;
    }
    return undefined;
  }

  devIommu(dev: GuestDevice): DevIommu | undefined {
    return this.devs.get(dev);
  }
  groupOf(dev: GuestDevice): IommuGroup | undefined {
    return this.devs.get(dev)?.group;
  }
  groupOfPci(pdev: PciFunction): IommuGroup | undefined {
    const d = this.byPci.get(pdev);
    return d ? this.groupOf(d) : undefined;
  }
  deviceOf(pdev: PciFunction): GuestDevice | undefined {
    return this.byPci.get(pdev);
  }
  get deferred(): readonly GuestDevice[] {
    return [...this.deferredSet];
  }
  driverOf(dev: GuestDevice): IommuDriver | undefined {
    return this.devs.get(dev)?.instance?.driver;
  }

  /** device_iommu_capable. */
  capable(dev: GuestDevice, cap: IommuCap): boolean {
    const d = this.driverOf(dev);
    return !!d && !!this.groupOf(dev) && (d.capable?.(dev, cap) ?? false);
  }

  resvRegions(dev: GuestDevice): ResvRegion[] {
    return this.driverOf(dev)?.getResvRegions?.(dev) ?? [];
  }

  /** iommu_alloc_global_pasid: lowest free PASID from 1 below the device's limit, or undefined. */
  allocGlobalPasid(dev: GuestDevice): number | undefined {
    const max = this.devs.get(dev)?.maxPasids ?? 0;
    for (let p = 1; p < max; p++) {
      if (!this.globalPasids.has(p)) {
        this.globalPasids.add(p);
        return p;
      }
    }
    return undefined;
  }
  freeGlobalPasid(pasid: number): void {
    this.globalPasids.delete(pasid);
  }

  /** iommu_domain_init: owner, page sizes, a serial for logs. */
  initDomain(domain: IommuDomain, driver: IommuDriver, type: DomainType): IommuDomain {
    if (domain.serial < 0) domain.serial = this.nextDomainSerial++;
    domain.owner ??= driver;
    if (domain.pgsizes.length === 0) domain.pgsizes = driver.pgsizes;
    if (domain.type !== type && isPaging(type)) domain.type = type;
    return domain;
  }

  /** iommu_device_register: a hardware instance is ready; probe every device waiting for it. */
  registerInstance(inst: IommuInstance): number {
    if (this.instances.some((i) => i.fwnode === inst.fwnode)) return -EINVAL;
    this.instances.push(inst);
    this.log.info('iommu', `${inst.name}: registered (${inst.driver.name}, fwnode ${inst.fwnode})`);
    return this.busProbe();
  }

  /** Re-runs probing for deferred devices (a driver that was not ready now is). */
  retryDeferred(): number {
    return this.deferredSet.size > 0 ? this.busProbe() : 0;
  }

  /**
   * BUS_NOTIFY_ADD_DEVICE -> iommu_probe_device. 0: the device is in a group
   * with a default domain; -ENODEV: no IOMMU translates it (direct DMA);
   * -EPROBE_DEFER: its IOMMU is not ready, it will be probed later; another
   * errno: probing failed and the device has no group.
   */
  addDevice(dev: GuestDevice): number {
    if (!this.known.includes(dev)) this.known.push(dev);
    if (dev.pci) this.byPci.set(dev.pci, dev);
    const ret = this.probeDevice(dev, undefined);
    if (ret === -EPROBE_DEFER) {
      if (!this.deferredSet.has(dev)) this.log.info(`pci ${dev.name}`, 'IOMMU not ready, probe deferred');
      this.deferredSet.add(dev);
    }
    return ret;
  }

  /** bus_iommu_probe: probe every known device, then set up default domains group by group. */
  private busProbe(): number {
    const groupList: IommuGroup[] = [];
    for (const dev of this.known) {
      if (this.groupOf(dev)) continue;
      const ret = this.probeDevice(dev, groupList);
      if (ret === 0) this.deferredSet.delete(dev);
      else if (ret === -EPROBE_DEFER) this.deferredSet.add(dev);
      else if (ret !== -ENODEV) this.deferredSet.delete(dev);
    }
    let result = 0;
    for (const group of groupList) {
      const ret = setupDefaultDomain(this, group, 0);
      if (ret) {
        this.failGroup(group, ret);
        result = ret;
        continue;
      }
      for (const d of group.devices) this.setupDmaOps?.(d);
    }
    return result;
  }

  /** __iommu_probe_device. With `groupList`, new groups are collected for the caller's default-domain pass. */
  private probeDevice(dev: GuestDevice, groupList: IommuGroup[] | undefined): number {
    if (this.groupOf(dev)) return 0;
    const fwspec = this.fwspecOf(dev);
    if (!fwspec) return -ENODEV;
    const inst = this.instances.find((i) => i.fwnode === fwspec.fwnode);
    if (!inst) return -EPROBE_DEFER; // iommu_fwspec_init: no ops registered for that fwnode yet
    const got = inst.driver.probeDevice(dev, fwspec);
    if (typeof got === 'number') {
      if (got !== -EPROBE_DEFER && got !== -ENODEV) this.log.err(`pci ${dev.name}`, `IOMMU probe failed: ${errnoName(got)}`);
      return got;
    }
    const st: DevIommu = { fwspec, instance: got, group: undefined, maxPasids: 0, requireDirect: false };
    this.devs.set(dev, st);
    const kind = got.driver.deviceGroup?.(dev) ?? (dev.pci ? 'pci' : 'generic');
    let group: IommuGroup | undefined;
    if (kind === 'pci' && dev.pci) group = pciDeviceGroup(dev.pci, (p) => this.groupOfPci(p));
    else if (kind === 'singleton') group = this.groups.find((g) => g.devices.some((d) => this.devs.get(d)?.instance === got));
    group ??= this.allocGroup();
    st.group = group;
    st.maxPasids = Math.min(dev.pci ? pciMaxPasids(dev.pci) : 0, got.maxPasids);
    group.devices.push(dev);
    this.log.info(`pci ${dev.name}`, `Adding to iommu group ${group.id}`);
    if (group.defaultDomain) createDirectMappings(this, group.defaultDomain, dev);
    if (group.domain) {
      const ret = deviceSetDomain(this, group, dev, group.domain, 0);
      if (ret) {
        this.removeFromGroup(dev);
        return ret;
      }
      if (group.defaultDomain) this.setupDmaOps?.(dev);
    } else if (!group.defaultDomain && !groupList) {
      const ret = setupDefaultDomain(this, group, 0);
      if (ret) {
        this.failGroup(group, ret);
        return ret;
      }
      this.setupDmaOps?.(dev);
    } else if (!group.defaultDomain && groupList && !groupList.includes(group)) {
      groupList.push(group);
    }
    return 0;
  }

  private allocGroup(): IommuGroup {
    const g = new IommuGroup(this.nextGroupId++);
    this.groups.push(g);
    for (const o of this.observers) o.groupCreated?.(g);
    return g;
  }

  /** A group whose default domain could not be set up: its devices end up with no group (as Linux leaves them). */
  private failGroup(group: IommuGroup, ret: number): void {
    this.log.err('iommu', `group ${group.id}: no default domain (${errnoName(ret)}); its devices have no IOMMU group`);
    for (const d of [...group.devices]) this.removeFromGroup(d);
  }

  private removeFromGroup(dev: GuestDevice): void {
    const st = this.devs.get(dev);
    const group = st?.group;
    if (!st || !group) return;
    group.devices.splice(group.devices.indexOf(dev), 1);
    st.instance?.driver.releaseDevice?.(dev);
    this.devs.delete(dev);
    for (const o of this.observers) o.detached?.(dev, 0);
    if (group.devices.length === 0) {
      // The last device left: the group's own domains go with it (iommu_deinit_device).
      for (const d of [group.defaultDomain, group.blockingDomain]) {
        if (!d || d === st.instance?.driver.defaultDomain || d === st.instance?.driver.blockedDomain) continue;
        d.ops.free?.(d);
        for (const o of this.observers) o.domainFreed?.(d);
      }
      group.defaultDomain = group.blockingDomain = group.domain = undefined;
      this.groups.splice(this.groups.indexOf(group), 1);
    }
  }

  /** BUS_NOTIFY_REMOVED_DEVICE -> iommu_release_device (hot unplug). */
  removeDevice(dev: GuestDevice): void {
    this.deferredSet.delete(dev);
    const st = this.devs.get(dev);
    const rd = st?.instance?.driver.releaseDomain;
    if (st?.group && rd) rd.ops.attachDev(rd, dev, st.group.domain);
    this.removeFromGroup(dev);
    const i = this.known.indexOf(dev);
    if (i >= 0) this.known.splice(i, 1);
    if (dev.pci) this.byPci.delete(dev.pci);
  }

  /**
   * For drivers that keep their own translation outside iommu_map (PLATFORM
   * domains: the sPAPR TCE DMA ops): report what they mapped, unmapped and
   * when the invalidation completed, so the oracle follows it too.
   */
  notifyMapped(domain: IommuDomain, iova: number, paddr: number, size: number, prot: number): void {
    for (const o of this.observers) o.mapped?.(domain, iova, paddr, size, prot);
  }
  notifyUnmapped(domain: IommuDomain, iova: number, size: number): void {
    for (const o of this.observers) o.unmapped?.(domain, iova, size);
  }
  notifyInvalidated(domain: IommuDomain, iova: number, size: number): void {
    this.stats.iotlbSyncs++;
    for (const o of this.observers) o.invalidated?.(domain, iova, iova + size - 1);
  }
}
