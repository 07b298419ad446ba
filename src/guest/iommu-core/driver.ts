import type { GuestDevice } from '../device.js';
import type { DomainType } from './domain-types.js';
import type { IotlbGather } from './gather.js';

/** Capabilities a driver can report for a device (Linux enum iommu_cap, plus device-side ATS and PASID). */
export type IommuCap = 'cache-coherency' | 'noexec' | 'deferred-flush' | 'enforce-cache-coherency' | 'ats' | 'pasid';

/** Reserved IOVA regions (Linux enum iommu_resv_type). */
export type ResvType = 'direct' | 'direct-relaxable' | 'reserved' | 'msi' | 'sw-msi';

export interface ResvRegion {
  readonly start: number;
  readonly length: number;
  readonly prot: number;
  readonly type: ResvType;
}

/** Domain geometry (struct iommu_domain_geometry). */
export interface DomainGeometry {
  readonly apertureStart: number;
  readonly apertureEnd: number;
  readonly forceAperture: boolean;
}

/**
 * A domain's operations (Linux struct iommu_domain_ops). Return values are
 * errno style: 0 or a negative errno. Sizes and addresses are numbers (all
 * below 2^53).
 */
export interface IommuDomainOps {
  attachDev(domain: IommuDomain, dev: GuestDevice, old: IommuDomain | undefined): number;
  /** Attach at a PASID (PASID-tagged context); absent when the driver cannot. */
  setDevPasid?(domain: IommuDomain, dev: GuestDevice, pasid: number, old: IommuDomain | undefined): number;
  /** Maps `count` pages of `pgsize`; reports how many bytes it mapped even on failure. */
  mapPages?(domain: IommuDomain, iova: number, paddr: number, pgsize: number, count: number, prot: number): { ret: number; mapped: number };
  /** Unmaps up to `count` pages of `pgsize`, adding what it removed to `gather`; returns bytes unmapped (0 stops the caller). */
  unmapPages?(domain: IommuDomain, iova: number, pgsize: number, count: number, gather: IotlbGather): number;
  iotlbSyncMap?(domain: IommuDomain, iova: number, size: number): number;
  /** Invalidates what `gather` collected and waits for completion. */
  iotlbSync?(domain: IommuDomain, gather: IotlbGather): void;
  /** Invalidates everything cached for the domain and waits for completion. */
  flushIotlbAll?(domain: IommuDomain): void;
  iovaToPhys?(domain: IommuDomain, iova: number): number;
  free?(domain: IommuDomain): void;
}

/**
 * An IOMMU domain (struct iommu_domain). Drivers subclass it to hang their
 * page tables and hardware IDs on it. `type` may change DMA_FQ -> DMA when a
 * flush queue cannot be set up, as in Linux.
 */
export class IommuDomain {
  type: DomainType;
  /** Set by the core when the domain is initialised (iommu_domain_init). */
  owner: IommuDriver | undefined;
  /** Page sizes the domain can map, ascending (Linux pgsize_bitmap). */
  pgsizes: readonly number[];
  geometry: DomainGeometry;
  /** A number for logs and the oracle, given by the core when it first sees the domain (-1 before). */
  serial = -1;

  constructor(type: DomainType, readonly ops: IommuDomainOps, opts: { pgsizes?: readonly number[]; geometry?: DomainGeometry } = {}) {
    this.type = type;
    this.owner = undefined;
    this.pgsizes = opts.pgsizes ?? [];
    this.geometry = opts.geometry ?? { apertureStart: 0, apertureEnd: Number.MAX_SAFE_INTEGER, forceAperture: false };
  }
}

/** A registered IOMMU hardware instance (struct iommu_device), matched to devices by its firmware node. */
export interface IommuInstance {
  readonly name: string;
  /** The firmware node key devices' fwspecs point at (DRHD base, DT node path, VIOT node offset...). */
  readonly fwnode: string;
  readonly driver: IommuDriver;
  /** PASIDs the hardware supports (0: none). */
  readonly maxPasids: number;
}

/** Firmware's statement of which IOMMU translates a device, with its IDs there (struct iommu_fwspec). */
export interface IommuFwspec {
  readonly fwnode: string;
  readonly ids: readonly number[];
}

/**
 * An IOMMU driver (Linux struct iommu_ops). A vIOMMU guest driver (VT-d,
 * SMMUv3, virtio-iommu, sPAPR) implements this and registers its hardware
 * instances with the core (IommuCore.registerInstance) once its hardware is
 * up; devices whose fwspec names an instance that is not registered yet are
 * deferred and probed then.
 */
export interface IommuDriver {
  readonly name: string;
  /**
   * probe_device: the instance translating `dev`, or a negative errno:
   * -ENODEV (not ours), -EPROBE_DEFER (not ready yet: retried when an
   * instance registers or IommuCore.retryDeferred runs).
   */
  probeDevice(dev: GuestDevice, fwspec: IommuFwspec): IommuInstance | number;
  releaseDevice?(dev: GuestDevice): void;
  /** device_group; absent means pci_device_group for PCI devices. */
  deviceGroup?(dev: GuestDevice): 'pci' | 'generic' | 'singleton';
  /** def_domain_type: the driver's opinion for a device (0 = none). */
  defDomainType?(dev: GuestDevice): DomainType;
  /** A static default domain (legacy drivers: IDENTITY, BLOCKED or PLATFORM); its type is the driver's opinion. */
  readonly defaultDomain?: IommuDomain;
  readonly blockedDomain?: IommuDomain;
  readonly identityDomain?: IommuDomain;
  /** Attached before release_device when set. */
  readonly releaseDomain?: IommuDomain;
  /** domain_alloc / domain_alloc_paging: a new domain of `type` or a negative errno. */
  domainAlloc?(type: DomainType, dev: GuestDevice | undefined): IommuDomain | number;
  capable?(dev: GuestDevice, cap: IommuCap): boolean;
  getResvRegions?(dev: GuestDevice): ResvRegion[];
  /** remove_dev_pasid. */
  removeDevPasid?(dev: GuestDevice, pasid: number, domain: IommuDomain): void;
  /** Page sizes of new domains when a domain does not say (ops->pgsize_bitmap). */
  readonly pgsizes: readonly number[];
}
