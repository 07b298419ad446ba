import type { GuestDevice } from '../device.js';
import { ENODEV, EPERM } from '../errno.js';
import { IOMMU_DOMAIN_BLOCKED, IOMMU_DOMAIN_PLATFORM } from '../iommu-core/domain-types.js';
import { IommuDomain, type IommuCap, type IommuDriver, type IommuFwspec, type IommuInstance } from '../iommu-core/driver.js';
import type { GuestKernel } from '../kernel.js';
import type { DevArch, PseriesContext } from './context.js';
import type { PseriesHv } from './hv.js';
import type { PseriesTableGroup } from './table-group.js';

/**
 * spapr_tce_iommu_ops (arch/powerpc/kernel/iommu.c, after d2d00e15808c
 * and the pseries table_group rework; ref A8, seed 000): a static PLATFORM
 * default domain (the platform's own DMA ops run the TCE tables) and a
 * static BLOCKED domain for owners such as VFIO. Attaching BLOCKED takes
 * the table group's ownership; attaching PLATFORM does nothing the first
 * time (no domain before it), and after BLOCKED releases the ownership,
 * which restores the default window and the 64-bit bypass. One IOMMU
 * instance per PE, and one group per instance.
 */
export class SpaprTceDriver implements IommuDriver, PseriesContext {
  readonly name = 'spapr-tce';
  readonly pgsizes = [4096];
  readonly defaultDomain: IommuDomain;
  readonly blockedDomain: IommuDomain;
  /** PE node path -> its table group and registered instance. */
  readonly groups = new Map<string, { group: PseriesTableGroup; instance: IommuInstance }>();
  private readonly arch = new Map<GuestDevice, DevArch>();

  constructor(readonly k: GuestKernel, readonly hv: PseriesHv) {
    this.defaultDomain = new IommuDomain(IOMMU_DOMAIN_PLATFORM, {
      attachDev: (_d, dev, old) => {
        // spapr_tce_platform_iommu_attach_dev: at first attach the ownership is already set.
        if (!old || old.type !== IOMMU_DOMAIN_BLOCKED) return 0;
        this.arch.get(dev)?.group.releaseOwnership(dev);
        return 0;
      },
    });
    this.blockedDomain = new IommuDomain(IOMMU_DOMAIN_BLOCKED, {
      attachDev: (_d, dev) => {
        const g = this.arch.get(dev)?.group;
        if (!g) return -ENODEV;
        return g.takeOwnership(dev) === 0 ? 0 : -EPERM;
      },
    });
  }

  get platform(): IommuDomain {
    return this.defaultDomain;
  }

  archOf(dev: GuestDevice): DevArch | undefined {
    return this.arch.get(dev);
  }

  /** The table group a device belongs to. */
  groupOf(dev: GuestDevice): PseriesTableGroup | undefined {
    return this.arch.get(dev)?.group;
  }

  addGroup(group: PseriesTableGroup, instance: IommuInstance): void {
    this.groups.set(group.pe.node.path, { group, instance });
  }

  /** pci_dma_dev_setup_pSeriesLP + iommu_add_device: the device joins its PE's group, with the group's tables[0] as its table. */
  probeDevice(dev: GuestDevice, fwspec: IommuFwspec): IommuInstance | number {
    const g = this.groups.get(fwspec.fwnode);
    if (!g) return -ENODEV;
    if (!g.group.devices.includes(dev)) g.group.devices.push(dev);
    this.arch.set(dev, { group: g.group, table: g.group.tables[0], dmaOffset: 0, bypass: false });
    return g.instance;
  }

  releaseDevice(dev: GuestDevice): void {
    const a = this.arch.get(dev);
    if (!a) return;
    const i = a.group.devices.indexOf(dev);
    if (i >= 0) a.group.devices.splice(i, 1);
    this.arch.delete(dev);
  }

  deviceGroup(): 'singleton' {
    return 'singleton';
  }

  capable(_dev: GuestDevice, cap: IommuCap): boolean {
    return cap === 'cache-coherency';
  }
}
