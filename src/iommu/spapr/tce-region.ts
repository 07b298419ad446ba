import type { AddressSpace, IOMMUTLBEntry, MemorySystem, MemTxAttrs } from '../../memory/index.js';
import { IommuMemoryRegion } from '../iommu-region.js';
import { EINVAL, IOMMU_NOTIFIER_DEVIOTLB_UNMAP, IOMMU_NOTIFIER_NONE, iommuError, type IommuError, type IOMMUNotifier } from '../notifier.js';

/** What the region asks of its table (SpaprTceTable). */
export interface TceRegionBackend {
  readonly pageShift: number;
  translate(addr: number, flag: number): IOMMUTLBEntry;
  replay(n: IOMMUNotifier): void;
  setNeedVfio(on: boolean): void;
}

/** QEMU's veto text, typo included (hw/ppc/spapr_iommu.c spapr_tce_notify_flag_changed). */
export const SPAPR_DEVIOTLB_VETO = 'spart_tce does not support dev-iotlb yet';

/**
 * TYPE_SPAPR_IOMMU_MEMORY_REGION "tce-iommu-<liobn>": the IOMMU region of
 * one TCE table, sized to its window and placed at the window's bus offset
 * in the table's root container; addresses it sees are relative to the
 * window. Notifier policy (QEMU spapr_tce_notify_flag_changed): a union
 * with DEVIOTLB_UNMAP is refused with -EINVAL; NONE -> some switches the
 * table to "need VFIO" and some -> NONE back.
 */
export class TceIommuRegion extends IommuMemoryRegion {
  constructor(sys: MemorySystem, name: string, targetAs: AddressSpace, private readonly backend: TceRegionBackend) {
    super(sys, name, 0n, { targetAs });
  }

  override translate(addr: number, flag: number, _idx: number, _attrs: MemTxAttrs): IOMMUTLBEntry {
    return this.backend.translate(addr, flag);
  }

  /** spapr_tce_get_min_page_size: the window's IOMMU page. */
  override getMinPageSize(): number {
    return 2 ** this.backend.pageShift;
  }

  override notifyFlagChanged(oldFlags: number, newFlags: number): IommuError | null {
    if (newFlags & IOMMU_NOTIFIER_DEVIOTLB_UNMAP) return iommuError(EINVAL, SPAPR_DEVIOTLB_VETO);
    if (oldFlags === IOMMU_NOTIFIER_NONE && newFlags !== IOMMU_NOTIFIER_NONE) this.backend.setNeedVfio(true);
    else if (oldFlags !== IOMMU_NOTIFIER_NONE && newFlags === IOMMU_NOTIFIER_NONE) this.backend.setNeedVfio(false);
    return null;
  }

  /** spapr_tce_replay: every valid TCE as a MAP, straight to the notifier (no crop, no flag filter). */
  override replay(n: IOMMUNotifier): IommuError | null {
    this.backend.replay(n);
    return null;
  }
}
