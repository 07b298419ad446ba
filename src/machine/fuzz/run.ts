import { ConfigError } from '../../base/config-error.js';
import { fuzzTarget, runInput, type FoundFailure, type TargetStats } from './engine.js';
import { loadReproducer, saveReproducer, toReproducer } from './repro.js';
import { FUZZ_TARGETS } from './targets/index.js';
import type { FuzzTarget, RunOutcome } from './types.js';

/** Options of `viommu fuzz` as a library call: targets, budgets, seed, where reproducers go. */
export interface FuzzRunOptions {
  /** A target name or 'all'. */
  readonly target: string;
  readonly seed: number;
  readonly seconds?: number;
  readonly maxInputs?: number;
  /** Where reproducers of new failures are written (none: not written). */
  readonly outDir?: string;
  readonly onProgress?: (s: Readonly<TargetStats>, index: number, count: number) => void;
  readonly onFailure?: (f: FoundFailure, path: string | undefined) => void;
}

/** The target names `--target` takes. */
export function fuzzTargetNames(): string[] {
  return Object.keys(FUZZ_TARGETS);
}

/** Makes a target by name; ConfigError with a suggestion when there is none. */
export function makeFuzzTarget(name: string): FuzzTarget {
  const make = FUZZ_TARGETS[name];
  if (!make) throw ConfigError.unknown('target', 'fuzz target', name, [...fuzzTargetNames(), 'all']);
  return make();
}

/**
 * Fuzzes one target or all of them, one after another, each with the same
 * seed and budget; saves a reproducer for each new failure.
 */
export async function runFuzz(o: FuzzRunOptions): Promise<TargetStats[]> {
  const names = o.target === 'all' ? fuzzTargetNames() : [o.target];
  const targets = names.map(makeFuzzTarget);
  const out: TargetStats[] = [];
  let saved = 0;
  for (const [i, t] of targets.entries()) {
    try {
      out.push(await fuzzTarget(t, {
        seed: o.seed,
        ...(o.seconds !== undefined ? { seconds: o.seconds } : {}),
        ...(o.maxInputs !== undefined ? { maxInputs: o.maxInputs } : {}),
        onProgress: (s) => o.onProgress?.(s, i, targets.length),
        onFailure: (f) => o.onFailure?.(f, o.outDir ? saveReproducer(o.outDir, toReproducer(f), saved++) : undefined),
      }));
    } finally {
      await t.close?.();
    }
  }
  return out;
}

/** Reruns a reproducer file: its outcome now (no failure once the bug is fixed). */
export async function replayReproducer(path: string): Promise<{ target: string; outcome: RunOutcome; expected: string }> {
  const r = loadReproducer(path);
  const t = makeFuzzTarget(r.target);
  try {
    const outcome = await runInput(t, r.input);
    return { target: r.target, outcome, expected: `${r.failure.kind}: ${r.failure.message}` };
  } finally {
    await t.close?.();
  }
}
