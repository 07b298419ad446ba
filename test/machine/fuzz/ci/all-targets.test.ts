import { readFileSync, readdirSync } from 'node:fs';
import t from 'tap';
import { fuzzTargetNames } from '../../../../src/machine/fuzz/run.js';
import { repoPath } from '../../../helpers/paths.js';

t.test('the CI fuzz files cover every target', async (t) => {
  const dir = repoPath('test', 'machine', 'fuzz', 'ci');
  const text = readdirSync(dir).filter((f) => /^fuzz-.*\.test\.ts$/.test(f)).map((f) => readFileSync(`${dir}/${f}`, 'utf8')).join('\n');
  for (const name of fuzzTargetNames()) t.match(text, new RegExp(`'${name}'`), `${name} is fuzzed in CI`);
});
