import type { GuestDevice } from '../device.js';
import { EBUSY, EINVAL, ENODEV, EPERM } from '../errno.js';
import type { IommuCore } from './core.js';
import { domainAlloc, groupDomainAlloc, setGroupDomain, SET_DOMAIN_MUST_SUCCEED } from './attach.js';
import { IOMMU_DOMAIN_BLOCKED, IOMMU_DOMAIN_UNMANAGED } from './domain-types.js';
import type { IommuDomain } from './driver.js';
import type { IommuGroup } from './group.js';

/**
 * DMA ownership, after Linux drivers/iommu/iommu.c: kernel drivers use the
 * group's default domain (owner_cnt counts them); a user such as VFIO
 * claims the whole group, which moves it to the blocking domain, attaches
 * its own UNMANAGED domains, and on release the group goes back to its
 * default domain, whose attach must undo what BLOCKED did (seed 000).
 */

/** iommu_device_use_default_domain: a kernel driver binds and will use the DMA API. */
export function iommuDeviceUseDefaultDomain(core: IommuCore, dev: GuestDevice): number {
  const group = core.groupOf(dev);
  if (!group) return 0;
  if (group.ownerCnt && (group.domain !== group.defaultDomain || group.owner || group.pasids.size > 0)) return -EBUSY;
  group.ownerCnt++;
  return 0;
}

/** iommu_device_unuse_default_domain. */
export function iommuDeviceUnuseDefaultDomain(core: IommuCore, dev: GuestDevice): void {
  const group = core.groupOf(dev);
  if (group && group.ownerCnt > 0 && group.pasids.size === 0) group.ownerCnt--;
}

/** __iommu_group_alloc_blocking_domain: BLOCKED, or an empty UNMANAGED domain for drivers without one. */
function allocBlockingDomain(core: IommuCore, group: IommuGroup): number {
  if (group.blockingDomain) return 0;
  let d = groupDomainAlloc(core, group, IOMMU_DOMAIN_BLOCKED);
  if (typeof d === 'number') d = groupDomainAlloc(core, group, IOMMU_DOMAIN_UNMANAGED);
  if (typeof d === 'number') return d;
  group.blockingDomain = d;
  return 0;
}

/** iommu_group_claim_dma_owner: -EPERM while anyone (a kernel driver, another owner) holds the group. */
export function iommuGroupClaimDmaOwner(core: IommuCore, group: IommuGroup, owner: object): number {
  if (group.ownerCnt) return -EPERM;
  if ((group.domain && group.domain !== group.defaultDomain) || group.pasids.size > 0) return -EBUSY;
  const ret = allocBlockingDomain(core, group);
  if (ret) return ret;
  const r2 = setGroupDomain(core, group, group.blockingDomain!);
  if (r2) return r2;
  group.owner = owner;
  group.ownerCnt++;
  core.log.info('iommu', `group ${group.id}: DMA ownership claimed (blocked)`);
  return 0;
}

/**
 * iommu_group_release_dma_owner: back to the default domain. With the
 * 'seed000' regression switch the default domain is recorded as attached
 * but its attach never runs (the historical bug), so whatever BLOCKED did
 * to the hardware stays.
 */
export function iommuGroupReleaseDmaOwner(core: IommuCore, group: IommuGroup): void {
  if (!group.ownerCnt || !group.owner || group.pasids.size > 0) return;
  group.ownerCnt = 0;
  group.owner = undefined;
  const def = group.defaultDomain;
  if (!def) return;
  if (core.regress.has('seed000')) {
    group.domain = def;
    for (const dev of group.devices) for (const o of core.observers) o.attached?.(dev, def, 0);
  } else {
    setGroupDomain(core, group, def, SET_DOMAIN_MUST_SUCCEED);
  }
  core.log.info('iommu', `group ${group.id}: DMA ownership released`);
}

/** __iommu_attach_group / iommu_attach_group: only from a core-owned domain, and only a domain of the same driver. */
export function iommuAttachGroup(core: IommuCore, domain: IommuDomain, group: IommuGroup): number {
  if (group.domain && group.domain !== group.defaultDomain && group.domain !== group.blockingDomain) return -EBUSY;
  const driver = core.driverOf(group.firstDevice);
  if (!driver) return -ENODEV;
  if (driver !== domain.owner) return -EINVAL;
  return setGroupDomain(core, group, domain);
}

/** iommu_detach_group: back to the core's domain (blocking while owned, else default). */
export function iommuDetachGroup(core: IommuCore, group: IommuGroup): void {
  const to = group.owner ? group.blockingDomain : group.defaultDomain;
  if (to) setGroupDomain(core, group, to, SET_DOMAIN_MUST_SUCCEED);
}

/** iommu_paging_domain_alloc: an UNMANAGED domain for a user (VFIO type1, a shared mediated-device domain). */
export function iommuPagingDomainAlloc(core: IommuCore, dev: GuestDevice): IommuDomain | number {
  const driver = core.driverOf(dev);
  if (!driver || !core.groupOf(dev)) return -ENODEV;
  return domainAlloc(core, driver, dev, IOMMU_DOMAIN_UNMANAGED);
}

/** iommu_domain_free. */
export function iommuDomainFree(core: IommuCore, domain: IommuDomain): void {
  domain.ops.free?.(domain);
  for (const o of core.observers) o.domainFreed?.(domain);
}
