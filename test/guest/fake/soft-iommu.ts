import { EventLog } from '../../../src/base/event-log.js';
import { VirtualClock } from '../../../src/base/clock.js';
import { GuestDevice } from '../../../src/guest/device.js';
import { EPROBE_DEFER } from '../../../src/guest/errno.js';
import { IommuCore, type RegressionSwitch } from '../../../src/guest/iommu-core/core.js';
import {
  IOMMU_DOMAIN_BLOCKED, IOMMU_DOMAIN_DMA_FQ, IOMMU_DOMAIN_PLATFORM, isPaging, type DomainType,
} from '../../../src/guest/iommu-core/domain-types.js';
import { IommuDomain, type IommuCap, type IommuDriver, type IommuInstance } from '../../../src/guest/iommu-core/driver.js';
import { pciEnableAcs } from '../../../src/guest/pci-core/acs.js';
import { enumeratePci } from '../../../src/guest/pci-core/enumerate.js';
import { pcieTopology } from './topology.js';

/** A hardware-less IOMMU driver for core tests: domains keep their mappings in a Map; every call is recorded. */
export class SoftIommu implements IommuDriver {
  readonly name = 'soft-iommu';
  readonly pgsizes = [4096, 2 << 20];
  readonly calls: string[] = [];
  readonly instance: IommuInstance = { name: 'soft0', fwnode: 'soft', driver: this, maxPasids: 0 };
  defaultDomain?: IommuDomain;
  blockedDomain?: IommuDomain;
  opinion: ((dev: GuestDevice) => DomainType) | undefined;
  defers = 0;
  refuse = new Set<DomainType>();
  caps = new Set<IommuCap>(['deferred-flush']);
  readonly attached = new Map<GuestDevice, IommuDomain>();

  constructor(o: { staticPlatform?: boolean } = {}) {
    if (o.staticPlatform) {
      this.defaultDomain = this.mk(IOMMU_DOMAIN_PLATFORM);
      this.blockedDomain = this.mk(IOMMU_DOMAIN_BLOCKED);
    }
  }

  get defDomainType(): ((dev: GuestDevice) => DomainType) | undefined {
    return this.opinion;
  }

  private mk(type: DomainType): IommuDomain {
    const map = new Map<number, number>();
    return new IommuDomain(type, {
      attachDev: (d, dev) => {
        this.calls.push(`attach ${dev.name} ${d.type}`);
        this.attached.set(dev, d);
        return 0;
      },
      ...(isPaging(type) ? {
        mapPages: (_d: IommuDomain, iova: number, pa: number, pg: number, n: number) => {
          for (let i = 0; i < n; i++) map.set(iova + i * pg, pa + i * pg);
          return { ret: 0, mapped: n * pg };
        },
        unmapPages: (_d: IommuDomain, iova: number, pg: number, n: number, g: { addPage(a: number, b: number): void }) => {
          let done = 0;
          for (let i = 0; i < n && map.delete(iova + i * pg); i++) {
            g.addPage(iova + i * pg, pg);
            done += pg;
          }
          return done;
        },
        iotlbSync: () => this.calls.push('sync'),
        flushIotlbAll: () => this.calls.push('flush-all'),
      } : {}),
    });
  }

  probeDevice(): IommuInstance | number {
    if (this.defers > 0) {
      this.defers--;
      return -EPROBE_DEFER;
    }
    return this.instance;
  }

  domainAlloc(type: DomainType): IommuDomain | number {
    if (this.refuse.has(type)) return -95;
    return this.mk(type);
  }

  capable(_dev: GuestDevice, cap: IommuCap): boolean {
    return this.caps.has(cap);
  }
}

/** The PCIe topology enumerated, as guest devices, with a core and a soft IOMMU that covers every function. */
export function coreSetup(o: { defaultDomainType?: DomainType; iommuDma?: boolean; regress?: RegressionSwitch[]; rootPortAcs?: number; mfAcs?: number; staticPlatform?: boolean; enableAcs?: boolean } = {}) {
  const topo = pcieTopology({ ...(o.rootPortAcs !== undefined ? { rootPortAcs: o.rootPortAcs } : {}), ...(o.mfAcs !== undefined ? { mfAcs: o.mfAcs } : {}) });
  const pci = enumeratePci(topo.host.access(), { assignBuses: true });
  if (o.enableAcs ?? true) for (const f of pci.functions) pciEnableAcs(f);
  const clock = new VirtualClock();
  const log = new EventLog(clock);
  const core = new IommuCore({ log, defaultDomainType: o.defaultDomainType ?? IOMMU_DOMAIN_DMA_FQ, iommuDma: o.iommuDma ?? true, regress: new Set(o.regress ?? []) });
  const drv = new SoftIommu({ ...(o.staticPlatform ? { staticPlatform: true } : {}) });
  core.addFwspecProvider((dev) => (dev.pci ? { fwnode: 'soft', ids: [dev.pci.devId] } : undefined));
  const devs = pci.functions.map((f) => new GuestDevice(f.name, f));
  const dev = (name: string): GuestDevice => {
    const f = topo.fns[name]!;
    return devs.find((d) => d.pci!.devfn === f.devfn && d.pci!.busNumber === f.busNumber)!;
  };
  return { topo, pci, core, drv, devs, dev, log };
}
