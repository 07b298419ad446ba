import type { GuestDevice } from '../../../src/guest/device.js';
import type { DmaOps } from '../../../src/guest/dma-ops.js';
import { EPROBE_DEFER } from '../../../src/guest/errno.js';
import {
  IOMMU_DOMAIN_BLOCKED, IOMMU_DOMAIN_IDENTITY, IOMMU_DOMAIN_PLATFORM, IOMMU_READ, IOMMU_WRITE, isPaging, type DomainType,
} from '../../../src/guest/iommu-core/domain-types.js';
import { IommuDomain, type IommuCap, type IommuDomainOps, type IommuDriver, type IommuFwspec, type IommuInstance } from '../../../src/guest/iommu-core/driver.js';
import type { IotlbGather } from '../../../src/guest/iommu-core/gather.js';
import type { GuestKernel } from '../../../src/guest/kernel.js';
import type { IommuModule } from '../../../src/guest/module.js';
import type { PciDriver } from '../../../src/guest/drivers/driver-core.js';
import { dmaAliases } from '../../../src/guest/pci-core/dma-alias.js';
import {
  TI_APERTURE, TI_CTX_PASID, TI_CTX_RID, TI_CTX_VAL, TI_INV_ADDR, TI_INV_CMD, TI_INV_PAGES, TI_INV_ROOT, TI_TABLE_BYTES,
} from './test-iommu-hw.js';

export interface TestIommuOptions {
  readonly base: number;
  /** The broken stub: the invalidation after an unmap is skipped (the core still believes it completed). */
  skipInvalidation?: boolean;
  readonly defDomainType?: (dev: GuestDevice) => DomainType;
  /** A static PLATFORM default domain and a static BLOCKED domain, as powerpc's spapr_tce_iommu_ops. */
  readonly staticPlatform?: boolean;
  readonly pasid?: boolean;
  /** probe_device returns -EPROBE_DEFER this many times first. */
  probeDefers?: number;
  /** A broken BLOCKED attach that leaves the old context in place (to show the oracle's isolation check). */
  readonly blockedNoop?: boolean;
  /** Register the instance only when a PCI function 1b36:00fe binds (the IOMMU is itself a PCI device). */
  readonly lateRegister?: boolean;
  readonly covers?: (dev: GuestDevice) => boolean;
}

class TestDomain extends IommuDomain {
  constructor(type: DomainType, ops: IommuDomainOps, readonly root: number) {
    super(type, ops, { pgsizes: [4096], geometry: { apertureStart: 0, apertureEnd: TI_APERTURE - 1, forceAperture: true } });
  }
}

/** The guest driver of the test IOMMU (an IommuDriver, the way a vIOMMU guest driver plugs in). */
export class TestIommuDriver implements IommuDriver {
  readonly name = 'test-iommu';
  readonly pgsizes = [4096];
  readonly defaultDomain?: IommuDomain;
  readonly blockedDomain?: IommuDomain;
  readonly instance: IommuInstance;
  readonly defDomainType?: (dev: GuestDevice) => DomainType;
  registered = false;

  constructor(private readonly k: GuestKernel, readonly opts: TestIommuOptions) {
    this.instance = { name: 'tiommu0', fwnode: 'tiommu', driver: this, maxPasids: opts.pasid ? 1 << 20 : 0 };
    if (opts.defDomainType) this.defDomainType = opts.defDomainType;
    if (opts.staticPlatform) {
      this.defaultDomain = new IommuDomain(IOMMU_DOMAIN_PLATFORM, { attachDev: (_d, dev) => this.platformAttach(dev) });
      this.blockedDomain = new IommuDomain(IOMMU_DOMAIN_BLOCKED, { attachDev: (_d, dev) => (opts.blockedNoop ? 0 : this.setCtx(dev, 0, 0)) });
      k.dma.registerPlatformOps(this.name, () => this.platformOps());
    }
  }

  private w(off: number, v: number): void {
    this.k.port.write(this.opts.base + off, 8, v % 2 ** 32, Math.floor(v / 2 ** 32));
  }

  setCtx(dev: GuestDevice, pasid: number, val: number): number {
    for (const rid of dev.pci ? dmaAliases(dev.pci) : []) {
      this.k.port.write(this.opts.base + TI_CTX_RID, 4, rid);
      this.k.port.write(this.opts.base + TI_CTX_PASID, 4, pasid);
      this.w(TI_CTX_VAL, val);
    }
    return 0;
  }

  /** PLATFORM attach: (re)establishes the platform DMA window; coming back from BLOCKED this is release_ownership. */
  private platformAttach(dev: GuestDevice): number {
    return this.setCtx(dev, 0, 1);
  }

  /**
   * The platform's own DMA ops: the bypass window (bus address = physical),
   * reported to the core so the oracle follows it; without the window the
   * device's DMA mask cannot be set ("table unavailable").
   */
  private platformOps(): DmaOps {
    const dom = (): IommuDomain => this.defaultDomain!;
    return {
      name: 'test-platform',
      map: (_dev, paddr, size, dir) => {
        const start = paddr - (paddr % 4096);
        const len = Math.ceil((paddr + size - start) / 4096) * 4096;
        this.k.iommu.notifyMapped(dom(), start, start, len, dir === 'to-device' ? IOMMU_READ : dir === 'from-device' ? IOMMU_WRITE : IOMMU_READ | IOMMU_WRITE);
        return paddr;
      },
      unmap: (_dev, dma, size) => {
        const start = dma - (dma % 4096);
        const len = Math.ceil((dma + size - start) / 4096) * 4096;
        this.k.iommu.notifyUnmapped(dom(), start, len);
        this.k.iommu.notifyInvalidated(dom(), start, len);
      },
      supported: (dev) => this.ctxOf(dev) === 1,
    };
  }

  /** Reads the device's context back from the hardware (0 none, 1 bypass, root | 2). */
  ctxOf(dev: GuestDevice, pasid = 0): number {
    if (!dev.pci) return 0;
    this.k.port.write(this.opts.base + TI_CTX_RID, 4, dev.pci.devId);
    this.k.port.write(this.opts.base + TI_CTX_PASID, 4, pasid);
    const r = this.k.port.read(this.opts.base + TI_CTX_VAL, 8);
    return r.lo + r.hi * 2 ** 32;
  }

  probeDevice(dev: GuestDevice, _fw: IommuFwspec): IommuInstance | number {
    if (this.opts.probeDefers && this.opts.probeDefers > 0) {
      this.opts.probeDefers--;
      return -EPROBE_DEFER;
    }
    return this.instance;
  }

  capable(_dev: GuestDevice, cap: IommuCap): boolean {
    return cap === 'deferred-flush' || cap === 'cache-coherency' || (cap === 'pasid' && !!this.opts.pasid);
  }

  domainAlloc(type: DomainType): IommuDomain | number {
    if (type === IOMMU_DOMAIN_BLOCKED) return new IommuDomain(type, { attachDev: (_d, dev) => (this.opts.blockedNoop ? 0 : this.setCtx(dev, 0, 0)) });
    if (type === IOMMU_DOMAIN_IDENTITY) return new IommuDomain(type, { attachDev: (_d, dev) => this.setCtx(dev, 0, 1) });
    if (!isPaging(type)) return -22;
    const root = this.k.mem.alloc(TI_TABLE_BYTES);
    if (root === undefined) return -12;
    this.k.port.writeBytes(root, new Uint8Array(TI_TABLE_BYTES));
    const ops: IommuDomainOps = {
      attachDev: (_d, dev) => this.setCtx(dev, 0, root + 2),
      setDevPasid: (_d, dev, pasid) => this.setCtx(dev, pasid, root + 2),
      mapPages: (_d, iova, paddr, pg, count, prot) => {
        for (let i = 0; i < count; i++) {
          const pa = paddr + i * pg;
          const bits = (prot & IOMMU_READ ? 1 : 0) | (prot & IOMMU_WRITE ? 2 : 0);
          this.k.port.write(root + ((iova + i * pg) / 4096) * 8, 8, ((pa % 2 ** 32) | bits) >>> 0, Math.floor(pa / 2 ** 32));
        }
        return { ret: 0, mapped: count * pg };
      },
      unmapPages: (_d, iova, pg, count, gather: IotlbGather) => {
        let n = 0;
        for (let i = 0; i < count; i++) {
          const at = root + ((iova + i * pg) / 4096) * 8;
          if (!(this.k.port.read(at, 8).lo & 3)) break;
          this.k.port.write(at, 8, 0, 0);
          gather.addPage(iova + i * pg, pg);
          n += pg;
        }
        return n;
      },
      iotlbSync: (_d, g) => {
        if (this.opts.skipInvalidation) return;
        this.w(TI_INV_ROOT, root);
        this.w(TI_INV_ADDR, g.start);
        this.k.port.write(this.opts.base + TI_INV_PAGES, 4, (g.end + 1 - g.start) / 4096);
        this.k.port.write(this.opts.base + TI_INV_CMD, 4, 1);
      },
      flushIotlbAll: () => {
        if (this.opts.skipInvalidation) return;
        this.w(TI_INV_ROOT, root);
        this.k.port.write(this.opts.base + TI_INV_CMD, 4, 2);
      },
      iovaToPhys: (_d, iova) => {
        const r = this.k.port.read(root + Math.floor(iova / 4096) * 8, 8);
        return r.lo & 3 ? (r.lo - (r.lo % 4096)) + r.hi * 2 ** 32 + (iova % 4096) : 0;
      },
      free: () => this.k.mem.freePages(root, TI_TABLE_BYTES),
    };
    return new TestDomain(type, ops, root);
  }

  removeDevPasid(dev: GuestDevice, pasid: number): void {
    this.setCtx(dev, pasid, 0);
  }

  register(): void {
    if (this.registered) return;
    this.registered = true;
    this.k.iommu.registerInstance(this.instance);
  }
}

/** The IOMMU module for the test IOMMU: fwspecs for the devices it covers, ACS, and registration (now or when its PCI function binds). */
export function testIommuModule(opts: TestIommuOptions, out: { driver?: TestIommuDriver } = {}): IommuModule {
  return {
    name: 'test-iommu',
    init(k) {
      const d = new TestIommuDriver(k, opts);
      out.driver = d;
      k.acsRequested = true;
      // Like VIOT, the IOMMU's own PCI function is not behind itself.
      const covers = opts.covers ?? ((dev: GuestDevice) => !(dev.pci?.vendor === 0x1b36 && dev.pci.device === 0x00fe));
      k.iommu.addFwspecProvider((dev) => (dev.pci && covers(dev) ? { fwnode: 'tiommu', ids: [dev.pci.devId] } : undefined));
      if (!opts.lateRegister) d.register();
    },
    pciDrivers(): PciDriver[] {
      if (!opts.lateRegister) return [];
      return [{
        name: 'test-iommu-pci',
        ids: [{ vendor: 0x1b36, device: 0x00fe }],
        probe: () => {
          out.driver?.register();
          return 0;
        },
      }];
    },
  };
}
