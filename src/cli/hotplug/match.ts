import { toQmpJson, type JsonValue } from '../../machine/qmp/json.js';

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function numEq(a: number | bigint, b: number | bigint): boolean {
  if (typeof a === typeof b) return a === b;
  const n = typeof a === 'number' ? a : b as number;
  const big = typeof a === 'bigint' ? a : b as bigint;
  return Number.isSafeInteger(n) ? BigInt(n) === big : Number(big) === n;
}

/**
 * Where `actual` fails to match `expected`, or undefined when it matches.
 * Objects match as subsets (every expected member must be present and
 * match; others are ignored), arrays element by element with equal length,
 * everything else by value. The result names the path: "data.device".
 */
export function mismatch(expected: unknown, actual: unknown, path = ''): string | undefined {
  const at = path || 'the value';
  if (isObj(expected)) {
    if (!isObj(actual)) return `${at} is ${show(actual)}, expected an object`;
    for (const [k, v] of Object.entries(expected)) {
      const p = path ? `${path}.${k}` : k;
      if (!(k in actual)) return `${p} is missing`;
      const m = mismatch(v, actual[k], p);
      if (m) return m;
    }
    return undefined;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${at} is ${show(actual)}, expected an array`;
    if (actual.length !== expected.length) return `${at} has ${actual.length} elements, expected ${expected.length}`;
    for (let i = 0; i < expected.length; i++) {
      const m = mismatch(expected[i], actual[i], `${path}[${i}]`);
      if (m) return m;
    }
    return undefined;
  }
  if ((typeof expected === 'number' || typeof expected === 'bigint') && (typeof actual === 'number' || typeof actual === 'bigint')) {
    return numEq(expected, actual) ? undefined : `${at} is ${show(actual)}, expected ${show(expected)}`;
  }
  return expected === actual ? undefined : `${at} is ${show(actual)}, expected ${show(expected)}`;
}

/** A value as QMP prints it. */
export function show(v: unknown): string {
  return v === undefined ? 'absent' : toQmpJson(v as JsonValue);
}
