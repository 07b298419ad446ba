import { ConfigError } from '../base/config-error.js';
import { parseCmdline } from '../machine/cmdline.js';
import { configFromJson, type MachineConfig } from '../machine/config.js';
import { defaultBootConfig } from '../machine/load-config.js';
import { Machine } from '../machine/machine.js';

/**
 * A machine configuration as JSON: the same driver and property names as
 * QEMU's command line (`-device edu,addr=03.0` is `{"driver": "edu", "addr": "03.0"}`).
 *
 * @example
 * ```ts
 * const config: MachineConfigJson = {
 *   machine: 'q35', memory: '1G', seed: 1,
 *   devices: [{ driver: 'intel-iommu', 'caching-mode': true }, { driver: 'edu', addr: '03.0' }],
 * };
 * ```
 */
export interface MachineConfigJson {
  /** Board name (`q35`, `virt`, `pseries`), or `{"type": NAME, PROP: VALUE...}` for `-machine NAME,PROP=VALUE`. */
  readonly machine?: string | ({ readonly type: string } & Readonly<Record<string, string | number | boolean>>);
  /** Guest RAM: a QEMU size ("1G", "512M") or a number of MiB. */
  readonly memory?: string | number;
  /** `-device` entries in order: `driver` plus QEMU properties (`bus`, `addr`, `id`, ...). */
  readonly devices?: readonly ({ readonly driver: string } & Readonly<Record<string, string | number | boolean>>)[];
  /** Seed of the machine's PRNG (0 to 2^32-1). */
  readonly seed?: number;
  /** `-qtest CHARDEV`, e.g. "stdio" or "unix:/tmp/q.sock,server=on,wait=off". */
  readonly qtest?: string;
  /** `-qmp CHARDEV` monitors. */
  readonly qmp?: readonly string[];
  /** `-chardev` definitions by id. */
  readonly chardevs?: Readonly<Record<string, string>>;
  /** `-S`. */
  readonly startPaused?: boolean;
  /** `-global DRIVER.PROP=VALUE` defaults, keyed "DRIVER.PROP". */
  readonly globals?: Readonly<Record<string, string | number | boolean>>;
}

/**
 * Builds a machine, as `viommu boot` does.
 *
 * @param config - a JSON config object ({@link MachineConfigJson}), QEMU 7.2
 *   command-line arguments (`['-M', 'q35', '-device', 'intel-iommu', ...]`),
 *   or nothing for viommu's default machine (q35 with intel-iommu and edu).
 * @returns the machine, reset and ready for a guest ({@link runGuest}) or a
 *   monitor ({@link hmp}).
 * @throws ConfigError for a bad configuration; its `hint` holds the closest
 *   valid name ("did you mean 'edu'?").
 */
export function createMachine(config?: MachineConfigJson | readonly string[]): Machine {
  return Machine.create(machineConfig(config));
}

/**
 * The {@link MachineConfig} for a JSON config object or QEMU arguments
 * (what {@link createMachine} builds), for callers that adjust it first.
 *
 * @throws ConfigError for a bad configuration.
 */
export function machineConfig(config?: MachineConfigJson | readonly string[]): MachineConfig {
  if (config === undefined) return defaultBootConfig();
  if (Array.isArray(config)) {
    const { config: c, action } = parseCmdline(config as readonly string[]);
    if (action.kind !== 'run') throw new ConfigError(`-${action.kind.replace('-help', ',help')}`, 'help and version requests do not build a machine');
    return c;
  }
  return configFromJson(config);
}
