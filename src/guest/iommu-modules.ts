import { vtdModule } from './drivers/vtd/module.js';
import type { IommuModule } from './module.js';
import { virtioIommuModule } from './iommu-core/virtio-iommu/module.js';
import { spaprTceModule } from './spapr/module.js';
import { smmuv3Module } from './drivers/smmuv3/module.js';

/**
 * The vIOMMU guest drivers built into the synthetic guest, as in a distro
 * kernel: every one is loaded, and each binds only if the firmware
 * describes its hardware (DMAR for intel-iommu, IORT or the DT for
 * arm-smmu-v3, VIOT / DT / config space for virtio-iommu, the pseries
 * device tree for the TCE tables). Each vIOMMU issue adds its module here.
 */
export function builtinIommuModules(): IommuModule[] {
  return [vtdModule(), smmuv3Module(), virtioIommuModule(), spaprTceModule()];
}
