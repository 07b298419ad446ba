import type { GuestDevice } from '../device.js';
import { EINVAL, errnoName } from '../errno.js';
import type { IommuCore } from './core.js';
import { createDirectMappings, groupDomainAlloc, setGroupDomain, SET_DOMAIN_MUST_SUCCEED } from './attach.js';
import {
  domainTypeName, domainTypeStr, IOMMU_DOMAIN_DMA, IOMMU_DOMAIN_IDENTITY, type DomainType,
} from './domain-types.js';
import type { IommuDomain } from './driver.js';
import type { IommuGroup } from './group.js';

/**
 * iommu_get_def_domain_type: combines one device's opinion into the group's.
 * The opinion is the type of the driver's static default domain if it has
 * one (83b3836bf83f), else def_domain_type(dev), else none. Conflicting
 * opinions are logged as Linux logs them; IDENTITY takes precedence,
 * otherwise the first opinion stays.
 */
export function getDefDomainType(core: IommuCore, group: IommuGroup, dev: GuestDevice, cur: DomainType): DomainType {
  const ops = core.driverOf(dev);
  if (!ops) return cur;
  let type: DomainType;
  if (ops.defaultDomain && !core.regress.has('pre-83b3836bf83f')) {
    type = ops.defaultDomain.type;
  } else if (ops.defDomainType) {
    type = ops.defDomainType(dev);
  } else {
    return cur;
  }
  if (!type || cur === type) return cur;
  if (!cur) return type;
  core.log.err(`pci ${dev.name}`, `IOMMU driver error, requesting conflicting def_domain_type, ${domainTypeStr(cur)} and ${domainTypeStr(type)}, for devices in group ${group.id}.`);
  if (type === IOMMU_DOMAIN_IDENTITY) return type;
  return cur;
}

/**
 * iommu_get_default_domain_type: the group's combined opinion; without
 * CONFIG_IOMMU_DMA, no opinion becomes IDENTITY; an untrusted device forces
 * DMA (and refuses any other opinion); a requested target type must match.
 * Returns -1 when the group cannot be given a default domain.
 */
export function getDefaultDomainType(core: IommuCore, group: IommuGroup, target: DomainType): number {
  let driverType: DomainType = 0;
  let untrusted: GuestDevice | undefined;
  for (const dev of group.devices) {
    driverType = getDefDomainType(core, group, dev, driverType);
    if (dev.untrusted) untrusted = dev;
  }
  if (!core.opts.iommuDma) {
    if (driverType === IOMMU_DOMAIN_DMA) return -1;
    if (!driverType) driverType = IOMMU_DOMAIN_IDENTITY;
  }
  if (untrusted) {
    if (driverType && driverType !== IOMMU_DOMAIN_DMA) {
      core.log.err(`pci ${untrusted.name}`, `Device is not trusted, but driver is overriding group ${group.id} to ${domainTypeStr(driverType)}, refusing to probe.`);
      return -1;
    }
    driverType = IOMMU_DOMAIN_DMA;
  }
  if (target) {
    if (driverType && target !== driverType) return -1;
    return target;
  }
  return driverType;
}

/** __iommu_group_alloc_default_domain. */
function allocOfType(core: IommuCore, group: IommuGroup, type: DomainType): IommuDomain | number {
  if (group.defaultDomain && group.defaultDomain.type === type) return group.defaultDomain;
  return groupDomainAlloc(core, group, type);
}

/**
 * iommu_group_alloc_default_domain: a static default domain is used only
 * when the requested type is its type (-EINVAL otherwise); a requested type
 * is allocated as asked; with no guidance the global default
 * (iommu_def_domain_type) is tried, then DMA with Linux's warning.
 */
export function allocDefaultDomain(core: IommuCore, group: IommuGroup, req: DomainType): IommuDomain | number {
  const ops = core.driverOf(group.firstDevice)!;
  if (ops.defaultDomain) {
    if (core.regress.has('pre-83b3836bf83f')) return req ? -EINVAL : ops.defaultDomain;
    if (req !== ops.defaultDomain.type) return -EINVAL;
    return core.initDomain(ops.defaultDomain, ops, ops.defaultDomain.type);
  }
  if (req) return allocOfType(core, group, req);
  const def = core.opts.defaultDomainType;
  const dom = allocOfType(core, group, def);
  if (typeof dom !== 'number') return dom;
  if (def === IOMMU_DOMAIN_DMA) return -EINVAL;
  const dma = allocOfType(core, group, IOMMU_DOMAIN_DMA);
  if (typeof dma === 'number') return dma;
  core.log.warn('iommu', `Failed to allocate default IOMMU domain of type ${def} for group ${group.name} - Falling back to IOMMU_DOMAIN_DMA`);
  return dma;
}

/**
 * iommu_setup_default_domain: choose the type, allocate, map firmware
 * direct regions, make it the default and attach it (the first attach must
 * not fail).
 */
export function setupDefaultDomain(core: IommuCore, group: IommuGroup, target: DomainType): number {
  const old = group.defaultDomain;
  const req = getDefaultDomainType(core, group, target);
  if (req < 0) return -EINVAL;
  const dom = allocDefaultDomain(core, group, req);
  if (typeof dom === 'number') return dom;
  if (old === dom) return 0;
  let directFailed = false;
  for (const d of group.devices) if (createDirectMappings(core, dom, d)) directFailed = true;
  group.defaultDomain = dom;
  const ret = group.domain ? setGroupDomain(core, group, dom) : setGroupDomain(core, group, dom, SET_DOMAIN_MUST_SUCCEED);
  if (ret) {
    core.log.err('iommu', `group ${group.id}: attaching the default domain failed: ${errnoName(ret)}`);
    if (old) group.defaultDomain = old;
    return ret;
  }
  if (directFailed) for (const d of group.devices) createDirectMappings(core, dom, d);
  core.log.info('iommu', `group ${group.id}: default domain ${domainTypeStr(dom.type)} (${domainTypeName(dom.type)})`);
  if (old && old !== dom) {
    old.ops.free?.(old);
    for (const o of core.observers) o.domainFreed?.(old);
  }
  return 0;
}
