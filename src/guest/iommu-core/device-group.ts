import { pciAcsEnabled, pciAcsPathEnabled, REQ_ACS_FLAGS } from '../pci-core/acs.js';
import { forEachDmaAlias } from '../pci-core/dma-alias.js';
import type { PciFunction } from '../pci-core/device.js';
import type { IommuGroup } from './group.js';

/**
 * Linux pci_device_group (drivers/iommu/iommu.c): find the group a PCI
 * function must share, or undefined for a new one.
 * 1. Walk the DMA aliases upward; the first alias device already in a group
 *    gives that group. The last device seen is the point of minimum
 *    granularity.
 * 2. Continue upward while the bridge above is not ACS-isolated
 *    (SV|RR|CR|UF along the path); each such bridge's group is taken.
 * 3. Explicit alias quirks (none in this guest), then the other functions
 *    of a multi-function slot that lack ACS.
 */
export function pciDeviceGroup(pdev0: PciFunction, groupOf: (p: PciFunction) => IommuGroup | undefined): IommuGroup | undefined {
  let last = pdev0;
  let found: IommuGroup | undefined;
  if (forEachDmaAlias(pdev0, (p) => {
    last = p;
    found = groupOf(p);
    return found ? 1 : 0;
  })) return found;
  let pdev = last;
  for (let bus = pdev.bus; !bus.isRoot; bus = bus.parent!) {
    if (!bus.self) continue;
    if (pciAcsPathEnabled(bus.self, REQ_ACS_FLAGS)) break;
    pdev = bus.self;
    const g = groupOf(pdev);
    if (g) return g;
  }
  const seen = new Set<number>();
  const aliasGroup = (p: PciFunction): IommuGroup | undefined => {
    if (seen.has(p.devfn)) return undefined;
    seen.add(p.devfn);
    return groupOf(p);
  };
  const g = aliasGroup(pdev);
  if (g) return g;
  // get_pci_function_alias_group
  if (!pdev.multifunction || pciAcsEnabled(pdev, REQ_ACS_FLAGS)) return undefined;
  for (const tmp of pdev.bus.devices) {
    if (tmp === pdev || tmp.slot !== pdev.slot || pciAcsEnabled(tmp, REQ_ACS_FLAGS)) continue;
    const fg = aliasGroup(tmp);
    if (fg) return fg;
  }
  return undefined;
}
