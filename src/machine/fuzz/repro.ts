import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../base/config-error.js';
import type { FoundFailure } from './engine.js';
import type { Failure, FailureKind, FuzzInput, Op } from './types.js';

export const REPRO_FORMAT = 'viommu-fuzz-reproducer/1';

/**
 * A reproducer file: the target, the machine variant and the ops of a
 * minimised failing input, and what the oracle said when it was found.
 * `viommu fuzz --replay FILE` reruns it; test/machine/fuzz/repro/ keeps the
 * ones of fixed bugs as regression tests.
 */
export interface Reproducer {
  readonly format: typeof REPRO_FORMAT;
  readonly target: string;
  readonly seed: number;
  readonly failure: Failure;
  readonly input: FuzzInput;
  /** Free text: what the bug was and where it was fixed. */
  readonly note?: string;
}

export function toReproducer(f: FoundFailure): Reproducer {
  return { format: REPRO_FORMAT, target: f.target, seed: f.seed, failure: f.failure, input: f.input };
}

/** Writes a reproducer as DIR/<target>-<kind>-<n>.json (n: first free number); returns the path. */
export function saveReproducer(dir: string, r: Reproducer, n: number): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${r.target}-${r.failure.kind}-${r.seed}-${n}.json`);
  writeFileSync(path, `${JSON.stringify(r, null, 1)}\n`);
  return path;
}

const KINDS: readonly FailureKind[] = ['exception', 'slow', 'virtual-time', 'ram-bounds', 'dma-oracle', 'canary', 'server-down', 'resource', 'internal'];

/** Reads and checks a reproducer file; ConfigError naming the file when it is not one. */
export function loadReproducer(path: string): Reproducer {
  let j: unknown;
  try {
    j = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ConfigError(path, `cannot read reproducer: ${(e as Error).message}`);
  }
  const bad = (what: string): never => {
    throw new ConfigError(path, `not a ${REPRO_FORMAT} file: ${what}`);
  };
  if (typeof j !== 'object' || j === null) return bad('not an object');
  const r = j as Record<string, unknown>;
  if (r['format'] !== REPRO_FORMAT) bad(`format is ${JSON.stringify(r['format'])}`);
  if (typeof r['target'] !== 'string') bad('no target');
  const input = r['input'] as Record<string, unknown> | undefined;
  const variant = input?.['variant'] as Record<string, unknown> | undefined;
  if (!variant || typeof variant['name'] !== 'string' || !Array.isArray(variant['args'])) bad('no input.variant {name, args}');
  if (!Array.isArray(input!['ops']) || !(input!['ops'] as unknown[]).every((o) => typeof o === 'object' && o !== null && typeof (o as Op).k === 'string')) {
    bad('input.ops is not a list of {k: ...} objects');
  }
  const f = r['failure'] as Record<string, unknown> | undefined;
  const failure: Failure = f && KINDS.includes(f['kind'] as FailureKind) && typeof f['message'] === 'string'
    ? { kind: f['kind'] as FailureKind, message: f['message'] as string }
    : { kind: 'exception', message: '(not recorded)' };
  return {
    format: REPRO_FORMAT,
    target: r['target'] as string,
    seed: typeof r['seed'] === 'number' ? r['seed'] : 0,
    failure,
    input: { variant: { name: variant!['name'] as string, args: (variant!['args'] as unknown[]).map(String) }, ops: input!['ops'] as Op[] },
    ...(typeof r['note'] === 'string' ? { note: r['note'] } : {}),
  };
}
