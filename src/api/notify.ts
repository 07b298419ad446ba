import { ConfigError } from '../base/config-error.js';
import { IommuMemoryRegion } from '../iommu/iommu-region.js';
import { iommuNotifierInit, type IommuError, type IOMMUNotifier, type IOMMUNotifyEntry } from '../iommu/notifier.js';
import { MEMTXATTRS_UNSPECIFIED } from '../memory/attrs.js';
import type { MemoryListener, MemoryRegionSection } from '../memory/listener.js';
import { IommuRegion } from '../memory/region.js';
import { PCIDevice } from '../pci/device.js';
import type { Machine } from '../machine/machine.js';

/** What a device notifier is told: the IOMMU region it came from and QEMU's IOMMUTLBEntry. */
export interface DeviceNotifyEvent {
  /** The IOMMU memory region's name (e.g. "vtd-01.0-dmar"). */
  readonly region: string;
  /** iova, translatedAddr, addrMask, perm (IOMMU_NONE on UNMAP), as QEMU's notifiers see them. */
  readonly entry: IOMMUNotifyEntry;
}

/** A live registration made by {@link registerDeviceNotifier}. */
export interface DeviceNotifierHandle {
  /** The IOMMU regions the notifier is registered on now (they come and go as the guest enables translation). */
  readonly regions: readonly string[];
  /** Registrations the vIOMMU refused (its notify_flag_changed veto), in order: e.g. VT-d without caching-mode refuses MAP. */
  readonly errors: readonly IommuError[];
  /** Unregisters everywhere and stops following the device's address space. */
  unregister(): void;
}

/**
 * Registers an IOMMU notifier for a PCI device's DMA, as QEMU's vfio and
 * vhost do: a memory listener on the device's DMA address space
 * (pci_device_iommu_address_space) registers the notifier on every IOMMU
 * region section that appears (memory_region_register_iommu_notifier, then
 * replay) and unregisters it when the section goes.
 *
 * @param machine - the machine holding the device.
 * @param deviceId - the device's `id=` property (`-device edu,id=e1`).
 * @param flags - IOMMU_NOTIFIER_MAP, _UNMAP, _DEVIOTLB_UNMAP or a union
 *   (e.g. IOMMU_NOTIFIER_IOTLB_EVENTS). The vIOMMU may refuse some: see
 *   `handle.errors`.
 * @param notify - called for every event in virtual time, synchronously
 *   with the guest's invalidation.
 * @throws ConfigError if there is no PCI device with that id.
 */
export function registerDeviceNotifier(machine: Machine, deviceId: string, flags: number,
  notify: (event: DeviceNotifyEvent) => void): DeviceNotifierHandle {
  const dev = machine.devicesById.get(deviceId);
  if (!(dev instanceof PCIDevice)) {
    throw new ConfigError('deviceId', `no PCI device with id '${deviceId}'`, undefined,
      ConfigError.didYouMean(deviceId, [...machine.devicesById.keys()]));
  }
  const as = dev.bus.dmaAddressSpaceFor(dev);
  const live = new Map<MemoryRegionSection['mr'], { mr: IommuMemoryRegion; n: IOMMUNotifier }[]>();
  const errors: IommuError[] = [];
  const listener: MemoryListener = {
    name: `api-notifier-${deviceId}`,
    regionAdd(s) {
      if (!(s.mr instanceof IommuRegion) || !(s.mr.translator instanceof IommuMemoryRegion)) return;
      const mr = s.mr.translator;
      const region = s.mr.name;
      const n = iommuNotifierInit((_n, entry) => notify({ region, entry }), flags, s.offsetWithinRegion,
        s.offsetWithinRegion + s.size - 1n, mr.attrsToIndex(MEMTXATTRS_UNSPECIFIED));
      const err = mr.registerNotifier(n);
      if (err) {
        errors.push(err);
        return;
      }
      live.set(s.mr, [...(live.get(s.mr) ?? []), { mr, n }]);
      mr.replay(n);
    },
    regionDel(s) {
      const regs = live.get(s.mr);
      if (!regs) return;
      const i = regs.findIndex((r) => r.n.start === s.offsetWithinRegion);
      if (i < 0) return;
      regs[i]!.mr.unregisterNotifier(regs[i]!.n);
      regs.splice(i, 1);
      if (regs.length === 0) live.delete(s.mr);
    },
  };
  machine.mem.registerListener(as, listener);
  return {
    get regions() {
      return [...live.keys()].map((mr) => mr.name);
    },
    errors,
    unregister() {
      machine.mem.unregisterListener(listener);
      for (const regs of live.values()) for (const r of regs) r.mr.unregisterNotifier(r.n);
      live.clear();
    },
  };
}
