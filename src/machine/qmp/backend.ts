import type { JsonObject, JsonValue } from './json.js';

/** Run state as query-status reports it (qapi RunState, the ones we reach). */
export type RunState = 'prelaunch' | 'running' | 'paused' | 'shutdown';

/**
 * What the QMP server needs from a machine. The Machine implements it; the
 * server and the human monitor only talk to this. Methods throw QmpError
 * with QEMU's class and text on failure.
 */
export interface QmpBackend {
  /** viommu's own version, reported where QEMU reports its own. */
  readonly version: { major: number; minor: number; micro: number };
  readonly packageString: string;
  runState(): RunState;
  stop(): void;
  cont(): void;
  /** qmp_system_reset: resets the machine (RESET follows the reply, as QEMU's reset request does). */
  systemReset(): void;
  /** Begins shutdown; the server sends SHUTDOWN and the reply, then calls `exit`. */
  quit(): void;
  /** query-pci (qapi/pci.json PciInfo list). */
  queryPci(): JsonValue;
  /** device_add: driver, id, bus and the driver's properties. */
  deviceAdd(args: JsonObject): void;
  /** device_del by id or QOM path. */
  deviceDel(id: string): void;
  /** A human monitor command line; returns its text with "\n" line ends. */
  hmp(commandLine: string): string;
  /** Virtual time in ns, for event timestamps. */
  now(): number;
  /** Where the machine sends events (DEVICE_DELETED, STOP, RESUME...). */
  setEventSink(sink: (event: string, data?: JsonObject) => void): void;
}
