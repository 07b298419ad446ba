import { ConfigError } from '../base/config-error.js';
import { parseChardevOption, parseChardevShort, parseOpts, type ChardevSpec } from './chardev.js';
import { parseQemuOpts } from './qemu-opts.js';
import { defaultConfig, type DeviceSpec, type MachineConfig, type QmpMonitorSpec } from './config.js';
import type { RawValue } from './properties.js';

/** What the command line asks for besides a machine. */
export type CmdlineAction =
  | { kind: 'run' }
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'machine-help' }
  | { kind: 'device-help'; driver?: string };

export interface ParsedCmdline {
  readonly config: MachineConfig;
  readonly action: CmdlineAction;
}

/** Options that only concern a CPU or an accelerator: accepted and ignored. */
const CPU_OPTIONS: Readonly<Record<string, string>> = {
  cpu: 'viommu has no CPU model',
  smp: 'viommu has no CPUs',
  accel: 'viommu has no accelerator; it behaves as accel=qtest under -qtest',
};

/** Machine properties that concern the accelerator (QEMU accepts them on -machine). */
const ACCEL_MACHINE_PROPS = ['accel', 'kernel-irqchip', 'kernel_irqchip'];

/** The options parseCmdline accepts that take an argument (without the leading '-'). */
export const CMDLINE_OPTIONS_WITH_ARG: ReadonlySet<string> = new Set(['machine', 'M', 'm', 'device', 'display', 'qtest', 'qtest-log', 'qmp', 'qmp-pretty', 'chardev', 'mon',
  'serial', 'monitor', 'cpu', 'smp', 'accel', 'seed', 'global']);
/** The options parseCmdline accepts that take no argument. */
export const CMDLINE_OPTIONS_NO_ARG: ReadonlySet<string> = new Set(['nodefaults', 'S', 'h', 'help', 'version']);

/**
 * Parses a QEMU-style command line (softmmu/vl.c qemu_init's option loop)
 * into a MachineConfig. Errors carry the option as QEMU names it ("-bogus:
 * invalid option", "-device: requires an argument").
 */
export function parseCmdline(argv: readonly string[]): ParsedCmdline {
  const c = defaultConfig();
  let type: string | undefined;
  const mprops: Record<string, RawValue> = {};
  let memory: string | undefined;
  const devices: DeviceSpec[] = [];
  const notes: string[] = [];
  const chardevs: Record<string, ChardevSpec> = {};
  const qmp: QmpMonitorSpec[] = [];
  const monitors: { id: string; pretty: boolean; origin: string }[] = [];
  let qtest: MachineConfig['qtest'];
  let qtestLog: string | undefined;
  let startPaused = false;
  let nodefaults = false;
  let seed = c.seed;
  const globals: Record<string, RawValue> = {};
  let action: CmdlineAction = { kind: 'run' };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') || arg === '-') {
      throw new ConfigError(arg, 'disk images are not supported (viommu has no block devices)');
    }
    const name = arg.replace(/^--?/, '');
    const opt = `-${name}`;
    if (!CMDLINE_OPTIONS_WITH_ARG.has(name) && !CMDLINE_OPTIONS_NO_ARG.has(name)) {
      throw new ConfigError(opt, 'invalid option', undefined, ConfigError.didYouMean(name, [...CMDLINE_OPTIONS_WITH_ARG, ...CMDLINE_OPTIONS_NO_ARG], '-'));
    }
    let val = '';
    if (CMDLINE_OPTIONS_WITH_ARG.has(name)) {
      if (i + 1 >= argv.length) throw new ConfigError(opt, 'requires an argument');
      val = argv[++i]!;
    }
    const where = `${opt} ${val}`.trimEnd();
    switch (name) {
      case 'h':
      case 'help':
        action = { kind: 'help' };
        break;
      case 'version':
        action = { kind: 'version' };
        break;
      case 'M':
      case 'machine': {
        for (const o of parseQemuOpts(val, 'type')) {
          if (o.name === 'type') {
            if (o.value === 'help' || o.value === '?') action = { kind: 'machine-help' };
            else type = o.value;
          } else if (o.name === 'help') {
            action = { kind: 'machine-help' };
          } else if (ACCEL_MACHINE_PROPS.includes(o.name)) {
            notes.push(`-machine ${o.name}=${o.value}: ignored (${CPU_OPTIONS.accel})`);
          } else {
            if (o.shortForm) notes.push(`${where}: short-form boolean option '${o.name}' deprecated; use ${o.name}=${o.value}`);
            mprops[o.name] = o.value;
          }
        }
        break;
      }
      case 'm': {
        const opts = parseOpts(val);
        for (const [k, v] of opts) {
          if (v === undefined && k === opts[0]![0]) memory = k;
          else if (k === 'size') memory = v ?? '';
          else throw new ConfigError(where, `memory option '${k}' is not supported (viommu has no memory hotplug)`);
        }
        break;
      }
      case 'device': {
        const opts = parseQemuOpts(val, 'driver');
        const driver = opts.find((o) => o.name === 'driver')?.value ?? '';
        if (driver === 'help' || driver === '?') {
          action = { kind: 'device-help' };
          break;
        }
        const props: Record<string, RawValue> = {};
        for (const o of opts) {
          if (o.name === 'driver') continue;
          if (o.name === 'help') action = { kind: 'device-help', driver };
          else {
            if (o.shortForm) notes.push(`${where}: short-form boolean option '${o.name}' deprecated; use ${o.name}=${o.value}`);
            props[o.name] = o.value;
          }
        }
        devices.push({ driver, props, origin: where, json: false });
        break;
      }
      case 'nodefaults':
        nodefaults = true;
        break;
      case 'display':
        if (parseOpts(val)[0]![0] !== 'none') throw new ConfigError(where, 'viommu has no display; use -display none');
        break;
      case 'S':
        startPaused = true;
        break;
      case 'qtest':
        qtest = { chardev: parseChardevShort(where, val) };
        break;
      case 'qtest-log':
        qtestLog = val;
        break;
      case 'qmp':
      case 'qmp-pretty':
        qmp.push({ chardev: parseChardevShort(where, val), pretty: name === 'qmp-pretty', origin: where });
        break;
      case 'chardev': {
        const { id, spec } = parseChardevOption(val);
        if (chardevs[id]) throw new ConfigError(where, `attempt to add duplicate property '${id}' to object (type 'container')`);
        chardevs[id] = spec;
        break;
      }
      case 'mon': {
        const m = new Map(parseOpts(val));
        const id = m.get('chardev');
        if (!id) throw new ConfigError(where, "parameter 'chardev' is missing");
        const mode = m.get('mode') ?? 'readline';
        if (mode !== 'control') throw new ConfigError(where, `monitor mode '${mode}' is not supported (viommu offers QMP only: mode=control)`);
        monitors.push({ id, pretty: m.get('pretty') === 'on', origin: where });
        break;
      }
      case 'serial':
      case 'monitor':
        if (val !== 'none') throw new ConfigError(where, `only '${opt} none' is supported`);
        break;
      case 'cpu':
      case 'smp':
      case 'accel':
        notes.push(`${where}: ignored (${CPU_OPTIONS[name]})`);
        break;
      case 'global': {
        // qemu_global_option: "DRIVER.PROP=VALUE" or "driver=D,property=P,value=V".
        const m = /^([^.=,]+)\.([^=]+)=(.*)$/.exec(val);
        if (m) globals[`${m[1]}.${m[2]}`] = m[3]!;
        else {
          const o = new Map(parseOpts(val));
          const d = o.get('driver');
          const p = o.get('property');
          if (!d || !p || o.get('value') === undefined) throw new ConfigError(where, 'Invalid property, use driver.prop=value or driver=D,property=P,value=V');
          globals[`${d}.${p}`] = o.get('value')!;
        }
        break;
      }
      case 'seed': {
        const n = Number(val);
        if (!/^\d+$/.test(val) || n > 0xffffffff) throw new ConfigError(where, 'expected an integer from 0 to 4294967295');
        seed = n;
        break;
      }
    }
  }
  for (const mon of monitors) {
    const spec = chardevs[mon.id];
    if (!spec) throw new ConfigError(mon.origin, `chardev "${mon.id}" not found`);
    qmp.push({ chardev: spec, pretty: mon.pretty, origin: mon.origin });
  }
  if (qtest && qtestLog !== undefined) qtest = { ...qtest, log: qtestLog };
  const config: MachineConfig = {
    ...c, machine: { type: type ?? 'q35', props: mprops }, memory, devices, seed, startPaused, nodefaults, qtest, qmp, chardevs, notes, globals,
  };
  return { config, action };
}
