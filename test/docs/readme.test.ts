import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { repoPath } from '../helpers/paths.js';
import { readmeCommands, runnable } from './readme-commands.js';

// Runs every command of README.md's `sh` blocks (rules in readme-commands.ts)
// from the repository root against the built dist/, and checks its exit
// status and the `#>` lines under it.
const commands = readmeCommands(readFileSync(repoPath('README.md'), 'utf8'));

function run(text: string): { status: number | null; output: string } {
  const r = spawnSync('sh', ['-c', runnable(text)], { cwd: repoPath(), encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

t.test('the README tour has its commands, each with a key line or a reason to skip', async (t) => {
  t.ok(commands.length >= 20, `${commands.length} commands`);
  t.equal(commands[0]!.text.split('#')[0]!.trim(), 'npm ci && npx viommu boot', 'the quick start comes first');
  t.equal(commands[1]!.text.split('#')[0]!.trim(), 'npm ci && npm test');
  const silent = commands.filter((c) => c.expect.length === 0 && !c.skip);
  t.ok(silent.length <= 2, `commands without a #> line (they must print nothing): ${silent.map((c) => c.line).join(', ')}`);
  t.ok(commands.filter((c) => c.skip).length <= 2, 'skips are rare');
});

for (const c of commands) {
  t.test(`README.md:${c.line}: ${c.text.split('\n')[0]}`, { skip: c.skip ? `docs-test: skip ${c.skip}` : false }, async (t) => {
    const r = run(c.text);
    let ok = t.equal(r.status, c.exit, 'exit status');
    for (const e of c.expect) ok = t.ok(r.output.includes(e), `output contains: ${e}`) && ok;
    if (c.expect.length === 0) ok = t.equal(r.output, '', 'no #> line: prints nothing') && ok;
    if (!ok) t.comment(`output (last 2000 characters):\n${r.output.slice(-2000)}`);
  });
}

t.test('the rules: continuations, heredocs, expectations, directives; a broken command fails', async (t) => {
  const md = [
    '```sh',
    'echo one \\',
    '  two',
    '#> one two',
    'cat <<EOF',
    'x # not a comment',
    'EOF',
    '# docs-test: exit 0',
    '#> x # not',
    '```',
    '```',
    'not sh',
    '```',
  ].join('\n');
  const cs = readmeCommands(md);
  t.same(cs.map((c) => [c.line, c.expect, c.exit]), [[2, ['one two'], 0], [5, ['x # not'], 0]]);
  for (const c of cs) {
    const r = run(c.text);
    t.equal(r.status, 0);
    t.ok(c.expect.every((e) => r.output.includes(e)));
  }
  t.equal(runnable('npm ci && npx viommu boot | npx viommu-system -help'), 'node dist/viommu.js boot | node dist/viommu-system.js -help');
  const broken = run(runnable('npx viommu boot -- -M q53'));
  t.not(broken.status, 0, 'a failing command is seen');
  t.notOk(broken.output.includes('RESULT: ok'));
});
