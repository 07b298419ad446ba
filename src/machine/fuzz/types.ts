import type { FuzzRng } from './rng.js';

/**
 * The vocabulary of `viommu fuzz`: an input is a machine variant plus a
 * list of operations (plain JSON objects, so that a reproducer file holds
 * them as they ran); a target knows how to make, mutate and run them; a
 * run yields the features it reached (coverage feedback) and, when an
 * oracle objected, a failure.
 */
export type OpValue = string | number | boolean | null | readonly OpValue[] | { readonly [k: string]: OpValue };

/** One operation: `k` names its kind, the other fields are its arguments (64-bit values as "0x..." strings). */
export interface Op {
  readonly k: string;
  readonly [field: string]: OpValue;
}

/** A machine a target runs on: a name and the QEMU-style arguments that build it. */
export interface Variant {
  readonly name: string;
  readonly args: readonly string[];
}

/** One fuzz input: the target and its sequence of operations. */
export interface FuzzInput {
  readonly variant: Variant;
  readonly ops: readonly Op[];
}

/**
 * What an oracle saw (RELIABILITY.md "Oracles"):
 * - exception: something threw out of a device model, a server or a parser;
 * - slow: the run did not end within the wall-time bound;
 * - virtual-time: the virtual clock ran past what the input asked for;
 * - ram-bounds: a DMA completed outside system memory (past 2^53, in a hole);
 * - dma-oracle: the DMA oracle's invariants (stale translation, spurious fault, isolation);
 * - canary: after a system reset the guest's canary workload (edu DMA, vhost traffic) fails;
 * - server-down: a QMP or qtest server stopped answering a well-behaved client;
 * - resource: an allocation the guest controls grew past its documented cap;
 * - internal: a JavaScript error surfaced to a client as if it were an answer.
 */
export type FailureKind = 'exception' | 'slow' | 'virtual-time' | 'ram-bounds' | 'dma-oracle' | 'canary'
  | 'server-down' | 'resource' | 'internal';

/** A failure an oracle reported for an input (its kind and message). */
export interface Failure {
  readonly kind: FailureKind;
  readonly message: string;
  /** Index of the op during which it was seen, when known. */
  readonly op?: number;
}

export interface RunOutcome {
  /** What the run reached: result codes, statuses, fault reasons, normalised log lines, state hashes. */
  readonly features: ReadonlySet<string>;
  readonly failure?: Failure;
}

/**
 * A guest-facing surface to fuzz. `randomOp` and `mutateOp` may use what the
 * target learnt about a variant's layout (register offsets, BAR addresses,
 * LIOBNs) so that mutations stay near known registers and valid values.
 */
export interface FuzzTarget {
  readonly name: string;
  readonly summary: string;
  readonly variants: readonly Variant[];
  /** Largest input the engine builds (ops). */
  readonly maxOps: number;
  /** A fresh input for a variant. */
  generate(rng: FuzzRng, variant: Variant): Op[];
  /** One new op for a variant. */
  randomOp(rng: FuzzRng, variant: Variant): Op;
  /** A changed copy of one op (field-level mutation). */
  mutateOp(rng: FuzzRng, op: Op, variant: Variant): Op;
  /** Runs an input on a fresh machine with the target's oracles. */
  run(input: FuzzInput): RunOutcome | Promise<RunOutcome>;
  /** Releases what the target keeps between runs (servers, worker pools). */
  close?(): Promise<void>;
}

/** The features every run has, whatever it did, so that an empty run is not "new coverage". */
export const NO_FEATURES: ReadonlySet<string> = new Set();
