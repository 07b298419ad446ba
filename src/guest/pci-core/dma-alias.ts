import type { PciFunction } from './device.js';
import {
  devfn, PCI_EXP_TYPE_DOWNSTREAM, PCI_EXP_TYPE_PCI_BRIDGE, PCI_EXP_TYPE_PCIE_BRIDGE, PCI_EXP_TYPE_ROOT_PORT,
  PCI_EXP_TYPE_UPSTREAM, pciDevId,
} from './regs.js';

/**
 * Calls `fn(pdev, alias)` for the requester ID a function's DMA may carry
 * by the time it reaches the root complex, as Linux pci_for_each_dma_alias
 * does (drivers/pci/search.c): first its own ID, then going up:
 * PCIe root/switch ports pass IDs through; a PCIe-to-PCI/PCI-X bridge takes
 * ownership with (secondary bus, devfn 0) (PCI Express to PCI/PCI-X Bridge
 * Specification 1.0 section 2.3); a PCI-X-to-PCIe bridge and a conventional
 * PCI bridge use their own ID. A non-zero return stops the walk and is
 * returned.
 */
export function forEachDmaAlias(pdev: PciFunction, fn: (dev: PciFunction, alias: number) => number): number {
  let ret = fn(pdev, pdev.devId);
  if (ret) return ret;
  for (let bus = pdev.bus; !bus.isRoot; bus = bus.parent!) {
    const tmp = bus.self;
    if (!tmp) continue;
    if (tmp.isPcie) {
      switch (tmp.pcieType) {
        case PCI_EXP_TYPE_ROOT_PORT:
        case PCI_EXP_TYPE_UPSTREAM:
        case PCI_EXP_TYPE_DOWNSTREAM:
          continue;
        case PCI_EXP_TYPE_PCI_BRIDGE:
          ret = fn(tmp, pciDevId(tmp.subordinate!.number, devfn(0, 0)));
          if (ret) return ret;
          continue;
        case PCI_EXP_TYPE_PCIE_BRIDGE:
          ret = fn(tmp, tmp.devId);
          if (ret) return ret;
          continue;
        default:
          continue;
      }
    }
    ret = fn(tmp, tmp.devId);
    if (ret) return ret;
  }
  return ret;
}

/** Every requester ID the function's DMA can arrive with (own ID first). */
export function dmaAliases(pdev: PciFunction): number[] {
  const out: number[] = [];
  forEachDmaAlias(pdev, (_d, a) => {
    if (!out.includes(a)) out.push(a);
    return 0;
  });
  return out;
}

/** Linux pci_devs_are_dma_aliases: only explicit alias quirks count, and the guest has none; topology aliases are found by forEachDmaAlias. */
export function pciDevsAreDmaAliases(_a: PciFunction, _b: PciFunction): boolean {
  return false;
}
