/**
 * viommu's library API (the package entry, `import ... from 'viommu'`).
 *
 * The top level is the typed, documented API a user starts from: build a
 * machine ({@link createMachine}), boot the synthetic guest with the DMA
 * oracle ({@link runGuest}), watch a device's IOMMU mappings
 * ({@link registerDeviceNotifier}), ask the monitor ({@link hmp}), run the
 * IOTLB benchmark ({@link runIotlbBenchmark}). Each room of the code is also
 * exported whole as a namespace (`memory`, `iommu`, `pci`, ...), for tools
 * that build on its pieces.
 *
 * Every export here carries a TSDoc comment (test/api/tsdoc.test.ts checks):
 * add a new room as a documented namespace (`export * as vhost from ...`), not
 * with a bare `export *`.
 */

// The typed API.
export {
  createMachine, machineConfig, type MachineConfigJson,
  runGuest,
  registerDeviceNotifier, type DeviceNotifyEvent, type DeviceNotifierHandle,
  runIotlbBenchmark,
  hmp,
} from './api/index.js';
export { Machine } from './machine/machine.js';
export type { MachineConfig } from './machine/config.js';
export { ConfigError } from './base/config-error.js';
export type { BootOptions, DmaMode } from './guest/boot.js';
export { type BootReport, reportFailed } from './guest/report/report.js';
export { formatReport as formatBootReport } from './guest/report/format.js';
export {
  IOMMU_NOTIFIER_NONE, IOMMU_NOTIFIER_MAP, IOMMU_NOTIFIER_UNMAP, IOMMU_NOTIFIER_DEVIOTLB_UNMAP,
  IOMMU_NOTIFIER_IOTLB_EVENTS, IOMMU_NOTIFIER_DEVIOTLB_EVENTS, IOMMU_NOTIFIER_ALL,
  type IOMMUNotifyEntry, type IommuError,
} from './iommu/notifier.js';
export { IOMMU_NONE, IOMMU_RO, IOMMU_WO, IOMMU_RW } from './memory/iommu-types.js';
export {
  BENCH_DEFAULTS, BENCH_IOMMUS, benchMachine, type IotlbBenchOptions, type IotlbBenchResult,
} from './iommu/bench/iotlb-bench.js';
export { IOVA_BASE_PAGE } from './iommu/bench/iotlb-workload.js';
export { Iotlb } from './iommu/iotlb/iotlb.js';
export { TranslationPool } from './iommu/pool/pool.js';

// Hotplug scripts (`viommu hotplug`) and the guest actions providers register.
export {
  runHotplugScript, DEFAULT_HOTPLUG_MACHINE, type HotplugRun, type HotplugRunOptions,
} from './cli/hotplug/run.js';
export {
  GuestActions, pendingAction, type GuestAction, type ActionContext, type ActionResult, type ActionParam, type DeviceRef,
} from './cli/hotplug/actions.js';
export { formatTap as formatHotplugTap, formatJson as formatHotplugJson } from './cli/hotplug/report.js';
export { ScriptError as HotplugScriptError } from './cli/hotplug/script.js';

// The vIOMMU x consumer matrix (`viommu matrix`).
export { runMatrix, planMatrix, matrixResult, type RunMatrixOptions, type PlannedCell } from './cli/matrix/run.js';
export type { MatrixConsumer, ConsumerCell, ConsumerDevice, TrafficResult, NotifierUse } from './cli/matrix/consumer.js';
export type {
  MatrixViommuId, MatrixConsumerId, BuiltinConsumerId, MatrixScenarioId, MatrixMode, CellStatus, CellBreakage, CellCounts,
  MatrixCell, MatrixTotals, MatrixResult, MatrixOptions,
} from './cli/matrix/types.js';

// Fuzzing the guest-facing surfaces (`viommu fuzz`).
export { runFuzz, replayReproducer, makeFuzzTarget, fuzzTargetNames, type FuzzRunOptions } from './machine/fuzz/run.js';
export { fuzzTarget, runInput, type FuzzOptions, type TargetStats, type FoundFailure } from './machine/fuzz/engine.js';
export { loadReproducer, saveReproducer, type Reproducer } from './machine/fuzz/repro.js';
export type { FuzzTarget, FuzzInput, Op as FuzzOp, Failure as FuzzFailure, FailureKind as FuzzFailureKind } from './machine/fuzz/types.js';

// The rooms, whole.
/** src/base: VirtualClock and timers, Xorshift32, ConfigError and "did you mean", IRQ lines, the event log. */
export * as base from './base/index.js';
/** src/memory: the memory-region tree, address spaces and dispatch (MemTxResult), listeners, IOMMU region hook, info mtree. */
export * as memory from './memory/index.js';
/** src/iommu: notifiers, IOTLB, page-table walkers, the translation engine and worker pool, VT-d and SMMUv3 models, the IOTLB benchmark. */
export * as iommu from './iommu/index.js';
/** src/iommu/virtio-iommu: the virtio-iommu request handling (domains, endpoints, mappings). */
export * as virtioIommu from './iommu/virtio-iommu/index.js';
/** src/pci: PCI/PCIe buses, functions, BARs, capabilities, MSI/MSI-X, bridges, root ports, edu. */
export * as pci from './pci/index.js';
/** src/virtio: VirtIODevice, VirtQueue and the modern virtio-pci transport. */
export * as virtio from './virtio/index.js';
/** src/virtio/net: virtio-net (PCI) with its test frames and the network peer it talks to. */
export * as virtioNet from './virtio/net/index.js';
/** src/vhost: the vhost-net backend with its device IOTLB, the vhost message ABI, the vIOMMU follower. */
export * as vhost from './vhost/index.js';
/** src/machine: boards (q35, virt, pseries), the QEMU command line, device registry, QMP/HMP, qtest. */
export * as machine from './machine/index.js';
/** src/machine/firmware: ACPI tables, device trees, fw-cfg and the BIOS linker the guest reads. */
export * as firmware from './machine/firmware/index.js';
/** src/guest: the synthetic Linux-like guest (PCI enumeration, DMA API, IOMMU drivers, workloads, DMA oracle). */
export * as guest from './guest/index.js';
