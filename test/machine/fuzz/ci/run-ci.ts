import t from 'tap';
import { fuzzTarget } from '../../../../src/machine/fuzz/engine.js';
import { makeFuzzTarget } from '../../../../src/machine/fuzz/run.js';

// The CI fuzz: every target (split over three test files, so each has its
// own time budget), a fixed seed, a fixed number of inputs (a count, not a
// time, so the run is the same on every machine: about two seconds per
// target on a quiet 2-core box). The long run is
// `npx viommu fuzz --target all --seconds 60` (RELIABILITY.md).
const SEED = 20261122;
const INPUTS = Number(process.env['VIOMMU_FUZZ_CI_INPUTS'] ?? 20);

/** Fuzzes the named targets, one subtest each. */
export function ciFuzz(names: readonly string[]): void {
  for (const name of names) ciFuzzOne(name);
}

function ciFuzzOne(name: string): void {
  t.test(`fuzz ${name}: ${INPUTS} inputs, seed ${SEED}, no oracle objects`, async (t) => {
    const target = makeFuzzTarget(name);
    try {
      const s = await fuzzTarget(target, { seed: SEED, maxInputs: INPUTS });
      t.equal(s.inputs, INPUTS);
      t.ok(s.features > 0, `reached ${s.features} features`);
      t.same(s.failures.map((f) => `${f.failure.kind}: ${f.failure.message} (${JSON.stringify(f.input)})`), []);
    } finally {
      await target.close?.();
    }
  });
}
