import type { EventLog } from '../../base/event-log.js';
import type { Tracer } from '../../base/trace.js';
import type { AddressSpace } from '../../memory/address-space.js';
import type { ContainerRegion } from '../../memory/region.js';
import { EndpointRegion } from '../../iommu/virtio-iommu/endpoint-region.js';
import { viommuInfo } from '../../iommu/virtio-iommu/info.js';
import type { VirtioIommuOptions } from '../../iommu/virtio-iommu/options.js';
import type { VirtioIommu } from '../../iommu/virtio-iommu/virtio-iommu.js';
import type { PCIBus } from '../../pci/bus.js';
import { PCIError } from '../../pci/bus.js';
import type { PCIDevice } from '../../pci/device.js';
import { iommuAlias, type PCIIOMMUOps } from '../../pci/iommu.js';
import { PCI_BUILD_BDF, PCI_CLASS_OTHERS } from '../../pci/regs.js';
import { VirtioPciProxy } from '../pci/virtio-pci.js';
import { VirtioIommuDevice, type ViommuPlatformBase } from './virtio-iommu-device.js';

/** Which firmware descriptions tell the guest about the topology (viommu's `topology` property). */
export type ViommuTopology = 'auto' | 'viot' | 'dt' | 'config' | 'none';
export const VIOMMU_TOPOLOGIES: readonly ViommuTopology[] = ['auto', 'viot', 'dt', 'config', 'none'];

/**
 * virtio-iommu-pci (QEMU hw/virtio/virtio-iommu-pci.c): 1af4:1057, class
 * PCI_CLASS_OTHERS, no MSI-X vectors (INTx), on the root bus, where it
 * installs the bus's IOMMU hook (pci_setup_iommu on its primary bus): each
 * requester below gets an EndpointRegion whose endpoint ID is its
 * requester ID. Not hot-pluggable. The device itself is not translated
 * (it does not offer ACCESS_PLATFORM).
 */
export class VirtioIommuPci extends VirtioPciProxy implements PCIIOMMUOps {
  readonly device: VirtioIommuDevice;
  private readonly regionsByBus = new Map<PCIBus, (EndpointRegion | undefined)[]>();
  private regionCount = 0;

  constructor(opts: VirtioIommuOptions, readonly topology: ViommuTopology, ats = false) {
    const platform = new PlatformBinding();
    const device = new VirtioIommuDevice(opts, platform);
    super(device, { typeName: 'virtio-iommu-pci', classId: PCI_CLASS_OTHERS, ats });
    platform.host = this;
    this.device = device;
  }

  /** The device logic (src/iommu/virtio-iommu). */
  get core(): VirtioIommu {
    return this.device.core;
  }

  protected override realizeDevice(): void {
    if (!this.bus.isRoot) throw new PCIError('virtio-iommu-pci must be plugged on the root bus');
    if (this.bus.iommuOps) throw new PCIError('the root bus already has an IOMMU');
    super.realizeDevice();
    this.bus.setIommu(this);
  }

  override unrealize(): void {
    if (this.bus.iommuOps === this) this.bus.setIommu(undefined);
    for (const r of this.allRegions()) r.destroy();
    this.regionsByBus.clear();
    super.unrealize();
  }

  /** PCIIOMMUOps.get_address_space (virtio_iommu_find_add_as). */
  getAddressSpace(bus: PCIBus, devfn: number): AddressSpace {
    let slots = this.regionsByBus.get(bus);
    if (!slots) {
      slots = new Array<EndpointRegion | undefined>(256).fill(undefined);
      this.regionsByBus.set(bus, slots);
    }
    let r = slots[devfn];
    if (!r) {
      const system = this.ctx.systemMemory.root as ContainerRegion;
      r = new EndpointRegion(this.ctx.mem, `virtio-iommu-memory-region-${this.regionCount++}-${devfn}`,
        () => PCI_BUILD_BDF(bus.number, devfn), system, this.ctx.systemMemory, this.core);
      slots[devfn] = r;
      this.core.switchAddressSpace(r);
    }
    return r.as;
  }

  /** A requester went away: its endpoint state and address space go, unless another function still uses that alias. */
  deviceRemoved(bus: PCIBus, devfn: number, dev: PCIDevice): void {
    const slots = this.regionsByBus.get(bus);
    const r = slots?.[devfn];
    if (!r) return;
    for (const d of this.bus.root.allDevices()) {
      if (d === dev) continue;
      const a = iommuAlias(d);
      if (a.bus === bus && a.devfn === devfn) return;
    }
    this.core.endpointRemoved(r.sid());
    slots![devfn] = undefined;
    r.destroy();
  }

  /** virtio_iommu_mr: the region of the requester with this ID, by the bus numbers programmed now. */
  endpointRegion(id: number): EndpointRegion | undefined {
    for (const [bus, slots] of this.regionsByBus) {
      if (bus.number === (id >> 8) && slots[id & 0xff]) return slots[id & 0xff];
    }
    return undefined;
  }

  *allRegions(): Generator<EndpointRegion> {
    for (const slots of this.regionsByBus.values()) for (const r of slots) if (r) yield r;
  }

  /** System reset: the transport and device reset, and config.bypass back to boot-bypass. */
  protected override deviceReset(): void {
    super.deviceReset();
    this.core.systemReset();
  }

  /** What firmware tables describe (VIOT type-3 node, DT virtio,pci-iommu node): the machine's FirmwareIommu. */
  firmwareIommu(): { model: string; id?: string; segment: number; bdf: number; options: { topology: ViommuTopology } } {
    return {
      model: 'virtio-iommu-pci', ...(this.id !== undefined ? { id: this.id } : {}), segment: 0,
      bdf: PCI_BUILD_BDF(this.bus.number, this.devfn), options: { topology: this.topology },
    };
  }

  /** `info iommu`. */
  info(): string {
    return viommuInfo(this.core, `virtio-iommu-pci${this.id !== undefined ? ` (id ${this.id})` : ''} at ${this.bdfString}`);
  }
}

/** The platform side of the device logic, bound to its PCI function once that exists. */
class PlatformBinding implements ViommuPlatformBase {
  host!: VirtioIommuPci;
  endpointRegion(id: number): EndpointRegion | undefined {
    return this.host.endpointRegion(id);
  }
  regions(): Iterable<EndpointRegion> {
    return this.host.allRegions();
  }
  get systemAs(): AddressSpace {
    return this.host.ctx.systemMemory;
  }
  get log(): EventLog {
    return this.host.ctx.log;
  }
  get tracer(): Tracer {
    return this.host.ctx.mem.tracer;
  }
}
