import type { AddressSpace } from '../../memory/address-space.js';
import type { MemTxAttrs } from '../../memory/attrs.js';
import type { IOMMUTLBEntry } from '../../memory/iommu-types.js';
import type { MemorySystem } from '../../memory/memory-system.js';
import type { AliasRegion, ContainerRegion } from '../../memory/region.js';
import { IommuMemoryRegion } from '../iommu-region.js';
import { EINVAL, IOMMU_NOTIFIER_DEVIOTLB_UNMAP, iommuError, type IOMMUNotifier, type IommuError } from '../notifier.js';

const SIZE_2_64 = 1n << 64n;

/** What an endpoint region asks of the device that owns it. */
export interface EndpointTranslator {
  translate(region: EndpointRegion, addr: number, flag: number): IOMMUTLBEntry;
  /** virtio_iommu_replay: MAP events for the mappings of the endpoint's domain, to `n`. */
  replay(region: EndpointRegion, n: IOMMUNotifier): void;
}

/**
 * The DMA address space of one requester behind the virtio-iommu (QEMU
 * IOMMUDevice, virtio_iommu_find_add_as): a root container of 2^64 bytes
 * holding the IOMMU region and a "system" alias onto system memory, one of
 * them enabled: the alias while the endpoint is in bypass, the IOMMU
 * region otherwise (virtio_iommu_switch_address_space). The endpoint ID is
 * the requester ID with the bus number programmed at the time of the
 * access (`sid`), as QEMU computes it.
 *
 * Notifiers: MAP, UNMAP and replay; DEVIOTLB_UNMAP is vetoed with QEMU's
 * message (virtio_iommu_notify_flag_changed; seed 002).
 */
export class EndpointRegion extends IommuMemoryRegion {
  readonly root: ContainerRegion;
  readonly bypassAlias: AliasRegion;
  readonly as: AddressSpace;
  private remapping = true;

  constructor(private readonly sys: MemorySystem, name: string, readonly sid: () => number,
    system: ContainerRegion, systemAs: AddressSpace, readonly owner: EndpointTranslator) {
    super(sys, name, SIZE_2_64, { targetAs: systemAs });
    this.root = sys.container(name, SIZE_2_64);
    this.bypassAlias = sys.alias('system', system, 0, system.size);
    sys.transaction(() => {
      this.root.addSubregion(this.mr, 0, 0);
      this.root.addSubregion(this.bypassAlias, 0, 0);
      this.bypassAlias.setEnabled(false);
    });
    this.as = sys.addressSpace(this.root, 'virtio-iommu');
  }

  /** Whether accesses go through translation now (false: the bypass alias). */
  get usesRemapping(): boolean {
    return this.remapping;
  }

  /** virtio_iommu_switch_address_space: turn one off, then the other on. */
  switchAddressSpace(useRemapping: boolean): void {
    if (useRemapping === this.remapping) return;
    this.remapping = useRemapping;
    this.sys.transaction(() => {
      if (useRemapping) {
        this.bypassAlias.setEnabled(false);
        this.mr.setEnabled(true);
      } else {
        this.mr.setEnabled(false);
        this.bypassAlias.setEnabled(true);
      }
    });
  }

  override translate(addr: number, flag: number, _iommuIndex: number, _attrs: MemTxAttrs): IOMMUTLBEntry {
    return this.owner.translate(this, addr, flag);
  }

  override notifyFlagChanged(_oldFlags: number, newFlags: number): IommuError | null {
    if (newFlags & IOMMU_NOTIFIER_DEVIOTLB_UNMAP) return iommuError(EINVAL, 'Virtio-iommu does not support dev-iotlb yet');
    return null;
  }

  override replay(n: IOMMUNotifier): IommuError | null {
    this.owner.replay(this, n);
    return null;
  }

  /** The endpoint went away (unplug): its address space is destroyed. */
  destroy(): void {
    this.sys.destroyAddressSpace(this.as);
  }
}
