import { HotplugController } from './hotplug.js';
import type { Machine } from './machine.js';
import { humanMonitorCommand } from './monitor/hmp.js';
import { queryPci } from './monitor/query-pci.js';
import type { QmpBackend, RunState } from './qmp/backend.js';
import type { JsonObject, JsonValue } from './qmp/json.js';

export const VIOMMU_VERSION = { major: 0, minor: 1, micro: 0 } as const;
export const VIOMMU_PACKAGE = 'viommu 0.1.0 (QEMU 7.2 compatible)';

/** The Machine as QMP sees it. */
export class MachineQmpBackend implements QmpBackend {
  readonly version = VIOMMU_VERSION;
  readonly packageString = VIOMMU_PACKAGE;
  readonly hotplug: HotplugController;

  constructor(private readonly m: Machine) {
    this.hotplug = new HotplugController(m);
  }

  runState(): RunState {
    return this.m.runState;
  }
  /** qmp_stop: STOP is sent only when something was running. */
  stop(): void {
    if (this.m.runState === 'running') {
      this.m.runState = 'paused';
      this.m.emitEvent('STOP');
    }
  }
  /** qmp_cont: RESUME, also from prelaunch. */
  cont(): void {
    this.m.emitEvent('RESUME');
    this.m.runState = 'running';
  }
  /** qemu_system_reset_request(SHUTDOWN_CAUSE_HOST_QMP_SYSTEM_RESET), then qemu_system_reset. */
  systemReset(): void {
    this.m.reset();
    this.m.emitEvent('RESET', { guest: false, reason: 'host-qmp-system-reset' });
  }
  quit(): void {
    this.m.runState = 'shutdown';
    this.m.emitEvent('SHUTDOWN', { guest: false, reason: 'host-qmp-quit' });
  }
  queryPci(): JsonValue {
    return queryPci([this.m.rootBus]);
  }
  deviceAdd(args: JsonObject): void {
    this.hotplug.deviceAdd(args);
  }
  deviceDel(id: string): void {
    this.hotplug.deviceDel(id);
  }
  hmp(commandLine: string): string {
    return humanMonitorCommand(this.m, commandLine);
  }
  now(): number {
    return this.m.clock.now;
  }
  setEventSink(sink: (event: string, data?: JsonObject) => void): void {
    this.m.onEvent((e, d) => sink(e, d as JsonObject | undefined));
  }
}
