import t from 'tap';
import { commandHelp, parseArgs, type CommandSpec } from '../../src/cli/args.js';

const spec: CommandSpec = {
  name: 'bench iotlb',
  summary: 'run the standard IOTLB workload',
  flags: {
    pages: { type: 'int', help: 'IOVA pages mapped', arg: 'N', default: 65536 },
    pattern: { type: 'string', help: 'access pattern', choices: ['random', 'seq'], default: 'random' },
    json: { type: 'bool', help: 'print JSON' },
  },
};

t.test('flags in both spellings, defaults, positionals and --', async (t) => {
  const p = parseArgs(spec, ['--pages=0x1000', 'x', '--json', '--pattern', 'seq', '--', '-M', 'q35']);
  t.same(p.flags, { pages: 4096, pattern: 'seq', json: true });
  t.same(p.positional, ['x']);
  t.same(p.rest, ['-M', 'q35']);
  t.same(parseArgs(spec, []).flags, { pages: 65536, pattern: 'random' });
});

t.test('mistakes name the flag and suggest the closest', async (t) => {
  t.throws(() => parseArgs(spec, ['--page', '3']), /unknown option '--page'; did you mean '--pages'\?/);
  t.throws(() => parseArgs(spec, ['--pattern', 'rand']), /'rand' is not one of random, seq; did you mean 'random'\?/);
  t.throws(() => parseArgs(spec, ['--pages', 'lots']), /--pages: 'lots' is not an integer/);
  t.throws(() => parseArgs(spec, ['--pages']), /needs a value \(N\)/);
});

t.test('help lists every flag with its default', async (t) => {
  const h = commandHelp(spec);
  t.match(h, /usage: viommu bench iotlb \[options\]/);
  t.match(h, /--pages N\s+IOVA pages mapped \(default: 65536\)/);
  t.match(h, /--pattern random\|seq/);
  t.match(h, /--json\s+print JSON/);
});
