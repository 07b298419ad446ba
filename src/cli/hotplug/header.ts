import { closest } from '../../base/suggest.js';
import { ConfigError } from '../../base/config-error.js';
import { DMA_MODES, type BootOptions, type DmaMode } from '../../guest/boot.js';
import { REGRESSION_SWITCHES } from '../../guest/iommu-core/core.js';
import { parseCmdline } from '../../machine/cmdline.js';
import { configFromJson, type MachineConfig } from '../../machine/config.js';
import { parseDuration } from './duration.js';
import { isObj, type Fail } from './parse-util.js';

/** The script's first line: which machine to build and how the guest boots. */
export interface ScriptHeader {
  readonly line: number;
  readonly machine?: MachineConfig;
  /** How the machine was given, for the report ("-M q35 ..." or "config object"). */
  readonly machineText?: string;
  readonly boot: HeaderBoot;
  readonly seed?: number;
}

/** The guest boot options a script can set. */
export type HeaderBoot = Pick<BootOptions, 'dmaMode' | 'firmware' | 'regress' | 'eduDmaBits' | 'pciehp' | 'spaprHotplug'>;

const HEADER_KEYS = ['machine', 'boot', 'seed'];
const BOOT_KEYS = ['dmaMode', 'firmware', 'regress', 'eduDmaBits', 'unplugAck', 'pciehpPoll'];

/** Splits a QEMU command line written as one string (quotes group words). */
export function splitArgs(s: string): string[] {
  const out: string[] = [];
  for (const m of s.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

/** A machine config from a QEMU argument string or a JSON config object; `fail` names the field. */
export function machineFrom(v: unknown, field: string, fail: Fail): { config: MachineConfig; text: string } {
  try {
    if (typeof v === 'string') {
      const args = splitArgs(v);
      return { config: parseCmdline(args).config, text: args.join(' ') };
    }
    if (isObj(v)) return { config: configFromJson(v), text: JSON.stringify(v) };
  } catch (e) {
    if (e instanceof ConfigError) return fail(e.field && typeof v !== 'string' ? `${field}.${e.field}` : field, e.messageWithHint);
    throw e;
  }
  return fail(field, 'expected QEMU options as one string ("-M q35 -device ...") or a JSON machine config object');
}

function parseBoot(v: unknown, fail: Fail): HeaderBoot {
  if (!isObj(v)) return fail('boot', 'expected an object such as {"dmaMode": "strict"}');
  const out: { -readonly [K in keyof HeaderBoot]: HeaderBoot[K] } = {};
  const pciehp: { unplugAck?: 'script' | 'linux'; pollNs?: number } = {};
  for (const [k, x] of Object.entries(v)) {
    const f = `boot.${k}`;
    const oneOf = (valid: readonly string[]): string => {
      if (typeof x !== 'string' || !valid.includes(x)) {
        const near = typeof x === 'string' ? closest(x, valid) : undefined;
        return fail(f, `${JSON.stringify(x)} is not one of ${valid.join(', ')}${near ? `; did you mean '${near}'?` : ''}`);
      }
      return x;
    };
    if (k === 'dmaMode') out.dmaMode = oneOf(DMA_MODES) as DmaMode;
    else if (k === 'firmware') out.firmware = oneOf(['dt', 'acpi']) as 'dt' | 'acpi';
    else if (k === 'unplugAck') {
      // One acknowledgement policy for both hot-plug drivers: pciehp on q35/virt, DRC DLPAR on pseries.
      pciehp.unplugAck = oneOf(['script', 'linux']) as 'script' | 'linux';
      out.spaprHotplug = { unplugAck: pciehp.unplugAck };
    }
    else if (k === 'regress') {
      if (!Array.isArray(x)) return fail(f, `expected a list of switches (${REGRESSION_SWITCHES.join(', ')})`);
      out.regress = x.map((r, i) => {
        if (typeof r !== 'string' || !(REGRESSION_SWITCHES as readonly string[]).includes(r)) return fail(`${f}[${i}]`, `unknown regression switch ${JSON.stringify(r)} (valid: ${REGRESSION_SWITCHES.join(', ')})`);
        return r;
      });
    } else if (k === 'eduDmaBits') {
      if (typeof x !== 'number' || !Number.isInteger(x) || x < 12 || x > 64) return fail(f, 'expected a number of bits from 12 to 64');
      out.eduDmaBits = x;
    } else if (k === 'pciehpPoll') {
      const d = parseDuration(x);
      if (typeof d === 'string') return fail(f, d);
      if (d <= 0) return fail(f, 'must be longer than 0');
      pciehp.pollNs = d;
    } else {
      const near = closest(k, BOOT_KEYS);
      return fail(f, `unknown boot option${near ? `; did you mean '${near}'?` : ''} (valid: ${BOOT_KEYS.join(', ')})`);
    }
  }
  if (Object.keys(pciehp).length) out.pciehp = pciehp;
  return out;
}

/** Parses the header object of line `line`. */
export function parseHeader(o: Record<string, unknown>, line: number, fail: Fail): ScriptHeader {
  for (const k of Object.keys(o)) {
    if (HEADER_KEYS.includes(k)) continue;
    const near = closest(k, HEADER_KEYS);
    fail(k, `unexpected member in the header${near ? `; did you mean '${near}'?` : ''} (a header has ${HEADER_KEYS.join(', ')})`);
  }
  let seed: number | undefined;
  if (o['seed'] !== undefined) {
    const s = o['seed'];
    if (typeof s !== 'number' || !Number.isInteger(s) || s < 0 || s > 0xffffffff) fail('seed', 'expected an integer from 0 to 4294967295');
    seed = s as number;
  }
  const m = o['machine'] === undefined ? undefined : machineFrom(o['machine'], 'machine', fail);
  return {
    line,
    ...(m ? { machine: m.config, machineText: m.text } : {}),
    boot: o['boot'] === undefined ? {} : parseBoot(o['boot'], fail),
    ...(seed !== undefined ? { seed } : {}),
  };
}
