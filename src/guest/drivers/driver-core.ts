import type { EventLog } from '../../base/event-log.js';
import type { GuestDevice } from '../device.js';
import { ENODEV, EPROBE_DEFER, errnoName } from '../errno.js';
import type { IommuCore } from '../iommu-core/core.js';
import { iommuDeviceUnuseDefaultDomain, iommuDeviceUseDefaultDomain } from '../iommu-core/ownership.js';
import type { DmaApi } from '../dma/dma-api.js';

/** A PCI device driver (Linux struct pci_driver). */
export interface PciDriver {
  readonly name: string;
  /** Vendor/device pairs it binds to. */
  readonly ids: readonly { readonly vendor: number; readonly device: number }[];
  /** 0 when bound; -EPROBE_DEFER to be retried later; another errno to give up. */
  probe(dev: GuestDevice): number;
  remove?(dev: GuestDevice): void;
}

/**
 * The driver core for PCI drivers: matching, dma_configure (which defers
 * while the device's IOMMU is not ready), iommu_device_use_default_domain,
 * probe, and the deferred-probe list retried after every successful bind
 * (driver_deferred_probe_trigger) and when the IOMMU core asks.
 */
export class DriverCore {
  readonly drivers: PciDriver[] = [];
  private readonly bound = new Map<GuestDevice, PciDriver>();
  private readonly deferred = new Set<GuestDevice>();

  constructor(private readonly log: EventLog, private readonly dma: DmaApi, private readonly iommu: IommuCore | undefined) {}

  register(d: PciDriver): void {
    if (!this.drivers.includes(d)) this.drivers.push(d);
  }

  driverOf(dev: GuestDevice): PciDriver | undefined {
    return this.bound.get(dev);
  }
  get deferredDevices(): readonly GuestDevice[] {
    return [...this.deferred];
  }

  private match(dev: GuestDevice): PciDriver | undefined {
    const pci = dev.pci;
    if (!pci) return undefined;
    return this.drivers.find((d) => d.ids.some((id) => id.vendor === pci.vendor && id.device === pci.device));
  }

  /** really_probe: returns 0, -ENODEV (no driver), -EPROBE_DEFER, or the driver's error. */
  bind(dev: GuestDevice): number {
    if (this.bound.has(dev)) return 0;
    const drv = this.match(dev);
    if (!drv) return -ENODEV;
    let ret = this.dma.configure(dev);
    if (ret === 0 && this.iommu) ret = iommuDeviceUseDefaultDomain(this.iommu, dev);
    if (ret === 0) {
      ret = drv.probe(dev);
      if (ret && this.iommu) iommuDeviceUnuseDefaultDomain(this.iommu, dev);
    }
    if (ret === -EPROBE_DEFER) {
      if (!this.deferred.has(dev)) this.log.info(`${drv.name} ${dev.name}`, 'probe deferred');
      this.deferred.add(dev);
      return ret;
    }
    this.deferred.delete(dev);
    if (ret) {
      this.log.err(`${drv.name} ${dev.name}`, `probe failed: ${errnoName(ret)}`);
      return ret;
    }
    this.bound.set(dev, drv);
    dev.driver = drv.name;
    this.log.info(`${drv.name} ${dev.name}`, `bound (DMA ops: ${this.dma.opsOf(dev).name})`);
    this.retryDeferred();
    return 0;
  }

  /** device_release_driver. */
  unbind(dev: GuestDevice): void {
    const drv = this.bound.get(dev);
    if (!drv) return;
    drv.remove?.(dev);
    this.bound.delete(dev);
    dev.driver = undefined;
    if (this.iommu) iommuDeviceUnuseDefaultDomain(this.iommu, dev);
    this.log.info(`${drv.name} ${dev.name}`, 'unbound');
  }

  /** bus_remove_device (hot removal): release the driver and forget a pending deferred probe. */
  removeDevice(dev: GuestDevice): void {
    this.unbind(dev);
    this.deferred.delete(dev);
  }

  /** driver_deferred_probe_trigger: retry every deferred device until no more progress. */
  retryDeferred(): void {
    let progress = true;
    while (progress && this.deferred.size > 0) {
      progress = false;
      for (const dev of [...this.deferred]) {
        this.deferred.delete(dev);
        const ret = this.bind(dev);
        if (ret === 0) progress = true;
      }
    }
  }
}
