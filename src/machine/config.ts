import { ConfigError } from '../base/config-error.js';
import { parseChardevShort, type ChardevSpec } from './chardev.js';
import type { RawValue } from './properties.js';

/** One -device (or JSON devices[] entry): driver plus the same property names, bus= and id= included. */
export interface DeviceSpec {
  readonly driver: string;
  readonly props: Readonly<Record<string, RawValue>>;
  /** How errors name it: "-device edu,addr=zz" on a command line, "devices[2]" in JSON. */
  readonly origin: string;
  /** True for JSON entries: errors name the property as origin.prop. */
  readonly json: boolean;
}

/**
 * A QMP monitor to open (-qmp, or -chardev plus -mon mode=control). The
 * QMP server (src/machine/qmp/) reads these; the machine itself does not
 * open them.
 */
export interface QmpMonitorSpec {
  readonly chardev: ChardevSpec;
  readonly pretty: boolean;
  readonly origin: string;
}

/** A whole machine: what -machine/-m/-device/... or a JSON config describe. */
export interface MachineConfig {
  readonly machine: { readonly type: string; readonly props: Readonly<Record<string, RawValue>> };
  /** -m: a number or a suffix-less string is MiB (QEMU's default unit); unset: the board's default. */
  readonly memory?: string | number;
  readonly devices: readonly DeviceSpec[];
  /** Seed for the machine's Xorshift32. */
  readonly seed: number;
  /** -S: do not start the guest. */
  readonly startPaused: boolean;
  readonly nodefaults: boolean;
  readonly qtest?: { readonly chardev: ChardevSpec; readonly log?: string };
  /** QMP chardevs for the QMP server. */
  readonly qmp: readonly QmpMonitorSpec[];
  /** -chardev definitions by id. */
  readonly chardevs: Readonly<Record<string, ChardevSpec>>;
  /** Options accepted and ignored, with why (printed as notes). */
  readonly notes: readonly string[];
  /** -global DRIVER.PROP=VALUE: default property values per driver. */
  readonly globals: Readonly<Record<string, RawValue>>;
}

export const DEFAULT_SEED = 1;

export function defaultConfig(type = 'q35'): MachineConfig {
  return { machine: { type, props: {} }, devices: [], seed: DEFAULT_SEED, startPaused: false, nodefaults: true, qmp: [], chardevs: {}, notes: [], globals: {} };
}

const TOP_KEYS = ['machine', 'memory', 'devices', 'seed', 'qtest', 'qmp', 'chardevs', 'startPaused', 'globals'];

function isRaw(v: unknown): v is RawValue {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

function rawRecord(field: string, o: unknown, skip: readonly string[]): Record<string, RawValue> {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new ConfigError(field, 'expected an object');
  const out: Record<string, RawValue> = {};
  for (const [k, v] of Object.entries(o)) {
    if (skip.includes(k)) continue;
    if (!isRaw(v)) throw new ConfigError(`${field}.${k}`, 'expected a string, number or boolean');
    out[k] = v;
  }
  return out;
}

/**
 * Reads a JSON machine config: {"machine": "q35" | {"type": "q35", PROP: V},
 * "memory": "1G", "devices": [{"driver": "edu", "addr": "03.0", ...}],
 * "seed": 1, "qtest": "stdio", "qmp": ["unix:PATH,server=on,wait=off"],
 * "chardevs": {"ID": "unix:PATH,server=on"}}.
 */
export function configFromJson(input: unknown): MachineConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new ConfigError('config', 'expected a JSON object');
  const o = input as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!TOP_KEYS.includes(k)) throw ConfigError.unknown('config', 'field', k, TOP_KEYS);
  const c = defaultConfig();
  let machine = c.machine;
  if (typeof o.machine === 'string') machine = { type: o.machine, props: {} };
  else if (o.machine !== undefined) {
    const m = rawRecord('machine', o.machine, ['type']);
    const type = (o.machine as Record<string, unknown>).type;
    if (typeof type !== 'string') throw new ConfigError('machine.type', 'expected a machine type name');
    machine = { type, props: m };
  }
  let memory: string | number | undefined;
  if (o.memory !== undefined) {
    if (typeof o.memory !== 'string' && typeof o.memory !== 'number') throw new ConfigError('memory', 'expected a size like "1G" or a number of MiB');
    memory = o.memory;
  }
  const devices: DeviceSpec[] = [];
  if (o.devices !== undefined) {
    if (!Array.isArray(o.devices)) throw new ConfigError('devices', 'expected an array');
    o.devices.forEach((d: unknown, i: number) => {
      const field = `devices[${i}]`;
      const props = rawRecord(field, d, ['driver']);
      const driver = (d as Record<string, unknown>).driver;
      if (typeof driver !== 'string') throw new ConfigError(`${field}.driver`, 'expected a device driver name');
      devices.push({ driver, props, origin: field, json: true });
    });
  }
  let seed = c.seed;
  if (o.seed !== undefined) {
    if (typeof o.seed !== 'number' || !Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff) {
      throw new ConfigError('seed', 'expected an integer from 0 to 4294967295');
    }
    seed = o.seed;
  }
  const qtest = o.qtest === undefined ? undefined
    : typeof o.qtest === 'string' ? { chardev: parseChardevShort('qtest', o.qtest) }
      : (() => { throw new ConfigError('qtest', 'expected a character device like "stdio"'); })();
  const qmp: QmpMonitorSpec[] = [];
  if (o.qmp !== undefined) {
    if (!Array.isArray(o.qmp)) throw new ConfigError('qmp', 'expected an array of character devices');
    o.qmp.forEach((q: unknown, i: number) => {
      if (typeof q !== 'string') throw new ConfigError(`qmp[${i}]`, 'expected a character device like "unix:PATH,server=on,wait=off"');
      qmp.push({ chardev: parseChardevShort(`qmp[${i}]`, q), pretty: false, origin: `qmp[${i}]` });
    });
  }
  const chardevs: Record<string, ChardevSpec> = {};
  if (o.chardevs !== undefined) {
    for (const [id, spec] of Object.entries(rawRecord('chardevs', o.chardevs, []))) {
      chardevs[id] = parseChardevShort(`chardevs.${id}`, String(spec));
    }
  }
  if (o.startPaused !== undefined && typeof o.startPaused !== 'boolean') throw new ConfigError('startPaused', 'expected true or false');
  const globals = o.globals === undefined ? {} : rawRecord('globals', o.globals, []);
  return { ...c, machine, memory, devices, seed, qtest, qmp, chardevs, startPaused: o.startPaused === true, globals };
}
