import type { GuestDevice } from '../device.js';
import { EBUSY, EINVAL, ENODEV, EOPNOTSUPP } from '../errno.js';
import type { IommuCore } from './core.js';
import { IOMMU_NO_PASID } from './domain-types.js';
import type { IommuDomain } from './driver.js';

/**
 * iommu_attach_device_pasid: attach `domain` at `pasid` of every device in
 * `dev`'s group (a PASID-tagged context next to the RID's own). Fails with
 * -EOPNOTSUPP when the domain cannot be attached at a PASID, -EINVAL for
 * PASID 0 or one beyond what the device and IOMMU support, -EBUSY when the
 * PASID is taken.
 */
export function iommuAttachDevicePasid(core: IommuCore, domain: IommuDomain, dev: GuestDevice, pasid: number): number {
  if (!domain.ops.setDevPasid) return -EOPNOTSUPP;
  const group = core.groupOf(dev);
  if (!group) return -ENODEV;
  if (core.driverOf(dev) !== domain.owner || pasid === IOMMU_NO_PASID) return -EINVAL;
  for (const d of group.devices) if (pasid >= (core.devIommu(d)?.maxPasids ?? 0)) return -EINVAL;
  if (group.pasids.has(pasid)) return -EBUSY;
  group.pasids.set(pasid, domain);
  const done: GuestDevice[] = [];
  for (const d of group.devices) {
    const ret = domain.ops.setDevPasid(domain, d, pasid, undefined);
    if (ret) {
      for (const u of done) core.driverOf(u)?.removeDevPasid?.(u, pasid, domain);
      group.pasids.delete(pasid);
      return ret;
    }
    done.push(d);
    for (const o of core.observers) o.attached?.(d, domain, pasid);
  }
  core.log.info('iommu', `group ${group.id}: domain #${domain.serial} attached at PASID ${pasid}`);
  return 0;
}

/** iommu_detach_device_pasid. */
export function iommuDetachDevicePasid(core: IommuCore, domain: IommuDomain, dev: GuestDevice, pasid: number): void {
  const group = core.groupOf(dev);
  if (!group || group.pasids.get(pasid) !== domain) return;
  for (const d of group.devices) {
    core.driverOf(d)?.removeDevPasid?.(d, pasid, domain);
    for (const o of core.observers) o.detached?.(d, pasid);
  }
  group.pasids.delete(pasid);
}
