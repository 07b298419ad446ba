import { Edu } from '../../pci/edu.js';
import type { PCIDeviceType } from '../device-registry.js';

/** `-device edu[,dma_mask=N]` (QEMU hw/misc/edu.c). */
export const eduType: PCIDeviceType = {
  driver: 'edu',
  desc: 'QEMU educational PCI device',
  bus: 'pci',
  props: [{ name: 'dma_mask', type: { kind: 'uint', bits: 64 }, default: (1n << 28n) - 1n }],
  create: (p) => new Edu(p.big('dma_mask')),
};
