import type { GuestDevice } from '../device.js';
import type { IommuCore } from '../iommu-core/core.js';
import { dmaAliases } from '../pci-core/dma-alias.js';
import type { FdtNode, FdtTree } from './fdt/fdt.js';
import { iommuMapOf, mapRid } from './fdt/props.js';

/**
 * of_iommu_configure for PCI (Linux drivers/iommu/of_iommu.c): each DMA
 * alias of the function is mapped through the host bridge's `iommu-map`;
 * the fwspec names the IOMMU's node path and carries the mapped IDs. A
 * function no entry covers has no IOMMU (direct DMA).
 */
export function addDtIommuMap(core: IommuCore, tree: FdtTree, host: FdtNode): number {
  const map = iommuMapOf(host, tree);
  if (map.length === 0) return 0;
  core.addFwspecProvider((dev: GuestDevice) => {
    if (!dev.pci) return undefined;
    let fwnode: string | undefined;
    const ids: number[] = [];
    for (const rid of dmaAliases(dev.pci)) {
      const m = mapRid(host, map, rid);
      if (!m) continue;
      if (fwnode !== undefined && fwnode !== m.iommu.path) continue;
      fwnode = m.iommu.path;
      if (!ids.includes(m.id)) ids.push(m.id);
    }
    return fwnode === undefined ? undefined : { fwnode, ids };
  });
  return map.length;
}
