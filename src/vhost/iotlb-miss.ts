import type { AddressSpace } from '../memory/address-space.js';
import { MEMTXATTRS_UNSPECIFIED } from '../memory/attrs.js';
import { addressSpaceGetIotlbEntry } from './iotlb-entry.js';
import type { VhostMemTable } from './mem-table.js';
import { iommuPermToVhost, iotlbMsg, VHOST_IOTLB_UPDATE, type VhostIotlbMsg } from './msg.js';

/** What the machine answers to a MISS. */
export type MissAnswer =
  | { readonly kind: 'update'; readonly msg: VhostIotlbMsg; readonly gpa: number }
  /** address_space_get_iotlb_entry found no translation (target_as NULL): QEMU sends nothing (-EFAULT). */
  | { readonly kind: 'fault' }
  /** The translated address is not in the memory table: "Fail to lookup the translated address %PRIx64". */
  | { readonly kind: 'error'; readonly message: string };

/**
 * vhost_device_iotlb_miss (QEMU hw/virtio/vhost.c): translates `iova`
 * through the device's DMA address space (write access when the MISS's
 * perm is not RO), maps the guest-physical page to its "userspace" address
 * through the memory table, and builds the UPDATE QEMU sends:
 * iova &= ~addr_mask, size = min(addr_mask + 1, bytes left in the memory
 * slot), uaddr of the page start, perm RW (address_space_get_iotlb_entry
 * always reports IOMMU_RW, which vhost-backend.c maps to VHOST_ACCESS_RW).
 */
export function vhostDeviceIotlbMiss(dmaAs: AddressSpace, mem: VhostMemTable, iova: number, write: boolean): MissAnswer {
  const e = addressSpaceGetIotlbEntry(dmaAs, iova, write, MEMTXATTRS_UNSPECIFIED);
  if (!e) return { kind: 'fault' };
  const slot = mem.lookup(e.translatedAddr);
  if (!slot) return { kind: 'error', message: `Fail to lookup the translated address ${e.translatedAddr.toString(16)}` };
  const len = Math.min(e.addrMask + 1, slot.len);
  const perm = iommuPermToVhost(e.perm);
  if (perm === undefined) return { kind: 'error', message: 'Fail to update device iotlb' };
  return {
    kind: 'update', gpa: e.translatedAddr,
    msg: iotlbMsg(VHOST_IOTLB_UPDATE, BigInt(e.iova), BigInt(len), BigInt(slot.uaddr), perm),
  };
}
