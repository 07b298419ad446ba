import type { EventLog } from '../base/event-log.js';
import {
  IOMMU_NOTIFIER_DEVIOTLB_UNMAP, IOMMU_NOTIFIER_UNMAP, iommuNotifierInit, notifierFlagsName, type IOMMUNotifier,
  type IOMMUNotifyEntry,
} from '../iommu/notifier.js';
import { iommuRegionOf, type IommuMemoryRegion } from '../iommu/iommu-region.js';
import type { AddressSpace } from '../memory/address-space.js';
import { MEMTXATTRS_UNSPECIFIED } from '../memory/attrs.js';
import type { MemoryListener, MemoryRegionSection } from '../memory/listener.js';
import type { MemorySystem } from '../memory/memory-system.js';
import { IommuRegion } from '../memory/region.js';

const TWO64 = 1n << 64n;

/** One IOMMU section vhost follows (QEMU struct vhost_iommu). */
export interface VhostIommuEntry {
  readonly mr: IommuMemoryRegion;
  readonly n: IOMMUNotifier;
  /** offset_within_address_space - offset_within_region. */
  readonly iommuOffset: bigint;
  /** The vIOMMU's veto of DEVIOTLB_UNMAP when vhost fell back to UNMAP. */
  fallback: string | undefined;
}

/** What the follower needs from its vhost device. */
export interface VhostIommuHost {
  readonly log: EventLog;
  /** "vhost 0000:00:03.0 virtio-net-pci (net0)" for log lines. */
  readonly who: string;
  /** vdev->device_iotlb_enabled: the guest enabled ATS. */
  deviceIotlbEnabled(): boolean;
  /** x-vhost-iotlb-fallback: retry with UNMAP when the vIOMMU vetoes DEVIOTLB_UNMAP. */
  readonly fallback: boolean;
  /** vhost_backend_invalidate_device_iotlb(iova, size), size wrapped to 64 bits. */
  invalidate(iova: bigint, size: bigint): void;
  /** A registration the device cannot live without failed (QEMU: error_fatal). */
  fail(message: string): void;
}

/**
 * vhost's "vhost-iommu" listener on the device's DMA address space
 * (QEMU hw/virtio/vhost.c vhost_iommu_region_add/del and
 * vhost_toggle_device_iotlb), with the registration policy of seed 002:
 * DEVIOTLB_UNMAP when the guest enabled ATS on the device, else UNMAP; a
 * vIOMMU veto of DEVIOTLB_UNMAP falls back to UNMAP with the vIOMMU's
 * reason logged (QEMU 5.2 to 8.0 fell back silently; 8.1 removed the
 * fallback and exits). With `fallback` off, a veto fails the device
 * instead (QEMU 8.1's error_fatal, as a device failure rather than an exit).
 */
export class VhostIommuFollower {
  readonly entries: VhostIommuEntry[] = [];
  /** The last registrations (kept after stop, for the boot report). */
  readonly history: { flags: string; fallback: string | undefined; region: string }[] = [];
  private listener: MemoryListener | undefined;

  constructor(private readonly mem: MemorySystem, private readonly host: VhostIommuHost) {}

  get started(): boolean {
    return this.listener !== undefined;
  }

  /** memory_listener_register(&hdev->iommu_listener, vdev->dma_as): replays the current IOMMU sections. */
  start(dmaAs: AddressSpace): void {
    if (this.listener) return;
    this.history.length = 0;
    this.listener = {
      name: 'vhost-iommu',
      regionAdd: (s) => this.regionAdd(s),
      regionDel: (s) => this.regionDel(s),
    };
    this.mem.registerListener(dmaAs, this.listener);
  }

  stop(): void {
    if (!this.listener) return;
    const l = this.listener;
    this.listener = undefined;
    this.mem.unregisterListener(l);
    for (const e of this.entries.splice(0)) e.mr.unregisterNotifier(e.n);
  }

  private regionAdd(s: MemoryRegionSection): void {
    if (!(s.mr instanceof IommuRegion) || !this.listener) return;
    const mr = iommuRegionOf(s.mr);
    const iommuOffset = s.offsetWithinAddressSpace - s.offsetWithinRegion;
    const entry: VhostIommuEntry = {
      mr, iommuOffset, fallback: undefined,
      n: iommuNotifierInit((_n, e) => this.unmapNotify(entry, e), IOMMU_NOTIFIER_UNMAP, s.offsetWithinRegion,
        s.offsetWithinRegion + s.size - 1n, mr.attrsToIndex(MEMTXATTRS_UNSPECIFIED)),
    };
    if (this.register(entry)) this.entries.push(entry);
  }

  private regionDel(s: MemoryRegionSection): void {
    if (!(s.mr instanceof IommuRegion)) return;
    const mr = iommuRegionOf(s.mr);
    const i = this.entries.findIndex((e) => e.mr === mr && e.n.start === s.offsetWithinRegion);
    if (i < 0) return;
    const [e] = this.entries.splice(i, 1);
    e!.mr.unregisterNotifier(e!.n);
  }

  /** vhost_iommu_unmap_notify: INVALIDATE(iova + iommu_offset, addr_mask + 1). */
  private unmapNotify(e: VhostIommuEntry, entry: IOMMUNotifyEntry): void {
    this.host.invalidate((entry.iova + e.iommuOffset) % TWO64, (entry.addrMask + 1n) % TWO64);
  }

  /** Registers with the policy; false when the device failed. */
  private register(e: VhostIommuEntry): boolean {
    const h = this.host;
    const want = h.deviceIotlbEnabled();
    e.n.notifierFlags = want ? IOMMU_NOTIFIER_DEVIOTLB_UNMAP : IOMMU_NOTIFIER_UNMAP;
    e.fallback = undefined;
    let err = e.mr.registerNotifier(e.n);
    if (err && want && h.fallback) {
      e.fallback = err.message;
      h.log.warn(h.who, `${e.mr.name}: DEVIOTLB_UNMAP notifier refused: ${err.message}; falling back to UNMAP invalidations`);
      e.n.notifierFlags = IOMMU_NOTIFIER_UNMAP;
      err = e.mr.registerNotifier(e.n);
    }
    if (err) {
      h.fail(err.message);
      return false;
    }
    h.log.info(h.who, `${e.mr.name}: ${notifierFlagsName(e.n.notifierFlags)} notifier on [0x${e.n.start.toString(16)}, 0x${e.n.end.toString(16)}]`);
    this.history.push({ flags: notifierFlagsName(e.n.notifierFlags), fallback: e.fallback, region: e.mr.name });
    return true;
  }

  /** vhost_toggle_device_iotlb: each notifier unregistered, its flag flipped, registered again. */
  toggle(): void {
    if (!this.listener) return;
    this.history.length = 0;
    for (const e of [...this.entries]) {
      e.mr.unregisterNotifier(e.n);
      if (!this.register(e)) this.entries.splice(this.entries.indexOf(e), 1);
    }
  }
}
