import { ConfigError } from '../../base/config-error.js';
import type { Xorshift32 } from '../../base/prng.js';
import type { GuestKernel } from '../kernel.js';

export type ParamValue = number | string | boolean;

export interface ParamSpec {
  readonly name: string;
  readonly default: ParamValue;
  readonly description: string;
}

export interface WorkloadResult {
  readonly name: string;
  readonly ok: boolean;
  /** DMA operations the workload asked the device for. */
  readonly ops: number;
  readonly bytes: number;
  readonly errors: readonly string[];
  /** Virtual time the workload took, ns. */
  readonly elapsedNs: number;
  readonly details: Readonly<Record<string, number>>;
}

export interface WorkloadContext {
  readonly kernel: GuestKernel;
  readonly prng: Xorshift32;
  readonly params: Readonly<Record<string, ParamValue>>;
}

/** A named guest workload with typed parameters (gem5-style: every knob is an option). */
export interface Workload {
  readonly name: string;
  readonly description: string;
  readonly params: readonly ParamSpec[];
  run(ctx: WorkloadContext): Omit<WorkloadResult, 'name' | 'elapsedNs'>;
}

/** Resolves given parameters against a workload's specs: unknown names and wrong types are ConfigErrors. */
export function resolveParams(w: Workload, given: Readonly<Record<string, ParamValue>>): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const p of w.params) out[p.name] = p.default;
  for (const [k, v] of Object.entries(given)) {
    const spec = w.params.find((p) => p.name === k);
    if (!spec) throw ConfigError.unknown(`workload ${w.name}`, 'parameter', k, w.params.map((p) => p.name));
    let val: ParamValue = v;
    if (typeof spec.default === 'number' && typeof v === 'string') val = Number(v);
    if (typeof spec.default === 'boolean' && typeof v === 'string') val = v === 'true' || v === '1' || v === 'on';
    if (typeof val !== typeof spec.default || (typeof val === 'number' && !Number.isFinite(val))) {
      throw new ConfigError(`workload ${w.name}.${k}`, `'${String(v)}' is not a ${typeof spec.default}`);
    }
    out[k] = val;
  }
  return out;
}

/** Parses "name" or "name:key=value,key=value". */
export function parseWorkloadSpec(spec: string): { name: string; params: Record<string, string> } {
  const [name, rest] = spec.split(':', 2) as [string, string | undefined];
  const params: Record<string, string> = {};
  for (const kv of rest ? rest.split(',') : []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new ConfigError(`workload ${name}`, `'${kv}' is not key=value`);
    params[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return { name, params };
}
