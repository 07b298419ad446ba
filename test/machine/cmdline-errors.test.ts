import { readFileSync } from 'node:fs';
import t from 'tap';
import { ConfigError } from '../../src/base/config-error.js';
import { parseCmdline } from '../../src/machine/cmdline.js';
import { Machine } from '../../src/machine/machine.js';
import { repoPath } from '../helpers/paths.js';

// data/cmdline-errors.txt holds what Debian's QEMU 7.2 prints (program name
// stripped) for each command line, or "= accepted". viommu must refuse the
// same lines with the same text and accept the others.
const text = readFileSync(repoPath('test', 'machine', 'data', 'cmdline-errors.txt'), 'utf8');
const cases: { args: string; expect: string }[] = [];
for (const block of text.split('\n$ ').slice(1)) {
  const [args, ...msg] = block.replace(/\n$/, '').split('\n');
  cases.push({ args: args!, expect: msg.join('\n') });
}

function outcome(args: string): string {
  try {
    Machine.create(parseCmdline([...args.split(' '), '-nodefaults', '-display', 'none', '-S']).config);
    return '= accepted';
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
}

t.ok(cases.length > 40, 'the recorded cases were read');
for (const c of cases) {
  t.test(c.args, async (t) => {
    t.equal(outcome(c.args), c.expect);
  });
}
