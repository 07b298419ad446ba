import {
  type AddressSpace, type AliasRegion, type ContainerRegion, type IOMMUTLBEntry, type MemoryRegion, type MemorySystem,
  type MemTxAttrs,
} from '../../memory/index.js';
import { IommuMemoryRegion } from '../iommu-region.js';
import { IOMMU_NOTIFIER_NONE, type IOMMUNotifier, type IommuError } from '../notifier.js';
import { VtdContext } from './vtd-context.js';
import { IovaTree } from './vtd-iova-tree.js';
import { VTD_INTERRUPT_ADDR_FIRST } from './vtd-regs.js';

/** A PCI bus as the IOMMU sees it: the number the guest programmed, read at translation time (pci_bus_num). */
export interface VtdBus {
  readonly number: number;
}

/** What an address space asks of its IOMMU (IntelIommu implements it). */
export interface VtdAsOwner {
  translate(as: VtdAddressSpace, addr: number, flag: number, idx: number, attrs: MemTxAttrs): IOMMUTLBEntry;
  notifyFlagChanged(as: VtdAddressSpace, oldFlags: number, newFlags: number): IommuError | null;
  replay(as: VtdAddressSpace, n: IOMMUNotifier): IommuError | null;
}

/** The regions every device's address space shares (QEMU mr_nodmar, mr_ir). */
export interface VtdSharedRegions {
  /** "vtd-nodmar": vtd-sys-alias (all of system memory) with vtd-ir over the interrupt range. */
  readonly nodmar: ContainerRegion;
  /** "vtd-ir": the interrupt-remapping MMIO window. */
  readonly ir: MemoryRegion;
}

/** VT-d's IOMMU memory region class (TYPE_INTEL_IOMMU_MEMORY_REGION): three indexes, untranslated 0, translated 1, ATS 2. */
export class VtdIommuRegion extends IommuMemoryRegion {
  constructor(sys: MemorySystem, name: string, target: AddressSpace, private readonly as: VtdAddressSpace,
    private readonly owner: VtdAsOwner) {
    super(sys, name, 1n << 64n, { targetAs: target });
  }
  override translate(addr: number, flag: number, idx: number, attrs: MemTxAttrs): IOMMUTLBEntry {
    return this.owner.translate(this.as, addr, flag, idx, attrs);
  }
  override numIndexes(): number {
    return 3;
  }
  /** vtd_attrs_to_index: translated requests 1, ATS translation requests 2, everything else 0. */
  override attrsToIndex(attrs: MemTxAttrs): number {
    return attrs.addressType === 'translated' ? 1 : attrs.addressType === 'translation-request' ? 2 : 0;
  }
  override notifyFlagChanged(oldFlags: number, newFlags: number): IommuError | null {
    return this.owner.notifyFlagChanged(this.as, oldFlags, newFlags);
  }
  override replay(n: IOMMUNotifier): IommuError | null {
    return this.owner.replay(this.as, n);
  }
}

/**
 * One device's DMA address space behind VT-d (QEMU VTDAddressSpace, built by
 * vtd_find_add_as): the container "vtd-SS.F" (address space "vtd-root")
 * holding the IOMMU region "vtd-SS.F-dmar" (with the "vtd-ir" alias over
 * the interrupt range at priority 1) and the "vtd-nodmar" alias, exactly
 * one of them enabled (vtd_switch_address_space: DMAR on and the context
 * not pass-through selects the IOMMU region). It holds the context-cache
 * entry (valid while its generation equals the IOMMU's), the IOTLB context
 * tag its translations are cached under, the notifier flags and the IOVA
 * tree of the shadow sync.
 */
export class VtdAddressSpace {
  readonly root: ContainerRegion;
  readonly as: AddressSpace;
  readonly iommu: VtdIommuRegion;
  readonly nodmar: AliasRegion;
  readonly irAlias: AliasRegion;
  /** Context cache (QEMU VTDContextCacheEntry): the entry and the generation it was read in (0: invalid). */
  readonly ce = new VtdContext();
  ccGen = 0;
  /** The IOTLB context tag of this requester's translations (xlate/context-table.ts). */
  readonly ctx: number;
  notifierFlags = IOMMU_NOTIFIER_NONE;
  readonly iovaTree = new IovaTree();
  /** Whether the IOMMU region (not the no-DMAR alias) is enabled now. */
  useIommu = false;

  constructor(readonly sys: MemorySystem, readonly bus: VtdBus, readonly devfn: number, ctx: number, target: AddressSpace,
    shared: VtdSharedRegions, owner: VtdAsOwner) {
    this.ctx = ctx;
    const name = `vtd-${(devfn >> 3).toString(16).padStart(2, '0')}.${(devfn & 7).toString(16)}`;
    this.root = sys.container(name, 1n << 64n);
    this.as = sys.addressSpace(this.root, 'vtd-root');
    this.nodmar = sys.alias('vtd-nodmar', shared.nodmar, 0, shared.nodmar.size);
    this.iommu = new VtdIommuRegion(sys, `${name}-dmar`, target, this, owner);
    this.irAlias = sys.alias('vtd-ir', shared.ir, 0, shared.ir.size);
    sys.transaction(() => {
      this.iommu.mr.addSubregion(this.irAlias, VTD_INTERRUPT_ADDR_FIRST, 1);
      this.root.addSubregion(this.iommu.mr, 0, 0);
      this.root.addSubregion(this.nodmar, 0, 0);
    });
  }

  /** The source-id (requester ID) now: bus number as programmed, devfn. */
  get sid(): number {
    return ((this.bus.number & 0xff) << 8) | this.devfn;
  }

  /** "00.03.0" as QEMU prints a device in notifier messages ("%02x.%02x.%x": bus, slot, function). */
  get bdfText(): string {
    const h = (v: number) => v.toString(16).padStart(2, '0');
    return `${h(this.bus.number & 0xff)}.${h(this.devfn >> 3)}.${(this.devfn & 7).toString(16)}`;
  }

  /** vtd_switch_address_space: enable exactly one of the IOMMU region and the no-DMAR alias. */
  switchTo(useIommu: boolean): void {
    this.useIommu = useIommu;
    this.sys.transaction(() => {
      if (useIommu) {
        this.nodmar.setEnabled(false);
        this.iommu.mr.setEnabled(true);
      } else {
        this.iommu.mr.setEnabled(false);
        this.nodmar.setEnabled(true);
      }
    });
  }
}
