import type { EventLog } from '../../base/event-log.js';
import {
  IommuRegion, IOMMU_NONE, IOMMU_RW, MEMTXATTRS_UNSPECIFIED, type AddressSpace, type MemoryListener, type MemoryRegion,
  type MemoryRegionSection, type MemorySystem,
} from '../../memory/index.js';
import { IommuMemoryRegion } from '../../iommu/iommu-region.js';
import { IOMMU_NOTIFIER_IOTLB_EVENTS, iommuNotifierInit, type IOMMUNotifier, type IOMMUNotifyEntry } from '../../iommu/notifier.js';
import { HOST_IOMMU_ERRNO_NAMES, HostIommu, type HostIommuKind } from './host-iommu.js';

const U64_END = 1n << 64n;

/** QEMU's VFIOGuestIOMMU: one notifier over one IOMMU section of the container's address space. */
interface GuestIommu {
  readonly mr: IommuMemoryRegion;
  readonly sectionMr: MemoryRegion;
  readonly n: IOMMUNotifier;
  /** offset_within_address_space - offset_within_region: notifier IOVAs plus this are bus addresses. */
  readonly offset: bigint;
  /** The host window created for the section (sPAPR), by its start. */
  readonly window: bigint | undefined;
}

function hex(v: number | bigint): string {
  return `0x${v.toString(16)}`;
}

function errnoText(ret: number): string {
  return `${ret} (${HOST_IOMMU_ERRNO_NAMES[-ret] ?? 'error'})`;
}

/** Every IOMMU region in `root`'s tree, enabled or not (aliases are not followed: they lead to system memory). */
export function iommuRegionsUnder(root: MemoryRegion | null): IommuMemoryRegion[] {
  const out: IommuMemoryRegion[] = [];
  const walk = (mr: MemoryRegion): void => {
    if (mr instanceof IommuRegion && mr.translator instanceof IommuMemoryRegion && !out.includes(mr.translator)) out.push(mr.translator);
    for (const s of mr.subregions) walk(s);
  };
  if (root) walk(root);
  return out;
}

/** What the container needs from the machine. */
export interface VfioContainerHost {
  readonly mem: MemorySystem;
  /** address_space_memory: the only target a MAP may have. */
  readonly systemAs: AddressSpace;
  readonly log: EventLog;
}

/**
 * A VFIO container with its memory listener (QEMU hw/vfio/listener.c
 * vfio_container_region_add / region_del and vfio_iommu_map_notify; ref
 * qemu-core.md section 3), keeping a HostIommu in step with the vIOMMU:
 * - the listener sits on the device's IOMMU address space
 *   (pci_device_iommu_address_space, not the bus-master one);
 * - a RAM section is mapped 1:1 (no vIOMMU, or a vIOMMU in bypass);
 * - an IOMMU section gets a notifier for IOMMU_NOTIFIER_IOTLB_EVENTS
 *   (MAP|UNMAP) over the section, then a replay; on sPAPR the host window
 *   is created first (the two-step);
 * - a registration refused while the container is being set up is kept
 *   as "Region %s: <the vIOMMU's message>" and fails the device's realize;
 *   after that it is QEMU's hw_error("vfio: DMA mapping failed, unable to
 *   continue"), which here stops the device's DMA;
 * - region_del unregisters and unmaps the section (and removes its window).
 */
export class VfioContainer {
  readonly host: HostIommu;
  readonly counters = { mapEvents: 0, unmapEvents: 0, replays: 0, ramSections: 0 };
  /** The runtime failure (QEMU's hw_error), after which the device does no DMA. */
  failed: string | undefined;
  private as: AddressSpace | undefined;
  private readonly giommus: GuestIommu[] = [];
  private initialized = false;
  private error: string | undefined;
  private readonly listener: MemoryListener;

  constructor(private readonly m: VfioContainerHost, kind: HostIommuKind, private readonly who: () => string) {
    this.host = new HostIommu(kind);
    this.listener = {
      name: 'vfio',
      regionAdd: (s) => this.regionAdd(s),
      regionDel: (s) => this.regionDel(s),
    };
  }

  /** The address space the listener follows, while connected. */
  get addressSpace(): AddressSpace | undefined {
    return this.as;
  }
  /** The notifiers this container holds now. */
  get notifiers(): readonly { readonly region: IommuMemoryRegion; readonly notifier: IOMMUNotifier }[] {
    return this.giommus.map((g) => ({ region: g.mr, notifier: g.n }));
  }

  /**
   * vfio_listener_register: follow `as`. Returns QEMU's realize error
   * ("memory listener initialization failed: Region %s: ...") or
   * undefined. A vIOMMU region not visible yet (VT-d before the guest sets
   * TE, virtio-iommu in bypass) is asked too, with a notifier registered
   * and dropped at once: QEMU refuses that configuration at machine-done
   * (intel-iommu without caching-mode) or aborts when the region appears;
   * either way the device never gets to run, so it fails here, with the
   * vIOMMU's own message.
   */
  connect(as: AddressSpace): string | undefined {
    this.disconnect();
    this.as = as;
    this.initialized = false;
    this.error = undefined;
    this.failed = undefined;
    this.m.mem.registerListener(as, this.listener);
    if (!this.error) {
      const mine = new Set(this.giommus.map((g) => g.mr));
      for (const mr of iommuRegionsUnder(as.root)) {
        if (mine.has(mr)) continue;
        const probe = iommuNotifierInit(() => undefined, IOMMU_NOTIFIER_IOTLB_EVENTS, 0n, mr.mr.size - 1n, mr.attrsToIndex(MEMTXATTRS_UNSPECIFIED));
        const err = mr.registerNotifier(probe);
        if (err) {
          this.error = `Region ${mr.mr.name}: ${err.message}`;
          break;
        }
        mr.unregisterNotifier(probe);
      }
    }
    if (this.error) {
      const e = this.error;
      this.disconnect();
      return `memory listener initialization failed: ${e}`;
    }
    this.initialized = true;
    return undefined;
  }

  /** vfio_listener_unregister and the container's release: notifiers gone, every mapping and window dropped. */
  disconnect(): void {
    if (this.as) this.m.mem.unregisterListener(this.listener);
    for (const g of this.giommus.splice(0)) g.mr.unregisterNotifier(g.n);
    this.host.clear();
    this.as = undefined;
  }

  private fail(message: string): void {
    if (!this.initialized) {
      this.error ??= message;
      return;
    }
    this.m.log.err('vfio', message);
    this.m.log.err('vfio', 'vfio: DMA mapping failed, unable to continue');
    this.failed ??= message;
  }

  private regionAdd(s: MemoryRegionSection): void {
    const start = s.offsetWithinAddressSpace;
    if (s.mr instanceof IommuRegion && s.mr.translator instanceof IommuMemoryRegion) {
      this.addIommuSection(s, s.mr.translator);
      return;
    }
    if (s.mr.kind !== 'ram' || this.host.kind !== 'type1') return;
    const gpa = this.gpaOf(s);
    if (gpa === undefined) return;
    this.counters.ramSections++;
    const ret = this.host.map(start, s.size, gpa, s.readonly ? 1 : IOMMU_RW);
    if (ret) this.fail(`Region ${s.mr.name}: vfio_container_dma_map(${this.who()}, ${hex(start)}, ${hex(s.size)}) = ${errnoText(ret)}`);
  }

  /** Where a RAM section of the device's address space sits in system memory. */
  private gpaOf(s: MemoryRegionSection): bigint | undefined {
    if (s.as === this.m.systemAs) return s.offsetWithinAddressSpace;
    for (const r of this.m.systemAs.view.ranges) {
      if (r.mr === s.mr && r.offsetInRegion <= s.offsetWithinRegion && s.offsetWithinRegion < r.offsetInRegion + r.size) {
        return r.start + (s.offsetWithinRegion - r.offsetInRegion);
      }
    }
    return undefined;
  }

  private addIommuSection(s: MemoryRegionSection, mr: IommuMemoryRegion): void {
    let window: bigint | undefined;
    const start = s.offsetWithinAddressSpace;
    if (this.host.kind === 'spapr-tce') {
      // vfio_container_add_section_window + vfio_host_win_add: the window before the notifier.
      if (this.host.addWindow(start, s.size, mr.getMinPageSize()) !== 0) {
        this.fail(`Region ${s.mr.name}: vfio_host_win_add: Overlapped IOMMU are not enabled`);
        return;
      }
      window = start;
    }
    const offset = s.offsetWithinAddressSpace - s.offsetWithinRegion;
    const g: GuestIommu = {
      mr, sectionMr: s.mr, offset, window,
      n: iommuNotifierInit((_n, e) => this.notify(g, e), IOMMU_NOTIFIER_IOTLB_EVENTS, s.offsetWithinRegion,
        s.offsetWithinRegion + s.size - 1n, mr.attrsToIndex(MEMTXATTRS_UNSPECIFIED)),
    };
    const err = mr.registerNotifier(g.n);
    if (err) {
      if (window !== undefined) this.host.removeWindow(window);
      this.fail(`Region ${s.mr.name}: ${err.message}`);
      return;
    }
    this.giommus.push(g);
    this.counters.replays++;
    const rerr = mr.replay(g.n);
    if (rerr) this.m.log.err('vfio', `Region ${s.mr.name}: replay: ${rerr.message}`);
  }

  private regionDel(s: MemoryRegionSection): void {
    const start = s.offsetWithinAddressSpace;
    if (s.mr instanceof IommuRegion) {
      const i = this.giommus.findIndex((g) => g.sectionMr === s.mr && g.n.start === s.offsetWithinRegion);
      if (i < 0) return;
      const g = this.giommus.splice(i, 1)[0]!;
      g.mr.unregisterNotifier(g.n);
      this.host.unmap(start, s.size);
      if (g.window !== undefined) this.host.removeWindow(g.window);
      return;
    }
    if (s.mr.kind === 'ram' && this.host.kind === 'type1') this.host.unmap(start, s.size);
  }

  /** vfio_iommu_map_notify: MAP -> VFIO_IOMMU_MAP_DMA, anything else -> VFIO_IOMMU_UNMAP_DMA, at bus address iova + offset. */
  private notify(g: GuestIommu, e: IOMMUNotifyEntry): void {
    if (e.targetAs && e.targetAs !== this.m.systemAs) {
      this.m.log.err('vfio', `Wrong target AS "${e.targetAs.name}", only system memory is allowed`);
      return;
    }
    const iova = e.iova + g.offset;
    const end = iova + e.addrMask + 1n;
    const size = (end > U64_END ? U64_END : end) - iova;
    if (e.perm !== IOMMU_NONE) {
      this.counters.mapEvents++;
      const ret = this.host.map(iova, size, e.translatedAddr, e.perm);
      if (ret) this.m.log.err('vfio', `vfio_container_dma_map(${this.who()}, ${hex(iova)}, ${hex(size)}, gpa ${hex(e.translatedAddr)}) = ${errnoText(ret)}`);
    } else {
      this.counters.unmapEvents++;
      this.host.unmap(iova, size);
    }
  }
}
