import { closest } from '../../base/suggest.js';
import { isObj, regex, type Fail } from './parse-util.js';

/** Oracle counters an assertion can bound (DmaOracle.counts and the violation count). */
export const ORACLE_COUNTERS = ['violations', 'checked', 'ok', 'faults', 'errors', 'staleWindow', 'untranslated'] as const;
export type OracleCounter = (typeof ORACLE_COUNTERS)[number];

export interface Range {
  readonly min: number;
  readonly max: number;
}

export type Assertion =
  /** HMP text (through QMP human-monitor-command) matches / does not match. */
  | { readonly type: 'hmp'; readonly command: string; readonly match?: RegExp; readonly noMatch?: RegExp }
  /** The DMA oracle's counters are within bounds. */
  | { readonly type: 'oracle'; readonly counters: Readonly<Partial<Record<OracleCounter, Range>>> }
  /** A device exists in the machine (or not), and the guest's driver bound to it. */
  | { readonly type: 'device'; readonly device: string; readonly present?: boolean; readonly driver?: string | null }
  /** The machine and guest log (since boot) has / has no matching line. */
  | { readonly type: 'log'; readonly match?: RegExp; readonly noMatch?: RegExp };

const KINDS = ['hmp', 'oracle', 'device', 'log'];
const KEYS: Readonly<Record<string, readonly string[]>> = {
  hmp: ['hmp', 'match', 'no_match'],
  oracle: ['oracle'],
  device: ['device', 'present', 'driver'],
  log: ['log', 'no_log'],
};

function range(v: unknown, field: string, fail: Fail): Range {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return { min: v, max: v };
  if (isObj(v)) {
    for (const k of Object.keys(v)) if (k !== 'min' && k !== 'max') fail(`${field}.${k}`, 'a bound has min and/or max');
    const lo = v['min'] ?? 0;
    const hi = v['max'] ?? Number.MAX_SAFE_INTEGER;
    if (typeof lo !== 'number' || typeof hi !== 'number' || lo > hi) fail(field, 'expected {"min": N, "max": M} with N <= M');
    return { min: lo as number, max: hi as number };
  }
  return fail(field, 'expected a count (exact) or {"min": N, "max": M}');
}

/**
 * {"assert": {"hmp": "info pci", "match": REGEX | "no_match": REGEX}},
 * {"assert": {"oracle": {"violations": 0, "checked": {"min": 1}}}},
 * {"assert": {"device": "e1", "present": true, "driver": "edu" | null}},
 * {"assert": {"log": REGEX} | {"no_log": REGEX}}.
 */
export function parseAssertion(v: unknown, fail: Fail): Assertion {
  if (!isObj(v)) return fail('assert', 'expected an object: {"hmp": ...}, {"oracle": {...}}, {"device": ...} or {"log": ...}');
  const kinds = KINDS.filter((k) => k in v || (k === 'log' && 'no_log' in v));
  if (kinds.length !== 1) {
    const near = Object.keys(v).map((k) => closest(k, KINDS)).find(Boolean);
    return fail('assert', `needs exactly one of hmp, oracle, device, log${near && kinds.length === 0 ? `; did you mean '${near}'?` : ''}`);
  }
  const kind = kinds[0]!;
  for (const k of Object.keys(v)) {
    if (KEYS[kind]!.includes(k)) continue;
    const near = closest(k, KEYS[kind]!);
    fail(`assert.${k}`, `unexpected member in a ${kind} assertion${near ? `; did you mean '${near}'?` : ''} (it takes ${KEYS[kind]!.join(', ')})`);
  }
  if (kind === 'hmp') {
    if (typeof v['hmp'] !== 'string' || v['hmp'].trim() === '') return fail('assert.hmp', 'expected a monitor command such as "info pci"');
    if (v['match'] === undefined && v['no_match'] === undefined) return fail('assert', 'an hmp assertion needs match and/or no_match');
    return {
      type: 'hmp', command: v['hmp'],
      ...(v['match'] !== undefined ? { match: regex(v['match'], 'assert.match', fail) } : {}),
      ...(v['no_match'] !== undefined ? { noMatch: regex(v['no_match'], 'assert.no_match', fail) } : {}),
    };
  }
  if (kind === 'oracle') {
    const o = v['oracle'];
    if (!isObj(o) || Object.keys(o).length === 0) return fail('assert.oracle', `expected counters to check, e.g. {"violations": 0} (${ORACLE_COUNTERS.join(', ')})`);
    const counters: Partial<Record<OracleCounter, Range>> = {};
    for (const [k, x] of Object.entries(o)) {
      if (!(ORACLE_COUNTERS as readonly string[]).includes(k)) {
        const near = closest(k, ORACLE_COUNTERS);
        return fail(`assert.oracle.${k}`, `unknown oracle counter${near ? `; did you mean '${near}'?` : ''} (valid: ${ORACLE_COUNTERS.join(', ')})`);
      }
      counters[k as OracleCounter] = range(x, `assert.oracle.${k}`, fail);
    }
    return { type: 'oracle', counters };
  }
  if (kind === 'device') {
    if (typeof v['device'] !== 'string') return fail('assert.device', 'expected a device id such as "e1"');
    if (v['present'] === undefined && v['driver'] === undefined) return fail('assert', 'a device assertion needs present and/or driver');
    if (v['present'] !== undefined && typeof v['present'] !== 'boolean') return fail('assert.present', 'expected true or false');
    if (v['driver'] !== undefined && v['driver'] !== null && typeof v['driver'] !== 'string') return fail('assert.driver', 'expected a driver name or null (no driver)');
    return {
      type: 'device', device: v['device'],
      ...(v['present'] !== undefined ? { present: v['present'] as boolean } : {}),
      ...(v['driver'] !== undefined ? { driver: v['driver'] as string | null } : {}),
    };
  }
  return {
    type: 'log',
    ...(v['log'] !== undefined ? { match: regex(v['log'], 'assert.log', fail) } : {}),
    ...(v['no_log'] !== undefined ? { noMatch: regex(v['no_log'], 'assert.no_log', fail) } : {}),
  };
}
