import type { PciFunction } from './pci-core/device.js';

/** DMA_BIT_MASK(n) for n <= 52 (numbers stay exact). */
export function dmaBitMask(n: number): number {
  return n >= 53 ? Number.MAX_SAFE_INTEGER : 2 ** n - 1;
}

/**
 * A device as the guest kernel sees it (Linux struct device): a PCI
 * function, or a mediated function carved out of a parent. The IOMMU core,
 * the DMA layer and the driver core each keep their state here.
 */
export class GuestDevice {
  /** DMA addressing limit the driver declared (dma_set_mask); 32 bits until it says otherwise. */
  dmaMask = dmaBitMask(32);
  coherentDmaMask = dmaBitMask(32);
  /** The name of the bound driver. */
  driver: string | undefined;

  constructor(readonly name: string, readonly pci?: PciFunction, readonly parent?: GuestDevice) {}

  get isPci(): boolean {
    return this.pci !== undefined;
  }
  get untrusted(): boolean {
    return this.pci?.untrusted ?? false;
  }
  /** Requester ID for PCI functions. */
  get rid(): number | undefined {
    return this.pci?.devId;
  }
}
