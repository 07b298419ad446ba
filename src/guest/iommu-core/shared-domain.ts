import type { GuestDevice } from '../device.js';
import { EBUSY, EINVAL, ENODEV, ENOSPC } from '../errno.js';
import type { IommuCore } from './core.js';
import { domainTypeStr, IOMMU_DOMAIN_UNMANAGED } from './domain-types.js';
import type { IommuDomain } from './driver.js';
import type { IommuGroup } from './group.js';
import { iommuMap, iommuUnmap } from './iommu-map.js';
import { iommuAttachGroup, iommuDetachGroup, iommuGroupClaimDmaOwner, iommuGroupReleaseDmaOwner, iommuPagingDomainAlloc } from './ownership.js';
import { iommuAttachDevicePasid, iommuDetachDevicePasid } from './pasid.js';

/** Where a mediated function's DMA is tagged: its parent's RID with a PASID, or the bare RID. */
export interface MediatedAttachment {
  readonly dev: GuestDevice;
  readonly parent: GuestDevice;
  /** 0 when the function shares the parent's RID attachment (no PASID support). */
  readonly pasid: number;
}

/**
 * One UNMANAGED domain used by several requesters (seed 001, "share domain
 * mdev"; a VFIO container holding several groups). Groups join by being
 * claimed and attached; mediated functions of a parent join at their own
 * PASID when the IOMMU and the parent support PASIDs, else through the
 * parent's RID attachment. Only an UNMANAGED domain may be shared: a
 * DMA-API default domain is refused (the review's third point).
 */
export class SharedDomain {
  readonly owner = {};
  readonly groups: IommuGroup[] = [];
  readonly mediated: MediatedAttachment[] = [];

  private constructor(private readonly core: IommuCore, readonly domain: IommuDomain) {}

  /** A new UNMANAGED domain from `dev`'s IOMMU driver. */
  static alloc(core: IommuCore, dev: GuestDevice): SharedDomain | number {
    const d = iommuPagingDomainAlloc(core, dev);
    return typeof d === 'number' ? d : new SharedDomain(core, d);
  }

  /** Wraps an existing domain for sharing; only UNMANAGED domains qualify. */
  static share(core: IommuCore, domain: IommuDomain): SharedDomain | number {
    if (domain.type !== IOMMU_DOMAIN_UNMANAGED) {
      core.log.err('iommu', `domain #${domain.serial} is ${domainTypeStr(domain.type)}, not an unmanaged domain: it cannot be shared`);
      return -EINVAL;
    }
    return new SharedDomain(core, domain);
  }

  /** A group joins: claimed for this owner (unless it already is) and attached to the shared domain. */
  attachGroup(group: IommuGroup): number {
    if (group.owner !== this.owner) {
      const r = iommuGroupClaimDmaOwner(this.core, group, this.owner);
      if (r) return r;
    }
    const ret = iommuAttachGroup(this.core, this.domain, group);
    if (ret) {
      iommuGroupReleaseDmaOwner(this.core, group);
      return ret;
    }
    this.groups.push(group);
    return 0;
  }

  detachGroup(group: IommuGroup): void {
    const i = this.groups.indexOf(group);
    if (i < 0) return;
    this.groups.splice(i, 1);
    iommuDetachGroup(this.core, group);
    iommuGroupReleaseDmaOwner(this.core, group);
  }

  /**
   * A mediated function of `mdev.parent` joins. With PASID support it gets a
   * global PASID and the domain is attached there; otherwise the parent's
   * group must be attached to this domain and the function shares it.
   */
  attachMediated(mdev: GuestDevice): MediatedAttachment | number {
    const parent = mdev.parent;
    if (!parent) return -EINVAL;
    const group = this.core.groupOf(parent);
    if (!group) return -ENODEV;
    if (this.domain.ops.setDevPasid && this.core.capable(parent, 'pasid') && (this.core.devIommu(parent)?.maxPasids ?? 0) > 1) {
      const pasid = this.core.allocGlobalPasid(parent);
      if (pasid === undefined) return -ENOSPC;
      const ret = iommuAttachDevicePasid(this.core, this.domain, parent, pasid);
      if (ret) {
        this.core.freeGlobalPasid(pasid);
        return ret;
      }
      const a = { dev: mdev, parent, pasid };
      this.mediated.push(a);
      this.core.log.info(`mdev ${mdev.name}`, `shares domain #${this.domain.serial} at PASID ${pasid} of ${parent.name}`);
      return a;
    }
    if (!this.groups.includes(group)) {
      if (group.domain !== group.defaultDomain && group.domain !== this.domain) return -EBUSY;
      const r = this.attachGroup(group);
      if (r) return r;
    }
    const a = { dev: mdev, parent, pasid: 0 };
    this.mediated.push(a);
    this.core.log.info(`mdev ${mdev.name}`, `shares domain #${this.domain.serial} through the RID of ${parent.name} (no PASID support)`);
    return a;
  }

  detachMediated(mdev: GuestDevice): void {
    const i = this.mediated.findIndex((m) => m.dev === mdev);
    if (i < 0) return;
    const a = this.mediated[i]!;
    this.mediated.splice(i, 1);
    if (a.pasid) {
      iommuDetachDevicePasid(this.core, this.domain, a.parent, a.pasid);
      this.core.freeGlobalPasid(a.pasid);
    } else if (!this.mediated.some((m) => m.parent === a.parent && m.pasid === 0)) {
      const g = this.core.groupOf(a.parent);
      if (g) this.detachGroup(g);
    }
  }

  map(iova: number, paddr: number, size: number, prot: number): number {
    return iommuMap(this.core, this.domain, iova, paddr, size, prot);
  }
  unmap(iova: number, size: number): number {
    return iommuUnmap(this.core, this.domain, iova, size);
  }

  /** Everyone leaves; groups return to their default domains. */
  release(): void {
    for (const m of [...this.mediated]) this.detachMediated(m.dev);
    for (const g of [...this.groups]) this.detachGroup(g);
  }
}
