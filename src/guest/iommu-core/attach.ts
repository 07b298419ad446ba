import type { GuestDevice } from '../device.js';
import { EINVAL, ENODEV, ENOMEM, EOPNOTSUPP } from '../errno.js';
import type { IommuCore } from './core.js';
import { domainTypeStr, IOMMU_DOMAIN_BLOCKED, IOMMU_DOMAIN_IDENTITY, isDmaDomain, type DomainType } from './domain-types.js';
import type { IommuDomain, IommuDriver } from './driver.js';
import type { IommuGroup } from './group.js';

/** IOMMU_SET_DOMAIN_MUST_SUCCEED: on failure, fall back to the blocking domain rather than leave a stale one. */
export const SET_DOMAIN_MUST_SUCCEED = 1;

/** __iommu_domain_alloc: static identity/blocked domains, else the driver's allocator. */
export function domainAlloc(core: IommuCore, driver: IommuDriver, dev: GuestDevice | undefined, type: DomainType): IommuDomain | number {
  let d: IommuDomain | number;
  if (type === IOMMU_DOMAIN_IDENTITY && driver.identityDomain) d = driver.identityDomain;
  else if (type === IOMMU_DOMAIN_BLOCKED && driver.blockedDomain) d = driver.blockedDomain;
  else if (driver.domainAlloc) d = driver.domainAlloc(type, dev);
  else return -EOPNOTSUPP;
  if (typeof d === 'number') return d;
  if (!d) return -ENOMEM;
  return core.initDomain(d, driver, type);
}

/** __iommu_group_domain_alloc. */
export function groupDomainAlloc(core: IommuCore, group: IommuGroup, type: DomainType): IommuDomain | number {
  const dev = group.firstDevice;
  const driver = core.driverOf(dev);
  if (!driver) return -ENODEV;
  return domainAlloc(core, driver, dev, type);
}

/** __iommu_device_set_domain: attach one device; on failure with MUST_SUCCEED fall back to the blocking domain. */
export function deviceSetDomain(core: IommuCore, group: IommuGroup, dev: GuestDevice, domain: IommuDomain, flags: number): number {
  const st = core.devIommu(dev);
  if (st?.requireDirect && (domain.type === IOMMU_DOMAIN_BLOCKED || domain === group.blockingDomain)) {
    core.log.warn(`pci ${dev.name}`, 'Firmware has requested this device have a 1:1 IOMMU mapping, rejecting configuring the device without a 1:1 mapping. Contact your platform vendor.');
    return -EINVAL;
  }
  const ret = domain.ops.attachDev(domain, dev, group.domain);
  if (ret) {
    if (flags & SET_DOMAIN_MUST_SUCCEED && group.blockingDomain && group.blockingDomain !== domain) {
      group.blockingDomain.ops.attachDev(group.blockingDomain, dev, group.domain);
    }
    return ret;
  }
  for (const o of core.observers) o.attached?.(dev, domain, 0);
  return 0;
}

/** __iommu_group_set_domain_internal: every device of the group to `domain`, reverting on failure. */
export function setGroupDomain(core: IommuCore, group: IommuGroup, domain: IommuDomain, flags = 0): number {
  if (group.domain === domain) return 0;
  let result = 0;
  const done: GuestDevice[] = [];
  for (const dev of group.devices) {
    const ret = deviceSetDomain(core, group, dev, domain, flags);
    if (ret) {
      result = ret;
      if (flags & SET_DOMAIN_MUST_SUCCEED) continue;
      if (group.domain) for (const d of done) deviceSetDomain(core, group, d, group.domain, SET_DOMAIN_MUST_SUCCEED);
      return ret;
    }
    done.push(dev);
  }
  group.domain = domain;
  if (result === 0) core.log.info('iommu', `group ${group.id}: attached ${domainTypeStr(domain.type)} domain #${domain.serial}`);
  return result;
}

/** iommu_create_device_direct_mappings: firmware-required 1:1 regions (RMRR) in DMA domains. */
export function createDirectMappings(core: IommuCore, domain: IommuDomain, dev: GuestDevice): number {
  const st = core.devIommu(dev);
  let ret = 0;
  for (const r of core.resvRegions(dev)) {
    if (r.type === 'direct' && st) st.requireDirect = true;
    if ((r.type !== 'direct' && r.type !== 'direct-relaxable') || !isDmaDomain(domain.type)) continue;
    const map = domain.ops.mapPages;
    const pg = domain.pgsizes[0] ?? 4096;
    const start = Math.floor(r.start / pg) * pg;
    const end = Math.ceil((r.start + r.length) / pg) * pg;
    if (!map) return -EOPNOTSUPP;
    const res = map(domain, start, start, pg, (end - start) / pg, r.prot);
    if (res.ret) ret = res.ret;
    else for (const o of core.observers) o.mapped?.(domain, start, start, end - start, r.prot);
  }
  return ret;
}
