import { minimise } from './minimise.js';
import { FuzzRng } from './rng.js';
import type { Failure, FuzzInput, FuzzTarget, Op, RunOutcome } from './types.js';

/** Wall-time bound of one input (the "hang / slow" oracle): generous, a 2-core CI machine is slow. */
export const WALL_BOUND_MS = 10_000;

/** Options of one target's fuzz run: seed, input and time budgets. */
export interface FuzzOptions {
  readonly seed: number;
  /** Stop after this many seconds of wall time... */
  readonly seconds?: number;
  /** ...or after this many inputs (tests use a count, so a fixed seed gives the same run). */
  readonly maxInputs?: number;
  /** Minimise failing inputs (default true). */
  readonly minimise?: boolean;
  /** Called after every input (progress bar). */
  readonly onProgress?: (s: Readonly<TargetStats>) => void;
  /** Where a new failure goes (saved as a reproducer by the caller). */
  readonly onFailure?: (f: FoundFailure) => void;
}

/** A failure the fuzzer found, with its minimised input. */
export interface FoundFailure {
  readonly target: string;
  readonly seed: number;
  readonly failure: Failure;
  /** The minimised input that still fails the same way. */
  readonly input: FuzzInput;
  readonly originalOps: number;
}

/** What one target's run did: inputs, corpus, features, failures, time. */
export interface TargetStats {
  readonly target: string;
  readonly seed: number;
  inputs: number;
  /** Wall-clock seconds spent. */
  seconds: number;
  corpus: number;
  features: number;
  failures: FoundFailure[];
}

/** A failure's identity for de-duplication: its kind and message with numbers blanked. */
export function failureSignature(f: Failure): string {
  return `${f.kind}: ${f.message.replace(/0x[0-9a-f]+|\d+/gi, 'N').slice(0, 200)}`;
}

/** Runs one input with the engine's own oracles around the target's: exceptions and the wall-time bound. */
export async function runInput(target: FuzzTarget, input: FuzzInput): Promise<RunOutcome> {
  const t0 = performance.now();
  let out: RunOutcome;
  try {
    out = await target.run(input);
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    const at = err.stack?.split('\n').slice(1, 3).map((l) => l.trim()).join(' ') ?? '';
    return { features: new Set(), failure: { kind: 'exception', message: `${err.name}: ${err.message} ${at}` } };
  }
  const ms = performance.now() - t0;
  if (!out.failure && ms > WALL_BOUND_MS) {
    return { features: out.features, failure: { kind: 'slow', message: `input took ${Math.round(ms)} ms of wall time (bound ${WALL_BOUND_MS} ms)` } };
  }
  return out;
}

/** A mutated copy of an input: insert, delete, change, duplicate, or splice ops. */
export function mutate(rng: FuzzRng, target: FuzzTarget, input: FuzzInput, corpus: readonly FuzzInput[]): FuzzInput {
  const ops: Op[] = [...input.ops];
  const v = input.variant;
  const rounds = 1 + rng.below(4);
  for (let r = 0; r < rounds; r++) {
    const c = rng.below(10);
    const i = rng.below(ops.length);
    if (c < 3 || ops.length === 0) ops.splice(rng.below(ops.length + 1), 0, target.randomOp(rng, v));
    else if (c < 4 && ops.length > 1) ops.splice(i, 1);
    else if (c < 8) ops[i] = target.mutateOp(rng, ops[i]!, v);
    else if (c < 9) ops.splice(i, 0, ops[i]!);
    else {
      const other = corpus.filter((x) => x.variant.name === v.name);
      if (other.length > 0) {
        const o = rng.pick(other).ops;
        const from = rng.below(o.length);
        ops.splice(i, 0, ...o.slice(from, from + 1 + rng.below(8)));
      }
    }
  }
  return { variant: v, ops: ops.slice(0, target.maxOps) };
}

/**
 * Fuzzes one target: a corpus of inputs that reached new features, grown by
 * mutation (and fresh inputs now and then) until the time or input budget is
 * spent. A failure is minimised, reported once per signature, and the run
 * goes on.
 */
export async function fuzzTarget(target: FuzzTarget, o: FuzzOptions): Promise<TargetStats> {
  const rng = new FuzzRng(o.seed || 1);
  const stats: TargetStats = { target: target.name, seed: o.seed, inputs: 0, seconds: 0, corpus: 0, features: 0, failures: [] };
  const seen = new Set<string>();
  const signatures = new Set<string>();
  const corpus: FuzzInput[] = [];
  const t0 = performance.now();
  const done = (): boolean => (o.maxInputs !== undefined && stats.inputs >= o.maxInputs)
    || (o.seconds !== undefined && (performance.now() - t0) / 1000 >= o.seconds)
    || (o.maxInputs === undefined && o.seconds === undefined && stats.inputs >= 100);
  let vi = 0;
  while (!done()) {
    let input: FuzzInput;
    if (corpus.length === 0 || vi < target.variants.length || rng.chance(0.15)) {
      const variant = target.variants[vi < target.variants.length ? vi++ : rng.below(target.variants.length)]!;
      input = { variant, ops: target.generate(rng.fork(), variant).slice(0, target.maxOps) };
    } else {
      input = mutate(rng, target, rng.pick(corpus), corpus);
    }
    const out = await runInput(target, input);
    stats.inputs++;
    let fresh = false;
    for (const f of out.features) {
      if (!seen.has(f)) {
        seen.add(f);
        fresh = true;
      }
    }
    if (fresh && !out.failure) corpus.push(input);
    if (out.failure) {
      const sig = failureSignature(out.failure);
      if (!signatures.has(sig)) {
        signatures.add(sig);
        const small = o.minimise === false ? input : await minimise(input, (c) => sameFailure(target, c, sig));
        const found: FoundFailure = { target: target.name, seed: o.seed, failure: out.failure, input: small, originalOps: input.ops.length };
        stats.failures.push(found);
        o.onFailure?.(found);
      }
    }
    stats.corpus = corpus.length;
    stats.features = seen.size;
    stats.seconds = (performance.now() - t0) / 1000;
    o.onProgress?.(stats);
  }
  return stats;
}

async function sameFailure(target: FuzzTarget, input: FuzzInput, sig: string): Promise<boolean> {
  const out = await runInput(target, input);
  return out.failure !== undefined && failureSignature(out.failure) === sig;
}
