import type { GuestDevice } from '../../device.js';
import { EINVAL, ENODEV } from '../../errno.js';
import type { GuestKernel } from '../../kernel.js';
import {
  IOMMU_DOMAIN_BLOCKED, IOMMU_DOMAIN_IDENTITY, IOMMU_MMIO, IOMMU_READ, IOMMU_WRITE, isPaging, type DomainType,
} from '../domain-types.js';
import type { IommuCap, IommuDomain, IommuDomainOps, IommuDriver, IommuFwspec, IommuInstance, ResvRegion } from '../driver.js';
import type { IotlbGather } from '../gather.js';
import { ViommuDomain } from './domain.js';
import { parseProbe } from './probe-props.js';
import {
  VIOMMU_ATTACH_F_BYPASS, VIOMMU_MAP_F_MMIO, VIOMMU_MAP_F_READ, VIOMMU_MAP_F_WRITE, VIOMMU_TAIL_SIZE,
} from './regs.js';
import { attachRequest, detachRequest, mapRequest, probeRequest, unmapRequest } from './requests.js';
import type { ViommuDev } from './viommu-dev.js';

/** Linux's software MSI window when the device reports no MSI doorbell (MSI_IOVA_BASE, MSI_IOVA_LENGTH). */
const MSI_IOVA_BASE = 0x8000000;
const MSI_IOVA_LENGTH = 0x100000;
const PAGE_SIZE = 4096;

/** Per-endpoint state (Linux struct viommu_endpoint). */
interface Endpoint {
  readonly viommu: ViommuDev;
  readonly ids: readonly number[];
  readonly resv: ResvRegion[];
  vdomain: ViommuDomain | undefined;
}

/** Page sizes of a page_size_mask as numbers (4 KiB .. 2^47; the device maps any range of them). */
export function pgsizesOf(mask: bigint): number[] {
  const out: number[] = [];
  for (let b = 0; b < 48; b++) if (mask & (1n << BigInt(b))) out.push(2 ** b);
  return out;
}

/**
 * The guest's virtio-iommu IOMMU driver (Linux drivers/iommu/virtio-iommu.c
 * viommu_ops): endpoints are probed with PROBE (reserved regions), domains
 * get their ID and geometry from the device on first use, ATTACH per
 * endpoint ID (replaying the domain's mappings when it is the first),
 * map_pages adds a MAP and unmap_pages an UNMAP without waiting, and the
 * iotlb sync points (iotlb_sync, iotlb_sync_map, flush_iotlb_all) complete
 * them: strict mode syncs at every unmap, lazy mode when the flush queue
 * flushes. Identity domains are bypass domains (BYPASS_CONFIG) or identity
 * mappings of the input range.
 */
export class VirtioIommuDriver implements IommuDriver {
  readonly name = 'virtio-iommu';
  readonly devices = new Map<string, ViommuDev>();
  private readonly eps = new Map<GuestDevice, Endpoint>();

  constructor(private readonly k: GuestKernel) {}

  get pgsizes(): readonly number[] {
    const first = this.devices.values().next().value as ViommuDev | undefined;
    return first ? pgsizesOf(first.cfg.pageSizeMask) : [PAGE_SIZE];
  }

  /** iommu_device_register for one virtio-iommu whose firmware node is `fwnode`. */
  register(dev: ViommuDev, fwnode: string): number {
    const inst: IommuInstance = { name: `virtio-iommu ${dev.name}`, fwnode, driver: this, maxPasids: 0 };
    dev.instance = inst;
    this.devices.set(fwnode, dev);
    return this.k.iommu.registerInstance(inst);
  }

  /** viommu_probe_device: the endpoint's reserved regions from PROBE. */
  probeDevice(dev: GuestDevice, fw: IommuFwspec): IommuInstance | number {
    const viommu = this.devices.get(fw.fwnode);
    if (!viommu?.instance || fw.ids.length === 0) return -ENODEV;
    const ep: Endpoint = { viommu, ids: fw.ids, resv: [], vdomain: undefined };
    if (viommu.cfg.probeSize) {
      const r = viommu.sendSync(probeRequest(fw.ids[0]!), viommu.cfg.probeSize + VIOMMU_TAIL_SIZE);
      if (r.ret) return r.ret;
      ep.resv.push(...parseProbe(r.data.subarray(0, viommu.cfg.probeSize), (m) => this.k.log.warn(`pci ${dev.name}`, m)));
    }
    this.eps.set(dev, ep);
    return viommu.instance;
  }

  /** viommu_release_device: detach. */
  releaseDevice(dev: GuestDevice): void {
    const ep = this.eps.get(dev);
    if (ep) this.detach(ep);
    this.eps.delete(dev);
  }

  capable(_dev: GuestDevice, cap: IommuCap): boolean {
    return cap === 'cache-coherency' || cap === 'deferred-flush';
  }

  /** viommu_get_resv_regions: the device's regions, or a software MSI window. */
  getResvRegions(dev: GuestDevice): ResvRegion[] {
    const ep = this.eps.get(dev);
    const out = [...(ep?.resv ?? [])];
    if (!out.some((r) => r.type === 'msi')) out.push({ start: MSI_IOVA_BASE, length: MSI_IOVA_LENGTH, prot: IOMMU_WRITE | IOMMU_MMIO, type: 'sw-msi' });
    return out;
  }

  /** viommu_domain_alloc + viommu_domain_finalise (the endpoint's device, or the first one). */
  domainAlloc(type: DomainType, dev: GuestDevice | undefined): IommuDomain | number {
    if (!isPaging(type) && type !== IOMMU_DOMAIN_IDENTITY && type !== IOMMU_DOMAIN_BLOCKED) return -EINVAL;
    const viommu = (dev && this.eps.get(dev)?.viommu) ?? this.devices.values().next().value;
    if (!viommu) return -ENODEV;
    const d = new ViommuDomain(type, this.ops());
    const granule = pgsizesOf(viommu.cfg.pageSizeMask)[0] ?? 0;
    if (granule > PAGE_SIZE) {
      this.k.log.err('virtio_iommu', `granule 0x${granule.toString(16)} larger than system page size 0x${PAGE_SIZE.toString(16)}`);
      return -ENODEV;
    }
    const id = viommu.allocDomainId();
    if (id < 0) return id;
    d.id = id;
    d.viommu = viommu;
    d.pgsizes = pgsizesOf(viommu.cfg.pageSizeMask);
    d.geometry = viommu.cfg.geometry;
    d.mapFlags = viommu.cfg.mapFlags;
    if (type === IOMMU_DOMAIN_IDENTITY) {
      if (viommu.cfg.bypassConfig) d.bypass = true;
      else this.mapIdentity(d, dev ? this.eps.get(dev)?.resv ?? [] : []);
    }
    return d;
  }

  /** viommu_domain_map_identity: the input range less the reserved regions, mapped 1:1 (below 2^53). */
  private mapIdentity(d: ViommuDomain, resv: readonly ResvRegion[]): void {
    const g = d.pgsizes[0] ?? PAGE_SIZE;
    let iova = Math.ceil(d.geometry.apertureStart / g) * g;
    const limit = Math.floor((Math.min(d.geometry.apertureEnd, Number.MAX_SAFE_INTEGER) + 1) / g) * g - 1;
    const flags = VIOMMU_MAP_F_READ | VIOMMU_MAP_F_WRITE;
    for (const r of [...resv].sort((a, b) => a.start - b.start)) {
      const rs = Math.floor(r.start / g) * g;
      const re = Math.ceil((r.start + r.length) / g) * g - 1;
      if (re < iova || rs > limit) continue;
      if (rs > iova) d.add({ start: iova, end: rs - 1, paddr: iova, flags });
      if (re >= limit) return;
      iova = re + 1;
    }
    d.add({ start: iova, end: limit, paddr: iova, flags });
  }

  private detach(ep: Endpoint): void {
    const d = ep.vdomain;
    if (!d) return;
    for (const id of ep.ids) ep.viommu.sendSync(detachRequest(d.id, id));
    d.nrEndpoints--;
    ep.vdomain = undefined;
  }

  private ops(): IommuDomainOps {
    return {
      attachDev: (domain, dev) => this.attach(domain as ViommuDomain, dev),
      mapPages: (domain, iova, paddr, pgsize, count, prot) => this.mapPages(domain as ViommuDomain, iova, paddr, pgsize * count, prot),
      unmapPages: (domain, iova, pgsize, count, gather) => this.unmapPages(domain as ViommuDomain, iova, pgsize * count, gather),
      iotlbSync: (domain) => (domain as ViommuDomain).viommu?.sync(),
      iotlbSyncMap: (domain) => {
        const d = domain as ViommuDomain;
        if (d.nrEndpoints) d.viommu?.sync();
        return 0;
      },
      flushIotlbAll: (domain) => (domain as ViommuDomain).viommu?.sync(),
      iovaToPhys: (domain, iova) => (domain as ViommuDomain).lookup(iova),
      free: (domain) => {
        const d = domain as ViommuDomain;
        d.mappings.length = 0;
        d.viommu?.domainIds.delete(d.id);
      },
    };
  }

  /** viommu_attach_dev. */
  private attach(d: ViommuDomain, dev: GuestDevice): number {
    const ep = this.eps.get(dev);
    if (!ep || d.viommu !== ep.viommu) return -EINVAL;
    if (ep.vdomain) ep.vdomain.nrEndpoints--;
    for (const id of ep.ids) {
      const r = ep.viommu.sendSync(attachRequest(d.id, id, d.bypass ? VIOMMU_ATTACH_F_BYPASS : 0));
      if (r.ret) return r.ret;
    }
    if (!d.nrEndpoints) {
      // The first endpoint: the device may have dropped the domain with its last endpoint; replay.
      for (const m of d.mappings) {
        const r = ep.viommu.sendSync(mapRequest(d.id, m.start, m.end, m.paddr, m.flags));
        if (r.ret) return r.ret;
      }
    }
    d.nrEndpoints++;
    ep.vdomain = d;
    return 0;
  }

  /** viommu_map_pages: the shadow mapping, and a MAP request when endpoints are attached (completed at sync). */
  private mapPages(d: ViommuDomain, iova: number, paddr: number, size: number, prot: number): { ret: number; mapped: number } {
    const flags = (prot & IOMMU_READ ? VIOMMU_MAP_F_READ : 0) | (prot & IOMMU_WRITE ? VIOMMU_MAP_F_WRITE : 0)
      | (prot & IOMMU_MMIO ? VIOMMU_MAP_F_MMIO : 0);
    if (flags & ~d.mapFlags || !d.viommu) return { ret: -EINVAL, mapped: 0 };
    const end = iova + size - 1;
    d.add({ start: iova, end, paddr, flags });
    if (d.nrEndpoints) {
      const p = d.viommu.addReq(mapRequest(d.id, iova, end, paddr, flags));
      if (typeof p === 'number') {
        d.del(iova, end);
        return { ret: p, mapped: 0 };
      }
    }
    return { ret: 0, mapped: size };
  }

  /** viommu_unmap_pages: whole mappings only; an UNMAP request that the next sync completes. */
  private unmapPages(d: ViommuDomain, iova: number, size: number, gather: IotlbGather): number {
    const unmapped = d.del(iova, iova + size - 1);
    if (unmapped < size) return 0;
    if (!d.nrEndpoints || !d.viommu) return unmapped;
    const p = d.viommu.addReq(unmapRequest(d.id, iova, iova + unmapped - 1));
    if (typeof p === 'number') return 0;
    gather.addRange(iova, unmapped);
    return unmapped;
  }
}
