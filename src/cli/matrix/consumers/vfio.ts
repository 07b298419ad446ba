import { VfioPciModel } from '../../../pci/vfio/vfio-pci-model.js';
import type { MatrixConsumer } from '../consumer.js';
import { engineBindUnbind, engineChurn, engineSteady } from './edu-engine.js';

/**
 * `vfio`: the VFIO passthrough model (-device vfio-pci-model). Its DMA
 * goes through the host IOMMU shadow that MAP|UNMAP notifiers keep, so a
 * vIOMMU that cannot send MAP refuses it at realize, and a lost UNMAP is
 * a stale translation the oracle sees. It has no ATS capability.
 */
export const vfioConsumer: MatrixConsumer = {
  id: 'vfio',
  summary: 'VFIO passthrough model: host IOMMU shadow kept by MAP|UNMAP notifiers and replay',
  device: () => ({ driver: 'vfio-pci-model', props: {} }),
  steady: (a, dev, ops) => engineSteady(a, dev.guest, ops),
  churn: (a, dev, ops) => engineChurn(a, dev.guest, ops),
  bindUnbind: (a, dev) => engineBindUnbind(a, dev.guest),
  notifierUse(m) {
    if (!(m instanceof VfioPciModel)) return undefined;
    const c = m.container;
    const flags = c.notifiers.length > 0 ? 'MAP|UNMAP' : 'none (RAM mapped 1:1)';
    return { flags, map: c.counters.mapEvents, unmap: c.counters.unmapEvents, devIotlb: 0 };
  },
};
