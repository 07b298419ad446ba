import type { GuestDevice } from '../device.js';
import type { IommuDomain } from './driver.js';

/**
 * An IOMMU group (Linux struct iommu_group): the devices that cannot be
 * isolated from one another, their default domain, the blocking domain an
 * owner uses, the domain attached now, ownership and PASID attachments.
 */
export class IommuGroup {
  readonly devices: GuestDevice[] = [];
  defaultDomain: IommuDomain | undefined;
  blockingDomain: IommuDomain | undefined;
  domain: IommuDomain | undefined;
  /** The claiming user (VFIO); undefined for the kernel. */
  owner: object | undefined;
  /** Kernel drivers using the default domain, or 1 for an owner (Linux owner_cnt). */
  ownerCnt = 0;
  /** PASID attachments (Linux pasid_array). */
  readonly pasids = new Map<number, IommuDomain>();

  constructor(readonly id: number) {}

  get name(): string {
    return String(this.id);
  }
  get firstDevice(): GuestDevice {
    return this.devices[0]!;
  }
}
