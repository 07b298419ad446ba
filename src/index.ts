/**
 * viommu's library API. Each room of the code (src/memory, src/iommu, ...)
 * exports its public pieces here.
 */
export * from './base/index.js';
export * from './memory/index.js';
export * from './iommu/index.js';
export * from './pci/index.js';
export * from './virtio/index.js';
export * as virtioIommu from './iommu/virtio-iommu/index.js';
export * from './virtio/net/index.js';
export * from './vhost/index.js';
export * from './machine/index.js';
export * from './machine/firmware/index.js';
export * as guest from './guest/index.js';
export {
  runHotplugScript, DEFAULT_HOTPLUG_MACHINE, type HotplugRun, type HotplugRunOptions,
} from './cli/hotplug/run.js';
export {
  GuestActions, pendingAction, type GuestAction, type ActionContext, type ActionResult, type ActionParam, type DeviceRef,
} from './cli/hotplug/actions.js';
export { formatTap as formatHotplugTap, formatJson as formatHotplugJson } from './cli/hotplug/report.js';
export { ScriptError as HotplugScriptError } from './cli/hotplug/script.js';
export { runMatrix, planMatrix, matrixResult, type RunMatrixOptions } from './cli/matrix/run.js';
export type { MatrixConsumer, ConsumerCell, TrafficResult, NotifierUse } from './cli/matrix/consumer.js';
export type * from './cli/matrix/types.js';
