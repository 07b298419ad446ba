import { DeviceRegistry, type DeviceType } from '../device-registry.js';
import { eduType } from './edu.js';
import { intelIommuType } from './intel-iommu.js';
import { pciBridgeType } from './pci-bridge.js';
import { pciePciBridgeType } from './pcie-pci-bridge.js';
import { pcieRootPortType } from './pcie-root-port.js';
import { virtioIommuPciType } from './virtio-iommu-pci.js';
import { spaprPhbType } from './spapr-pci-host-bridge.js';
import { smmuv3Type } from './smmuv3.js';
import { vfioPciModelType } from './vfio-pci-model.js';
import { virtioNetPciType } from './virtio-net-pci.js';

/** The device types viommu ships; later rooms append theirs (virtio-net-pci, vfio-pci, ...). */
export const BUILTIN_DEVICE_TYPES: readonly DeviceType[] = [
  eduType, pcieRootPortType, pciBridgeType, pciePciBridgeType, intelIommuType, smmuv3Type, virtioIommuPciType, spaprPhbType,
  vfioPciModelType, virtioNetPciType,
];

/** A registry holding the built-in types. */
export function defaultDeviceRegistry(): DeviceRegistry {
  const r = new DeviceRegistry();
  for (const t of BUILTIN_DEVICE_TYPES) r.register(t);
  return r;
}
