import type { FuzzTarget, Variant } from '../types.js';
import { machineTarget } from './machine-target.js';

/** Machines with every device model viommu has, each behind the guest-visible interfaces it really has. */
export const MMIO_VARIANTS: readonly Variant[] = [
  {
    name: 'q35-vtd-bridges',
    args: ['-M', 'q35', '-device', 'intel-iommu,caching-mode=on', '-device', 'edu', '-device', 'pcie-root-port,id=rp1,chassis=1',
      '-device', 'edu,bus=rp1', '-device', 'pcie-root-port,id=rp2,chassis=2', '-device', 'pcie-pci-bridge,id=pb,bus=rp2',
      '-device', 'pci-bridge,id=b2,bus=pb,chassis_nr=3,addr=1', '-device', 'edu,bus=b2'],
  },
  { name: 'virt-smmuv3', args: ['-M', 'virt,iommu=smmuv3', '-device', 'edu', '-device', 'pcie-root-port,id=rp1,chassis=1', '-device', 'edu,bus=rp1'] },
  { name: 'q35-virtio-iommu', args: ['-M', 'q35', '-device', 'virtio-iommu-pci', '-device', 'edu', '-device', 'pcie-root-port,id=rp1,chassis=1', '-device', 'edu,bus=rp1'] },
  { name: 'pseries', args: ['-M', 'pseries', '-device', 'edu', '-device', 'edu'] },
];

/** MMIO, port I/O and config-space writes on every device of every board. */
export function mmioTarget(): FuzzTarget {
  return machineTarget({
    name: 'mmio',
    summary: 'MMIO, port I/O and PCI config-space writes on every device (edu, root ports, bridges, vIOMMUs, PHB)',
    variants: MMIO_VARIANTS,
    randomOp: () => undefined,
    setup: () => undefined,
    exec: () => false,
  });
}
