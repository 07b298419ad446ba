import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runViommu } from '../../../src/cli/main.js';
import { fuzzTarget, failureSignature } from '../../../src/machine/fuzz/engine.js';
import { minimise } from '../../../src/machine/fuzz/minimise.js';
import { loadReproducer, saveReproducer, toReproducer } from '../../../src/machine/fuzz/repro.js';
import { machineTarget } from '../../../src/machine/fuzz/targets/machine-target.js';
import type { FuzzTarget, Op } from '../../../src/machine/fuzz/types.js';
import { MEMTX_OK } from '../../../src/memory/attrs.js';
import { repoPath } from '../../helpers/paths.js';

/** A pure target with a planted bug: an input holding both a 'b' op with x = 7 and an 'a' op throws. */
function plantedTarget(): FuzzTarget {
  const variant = { name: 'none', args: [] };
  return {
    name: 'planted',
    summary: 'a target with a planted bug',
    variants: [variant],
    maxOps: 40,
    generate: (rng) => Array.from({ length: 10 }, () => ({ k: rng.pick(['a', 'b', 'c']), x: rng.below(10) })),
    randomOp: (rng) => ({ k: rng.pick(['a', 'b', 'c']), x: rng.below(10) }),
    mutateOp: (rng, op) => ({ ...op, x: rng.below(10) }),
    run: (input) => {
      const features = new Set(input.ops.map((o) => `${o.k}${String(o['x'])}`));
      if (input.ops.some((o) => o.k === 'b' && o['x'] === 7) && input.ops.some((o) => o.k === 'a')) throw new TypeError('planted');
      return { features };
    },
  };
}

t.test('the engine finds a planted bug, reports it once, and minimises it to the two ops that matter', async (t) => {
  const found: string[] = [];
  const stats = await fuzzTarget(plantedTarget(), { seed: 5, maxInputs: 200, onFailure: (f) => found.push(failureSignature(f.failure)) });
  t.equal(stats.inputs, 200);
  t.equal(stats.failures.length, 1, 'one failure signature');
  t.equal(found.length, 1);
  const f = stats.failures[0]!;
  t.equal(f.failure.kind, 'exception');
  t.match(f.failure.message, /TypeError: planted/);
  t.equal(f.input.ops.length, 2, `minimised from ${f.originalOps} ops`);
  t.ok(f.input.ops.some((o) => o.k === 'b' && o['x'] === 7) && f.input.ops.some((o) => o.k === 'a'));
  const again = await fuzzTarget(plantedTarget(), { seed: 5, maxInputs: 200 });
  t.same(again.failures.map((x) => x.input), stats.failures.map((x) => x.input), 'the same seed finds the same thing');
  t.equal(again.features, stats.features);
});

t.test('minimise keeps the failure and drops the rest', async (t) => {
  const ops: Op[] = Array.from({ length: 37 }, (_, i) => ({ k: i === 20 || i === 3 ? 'bad' : 'ok' }));
  const small = await minimise({ variant: { name: 'v', args: [] }, ops }, async (i) => i.ops.filter((o) => o.k === 'bad').length === 2);
  t.same(small.ops, [{ k: 'bad' }, { k: 'bad' }]);
});

t.test('reproducer files: written, read back, refused when malformed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fuzz-'));
  const stats = await fuzzTarget(plantedTarget(), { seed: 5, maxInputs: 200 });
  const path = saveReproducer(dir, toReproducer(stats.failures[0]!), 0);
  t.same(readdirSync(dir), ['planted-exception-5-0.json']);
  const r = loadReproducer(path);
  t.same(r.input, stats.failures[0]!.input);
  t.throws(() => loadReproducer(repoPath('package.json')), /not a viommu-fuzz-reproducer\/1 file/);
});

t.test('the machine harness oracles: an exception, the virtual-time bound, RAM bounds', async (t) => {
  const target = machineTarget({
    name: 'oracles',
    summary: 'planted oracle violations',
    variants: [{ name: 'q35', args: ['-M', 'q35', '-device', 'edu'] }],
    randomOp: () => undefined,
    setup: () => undefined,
    exec: (ctx, _s, op) => {
      if (op.k === 'throw') throw new RangeError('boom');
      if (op.k === 'sleep') ctx.machine.clock.advanceTo(ctx.machine.clock.now + 3600e9);
      if (op.k === 'wild-dma') {
        const edu = ctx.machine.pciDevices().find((d) => d.typeName === 'edu')!;
        edu.busMaster.as.observer!(0x1000, 4, false, MEMTX_OK, ctx.machine.systemAs, 2 ** 60);
      }
      return op.k !== 'w';
    },
  });
  const run = async (k: string) => (await target.run({ variant: target.variants[0]!, ops: [{ k: 'wait', ns: 5 }, { k }] })).failure;
  t.match(await run('throw'), { kind: 'exception', op: 1, message: /op 1 \(throw\): RangeError: boom/ });
  t.match(await run('sleep'), { kind: 'virtual-time', op: 1 });
  t.match(await run('wild-dma'), { kind: 'ram-bounds', message: /outside system memory/ });
  t.equal(await run('nothing'), undefined, 'an input that does nothing passes every oracle, the canary reboot included');
});

t.test('viommu fuzz: --replay reruns a reproducer; bad arguments are usage errors', async (t) => {
  const out: string[] = [];
  const err: string[] = [];
  const io = { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => err.push(s) } };
  const file = repoPath('test', 'machine', 'fuzz', 'repro', 'smmuv3-cmdq-gerror-reentry.json');
  t.equal(await runViommu(['fuzz', '--replay', file], io), 0);
  t.match(out.join(''), /^ok smmuv3: no failure \(was: exception: .*Maximum call stack/);
  t.equal(await runViommu(['fuzz', '--target', 'mmmio'], io), 2);
  t.match(err.join(''), /unknown fuzz target 'mmmio'; did you mean 'mmio'\?/);
  out.length = 0;
  t.equal(await runViommu(['fuzz', '--target', 'qtest', '--inputs', '3', '--seed', '9', '--json'], io), 0);
  const j = JSON.parse(out.join('')) as { target: string; inputs: number; seed: number; failures: unknown[] }[];
  t.match(j, [{ target: 'qtest', inputs: 3, seed: 9, failures: [] }]);
});
