import { readdirSync } from 'node:fs';
import t from 'tap';
import { replayReproducer } from '../../../src/machine/fuzz/run.js';
import { loadReproducer } from '../../../src/machine/fuzz/repro.js';
import { repoPath } from '../../helpers/paths.js';

// Every bug the fuzzer found and that was fixed keeps its minimised input
// here; replaying it must now pass every oracle.
const dir = repoPath('test', 'machine', 'fuzz', 'repro');
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

t.ok(files.length > 0, 'there are reproducers to replay');
for (const f of files) {
  t.test(`reproducer ${f} no longer fails`, async (t) => {
    const r = loadReproducer(`${dir}/${f}`);
    t.ok(r.note, 'the reproducer says what the bug was and where it was fixed');
    const out = await replayReproducer(`${dir}/${f}`);
    t.equal(out.outcome.failure, undefined, `was: ${out.expected}`);
  });
}
