import type { PciDriver } from './drivers/driver-core.js';
import type { AcpiParsers } from './fw/acpi/registry.js';
import type { GuestKernel } from './kernel.js';
import type { Workload } from './workload/workload.js';

/**
 * How a vIOMMU's guest driver plugs into the guest (issues 7-10: VT-d,
 * SMMUv3, virtio-iommu, sPAPR). In boot order:
 * 1. `acpiParsers`: register table parsers (DMAR, IORT, VIOT) before the
 *    tables are parsed; read the results back later through the keys.
 * 2. `init`: after firmware and PCI enumeration, before IOMMU probing of
 *    devices: find the hardware in k.firmware (ACPI via k.acpiParsers, or
 *    k.firmware.fdt), add fwspec providers (k.iommu.addFwspecProvider),
 *    request ACS (k.acsRequested = true), bring the hardware up and
 *    register its instances (k.iommu.registerInstance) with an IommuDriver.
 *    A driver that is not ready yet (virtio-iommu before its virtio device
 *    is up) registers later; devices that name it are deferred meanwhile.
 * 3. `pciDrivers`: PCI drivers for IOMMUs that are PCI functions
 *    (virtio-iommu-pci); their probe registers the instance, which probes
 *    the deferred devices and lets their drivers bind.
 * A driver whose default domain is PLATFORM supplies its DMA ops with
 * k.dma.registerPlatformOps. `workloads` adds named workloads (e.g. a VFIO
 * user's cycle) that `--workload NAME` can run.
 */
export interface IommuModule {
  readonly name: string;
  acpiParsers?(parsers: AcpiParsers): void;
  init?(k: GuestKernel): void;
  pciDrivers?(k: GuestKernel): PciDriver[];
  workloads?(k: GuestKernel): Workload[];
}
