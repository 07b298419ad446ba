import type { MatrixConsumer } from '../consumer.js';
import { engineBindUnbind, engineChurn, engineSteady } from './edu-engine.js';

/**
 * `edu`: QEMU's emulated DMA engine. Its DMA is translated per access
 * through the bus-master address space (the vIOMMU's translate), so it
 * registers no notifier and works behind every vIOMMU; it has no ATS
 * capability, so the guest-ATS axis does not change it.
 */
export const eduConsumer: MatrixConsumer = {
  id: 'edu',
  summary: 'emulated edu DMA engine: translated per access, no notifier',
  device: () => ({ driver: 'edu', props: {} }),
  steady: (a, dev, ops) => engineSteady(a, dev.guest, ops),
  churn: (a, dev, ops) => engineChurn(a, dev.guest, ops),
  bindUnbind: (a, dev) => engineBindUnbind(a, dev.guest),
  notifierUse: (_m, cell) => ({ flags: cell.viommu.id === 'none' ? 'none (no vIOMMU)' : 'none (translated per access)', map: 0, unmap: 0, devIotlb: 0 }),
};
