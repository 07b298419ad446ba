/**
 * The synthetic guest's public API.
 *
 * Wiring `viommu boot` to a machine:
 *   const oracle = new DmaOracle(() => port.now(), port.log);
 *   // for each emulated PCI function's bus-master address space:
 *   as.observer = dmaAccessObserver(oracle, { requesterId, device: name, path: 'emulated' });
 *   // vhost workers and the vfio shadow call oracle.observe({... path: 'vhost' | 'vfio', time })
 *   const report = bootGuest(port, { oracle, modules: [vtdModule, ...], dmaMode: 'lazy' });
 *   report.notifiers = machine.notifierReport();   // the machine's side of the report
 *   print(json ? JSON.stringify(report) : formatReport(report)); exit(reportFailed(report) ? 1 : 0);
 */
export type { GuestPort } from './port.js';
export { bootGuest, bootGuestKernel, DMA_MODES, type BootOptions, type BootedGuest, type DmaMode } from './boot.js';
export { GuestKernel, type FirmwareInfo, type KernelOptions } from './kernel.js';
export type { IommuModule } from './module.js';
export { GuestDevice, dmaBitMask } from './device.js';
export { GuestClock, GuestTimer } from './clock.js';
export { PageAllocator, PAGE_SIZE } from './page-alloc.js';
export * from './errno.js';
export * from './dma-ops.js';
export { DmaApi, DEFAULT_DMA_API, type DmaApiOptions } from './dma/dma-api.js';
export { IovaDomain } from './dma/iova.js';
export { FlushQueue, DEFAULT_FQ, type FlushQueueOptions } from './dma/flush-queue.js';
export * from './iommu-core/domain-types.js';
export * from './iommu-core/driver.js';
export { IotlbGather } from './iommu-core/gather.js';
export { IommuGroup } from './iommu-core/group.js';
export { IommuCore, REGRESSION_SWITCHES, type IommuCoreOptions, type RegressionSwitch, type DevIommu } from './iommu-core/core.js';
export type { IommuEvents } from './iommu-core/events.js';
export * from './iommu-core/iommu-map.js';
export * from './iommu-core/attach.js';
export * from './iommu-core/ownership.js';
export * from './iommu-core/pasid.js';
export { SharedDomain, type MediatedAttachment } from './iommu-core/shared-domain.js';
export { DmaOracle, type Violation, type ViolationKind } from './oracle/oracle.js';
export { dmaAccessObserver, outcomeOf, type DmaObservation, type DmaObserver, type DmaPath } from './oracle/observation.js';
export { type PciDriver, DriverCore } from './drivers/driver-core.js';
export { EduDriver } from './drivers/edu.js';
export { AcpiParsers, type AcpiParserKey } from './fw/acpi/registry.js';
export type { AcpiTable } from './fw/acpi/sdt.js';
export { parseFdt, FdtTree, FdtNode } from './fw/fdt/fdt.js';
export * from './fw/fdt/props.js';
export type { BootReport, DeviceReport, GroupReport, NotifierReport } from './report/report.js';
export { reportFailed } from './report/report.js';
export { formatReport } from './report/format.js';
export type { Workload, WorkloadResult, WorkloadContext, ParamSpec, ParamValue } from './workload/workload.js';
export { parseWorkloadSpec } from './workload/workload.js';
export type { Result } from './util/result.js';
export { PciBus, PciFunction, type PciBar, type PciCap, type PciExtCap, type VirtioPciCap } from './pci-core/device.js';
export { enumeratePci, pciEnableDevice, type PciTopology, type EnumerateOptions } from './pci-core/enumerate.js';
export {
  assignResources, isHotplugBridge, LINUX_HOTPLUG_RESERVE, SEABIOS_HOTPLUG_RESERVE, type HostWindow, type HostWindows, type HotplugReserve,
} from './pci-core/resources.js';
export { assignBridgeResources, readBridgeWindows, type BridgeWindow, type BridgeWindows } from './pci-core/bridge-windows.js';
export { scanSlot } from './pci-core/enumerate.js';
export { Pciehp, PciehpSlot, type PciehpOptions, type SlotState } from './hotplug/pciehp.js';
export { SpaprPciHotplug, type SpaprHotplugOptions } from './hotplug/spapr-hotplug.js';
export { SpaprDrcSlot, type SpaprDrcState } from './hotplug/spapr-slot.js';
export { parseRtasHotplugLog, type RtasHotplugLog, type HotplugEvent } from './hotplug/rtas-hotplug-log.js';
export { MsiDomain, type MsiMessage } from './irq/msi-domain.js';
export { cf8Access, ecamAccess, rtasAccess, type PciConfigAccess, type RtasPciTokens } from './pci-core/config-access.js';
export { dmaAliases, forEachDmaAlias } from './pci-core/dma-alias.js';
export { pciAcsEnabled, pciAcsPathEnabled, pciEnableAcs, REQ_ACS_FLAGS } from './pci-core/acs.js';
export { pciAtsSupported, pciAtsEnabled, pciEnableAts, pciDisableAts, pciMaxPasids, pciEnablePasid, pciPasidEnabled } from './pci-core/ats.js';
export { pciEnableMsi, pciDisableMsi, pciEnableMsixVector0, pciMsixInfo, type MsixInfo } from './pci-core/msi.js';
export * as pciRegs from './pci-core/regs.js';
export { FwCfgClient, type FwCfgFile } from './fw/fw-cfg.js';
export { fwCfgIo, fwCfgMmio, type FwCfgRegs } from './fw/fw-cfg-regs.js';
export { runTableLoader, type LoaderEnv, type LoaderResult } from './fw/table-loader.js';
export { walkAcpi, type AcpiWalk } from './fw/acpi/walk.js';
export { parseMcfg, type McfgAllocation } from './fw/acpi/mcfg.js';
export { parseMadt, type Madt, type MadtEntry } from './fw/acpi/madt.js';
export { ByteView } from './util/bytes.js';
export { VirtioPciDevice } from './virtio-core/virtio-pci.js';
export { GuestVirtqueue, type VqBuffer, type VqRings } from './virtio-core/virtqueue.js';
export { parseViot, viotEndpointId, type Viot, type ViotIommu, type ViotPciRange } from './fw/acpi/viot.js';
export { virtioIommuModule } from './iommu-core/virtio-iommu/module.js';
export { VirtioIommuDriver } from './iommu-core/virtio-iommu/driver.js';
export { ViommuDev } from './iommu-core/virtio-iommu/viommu-dev.js';
export { builtinIommuModules } from './iommu-modules.js';
export * as spapr from './spapr/index.js';
export { VfioPciBinding, VFIO_USER_IOVA } from './vfio/binding.js';
export { VfioType1Container, VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU } from './vfio/type1.js';
