import { HOST_IOMMU_KINDS, type HostIommuKind } from '../../pci/vfio/host-iommu.js';
import { VfioPciModel } from '../../pci/vfio/vfio-pci-model.js';
import type { PCIDeviceType } from '../device-registry.js';

/**
 * `-device vfio-pci-model[,dma_mask=N][,x-host-iommu=type1|spapr-tce]`: the
 * VFIO passthrough model (src/pci/vfio/vfio-pci-model.ts says why it is not
 * called `vfio-pci`). The host IOMMU flavour follows the board, as the
 * host's VFIO IOMMU driver would: sPAPR TCE on pseries, type1 elsewhere.
 */
export const vfioPciModelType: PCIDeviceType = {
  driver: 'vfio-pci-model',
  desc: 'VFIO passthrough model: an assigned edu-style DMA engine behind a host IOMMU shadow kept by MAP|UNMAP notifiers',
  bus: 'pci',
  props: [
    { name: 'dma_mask', type: { kind: 'uint', bits: 64 }, default: (1n << 28n) - 1n, desc: "the host device's DMA addressing (edu's dma_mask)" },
    { name: 'x-host-iommu', type: { kind: 'enum', values: ['auto', ...HOST_IOMMU_KINDS] }, default: 'auto', desc: 'host VFIO IOMMU driver: auto (spapr-tce on pseries, else type1), type1, spapr-tce' },
  ],
  unsupported: ['host', 'sysfsdev'],
  create: (p, host) => {
    const want = p.str('x-host-iommu') ?? 'auto';
    const kind: HostIommuKind = want === 'auto' ? (host.boardName === 'pseries' ? 'spapr-tce' : 'type1') : (want as HostIommuKind);
    return new VfioPciModel(p.big('dma_mask'), kind, host.iommuInfo);
  },
};
