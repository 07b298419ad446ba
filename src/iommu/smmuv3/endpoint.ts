import { qemuUnassignedPiece, type AddressSpace, type IOMMUTLBEntry, type MemorySystem, type MemTxAttrs } from '../../memory/index.js';
import { IommuMemoryRegion } from '../iommu-region.js';
import type { IommuError } from '../notifier.js';

/** IOMMU indexes of an endpoint region (as VT-d's: untranslated, translated, ATS translation request). */
export const SMMU_IDX_UNTRANSLATED = 0;
export const SMMU_IDX_TRANSLATED = 1;
export const SMMU_IDX_ATS = 2;

/** SMMU_MAX_VA_BITS: an endpoint region covers 48 bits of IOVA, as QEMU's. */
export const SMMU_REGION_SIZE = 1n << 48n;

/** What an endpoint asks of its SMMU. */
export interface SmmuEndpointHost {
  translateFor(ep: SmmuEndpoint, addr: number, flag: number, attrs: MemTxAttrs): IOMMUTLBEntry;
  notifyFlagChangedFor(ep: SmmuEndpoint, oldFlags: number, newFlags: number): IommuError | null;
}

/**
 * One PCI function's view of the SMMU (QEMU SMMUDevice): an IOMMU region
 * "smmuv3-iommu-memory-region-<devfn>-<n>" of 2^48 bytes and the address
 * space of the same name that the function's bus-master alias points into.
 * The StreamID is the requester ID, derived when a transaction arrives
 * (`sidOf`), since bus numbers change during enumeration.
 */
export class SmmuEndpoint {
  readonly region: IommuMemoryRegion;
  readonly as: AddressSpace;

  constructor(host: SmmuEndpointHost, readonly name: string, readonly devfn: number, readonly sidOf: () => number,
    sys: MemorySystem, target: AddressSpace) {
    this.region = new IommuMemoryRegion(sys, name, SMMU_REGION_SIZE, {
      targetAs: target,
      ops: {
        translate: (addr, flag, _idx, attrs) => host.translateFor(this, addr, flag, attrs),
        numIndexes: () => 3,
        attrsToIndex: (attrs) => (attrs.addressType === 'translated' ? SMMU_IDX_TRANSLATED
          : attrs.addressType === 'translation-request' ? SMMU_IDX_ATS : SMMU_IDX_UNTRANSLATED),
        notifyFlagChanged: (o, n) => host.notifyFlagChangedFor(this, o, n),
        // A refused DMA is translated again every <= 4 aligned bytes, one fault record each, as in QEMU.
        refusedPieceLength: qemuUnassignedPiece,
      },
    });
    this.as = sys.addressSpace(this.region.mr, name);
  }

  get sid(): number {
    return this.sidOf();
  }

  /** "bb.dd.f" as QEMU's messages print it (pci_bus_num, PCI_SLOT, PCI_FUNC). */
  get bdfText(): string {
    const sid = this.sid;
    const h = (n: number) => n.toString(16).padStart(2, '0');
    return `${h(sid >> 8)}.${h((sid >> 3) & 0x1f)}.${sid & 7}`;
  }
}
