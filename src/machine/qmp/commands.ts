import type { QmpBackend } from './backend.js';
import { genericError, QmpError } from './errors.js';
import { isObject, type JsonObject, type JsonValue } from './json.js';

type ParamType = 'str' | 'int' | 'bool' | 'array';
interface Param {
  type: ParamType;
  optional?: boolean;
}

/** A QMP command: its arguments (QAPI schema subset) and its handler. */
export interface QmpCommand {
  readonly params: Readonly<Record<string, Param>>;
  /** device_add takes the driver's properties beside its declared arguments. */
  readonly extraArgs?: boolean;
  run(backend: QmpBackend, args: JsonObject): JsonValue;
}

const TYPE_NAME: Record<ParamType, string> = { str: 'string', int: 'integer', bool: 'boolean', array: 'array' };

function hasType(v: JsonValue, t: ParamType): boolean {
  switch (t) {
    case 'str': return typeof v === 'string';
    case 'int': return (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint';
    case 'bool': return typeof v === 'boolean';
    case 'array': return Array.isArray(v);
  }
}

/** Argument checks with QEMU's qobject-input-visitor texts. */
export function checkArgs(cmd: QmpCommand, args: JsonObject): void {
  for (const [name, p] of Object.entries(cmd.params)) {
    const v = args[name];
    if (v === undefined) {
      if (!p.optional) throw genericError(`Parameter '${name}' is missing`);
    } else if (!hasType(v, p.type)) {
      throw genericError(`Invalid parameter type for '${name}', expected: ${TYPE_NAME[p.type]}`);
    }
  }
  if (!cmd.extraArgs) {
    for (const name of Object.keys(args)) {
      if (!(name in cmd.params)) throw genericError(`Parameter '${name}' is unexpected`);
    }
  }
}

/** The commands viommu answers (qapi/*.json names and shapes). */
export const QMP_COMMANDS: Readonly<Record<string, QmpCommand>> = {
  'query-version': {
    params: {},
    run: (b) => ({ qemu: { micro: b.version.micro, minor: b.version.minor, major: b.version.major }, package: b.packageString }),
  },
  'query-status': {
    params: {},
    run: (b) => {
      const status = b.runState();
      return { status, singlestep: false, running: status === 'running' };
    },
  },
  'query-commands': {
    params: {},
    run: () => [...Object.keys(QMP_COMMANDS), 'qmp_capabilities'].sort().map((name) => ({ name })),
  },
  'query-pci': { params: {}, run: (b) => b.queryPci() },
  system_reset: {
    params: {},
    run: (b) => {
      b.systemReset();
      return {};
    },
  },
  device_add: {
    params: { driver: { type: 'str' }, bus: { type: 'str', optional: true }, id: { type: 'str', optional: true } },
    extraArgs: true,
    run: (b, args) => {
      b.deviceAdd(args);
      return {};
    },
  },
  device_del: {
    params: { id: { type: 'str' } },
    run: (b, args) => {
      b.deviceDel(args['id'] as string);
      return {};
    },
  },
  'human-monitor-command': {
    params: { 'command-line': { type: 'str' }, 'cpu-index': { type: 'int', optional: true } },
    run: (b, args) => b.hmp(args['command-line'] as string).replace(/\r?\n/g, '\r\n'),
  },
  stop: {
    params: {},
    run: (b) => {
      b.stop();
      return {};
    },
  },
  cont: {
    params: {},
    run: (b) => {
      b.cont();
      return {};
    },
  },
  quit: {
    params: {},
    run: (b) => {
      b.quit();
      return {};
    },
  },
};

/** qmp_capabilities's own checks (monitor/qmp-cmds-control.c qmp_caps_check). */
export function checkCapabilities(args: JsonObject): void {
  const enable = args['enable'];
  for (const k of Object.keys(args)) if (k !== 'enable') throw genericError(`Parameter '${k}' is unexpected`);
  if (enable === undefined) return;
  if (!Array.isArray(enable)) throw genericError("Invalid parameter type for 'enable', expected: array");
  for (const cap of enable) {
    if (cap === 'oob') throw genericError("Capability 'oob' not available");
    throw genericError(`Parameter 'enable' does not accept value '${typeof cap === 'string' ? cap : String(cap)}'`);
  }
}

export { QmpError, isObject };
