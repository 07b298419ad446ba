import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { CommandSpec, FlagSpec } from '../../src/cli/args.js';
import { COMMANDS, runViommu } from '../../src/cli/main.js';
import { runSystem } from '../../src/cli/system-main.js';
import { SYSTEM_OPTION_HELP } from '../../src/cli/system-usage.js';
import { CMDLINE_OPTIONS_NO_ARG, CMDLINE_OPTIONS_WITH_ARG } from '../../src/machine/cmdline.js';

async function run(args: string[], entry: typeof runViommu = runViommu) {
  let out = '';
  let err = '';
  const code = await entry(args, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

/** The flags a help text lists under "options:", with the rest of their line. */
function listedFlags(help: string): Map<string, string> {
  const m = new Map<string, string>();
  const section = help.split('\noptions:\n')[1]?.split('\n\n')[0] ?? '';
  for (const line of section.split('\n')) {
    const f = /^ {2}--([a-z0-9-]+)(.*)$/.exec(line);
    if (f) m.set(f[1]!, f[2]!);
  }
  return m;
}

/** A value the parser accepts for a flag (to check that a listed flag is really parsed). */
function sampleValue(f: FlagSpec): string[] {
  if (f.type === 'bool') return [];
  if (f.default !== undefined) return [String(f.default)];
  if (f.choices) return [f.choices[0]!];
  return f.type === 'string' ? ['x'] : ['1'];
}

t.test('viommu --help lists every command, and every command has specs', async (t) => {
  const h = await run(['--help']);
  t.equal(h.code, 0);
  t.match(h.out, /^usage: viommu <command> \[options\]/);
  for (const [name, cmd] of Object.entries(COMMANDS)) {
    t.match(h.out, new RegExp(`\\n  ${name} +${cmd.summary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`), `${name} is listed with its summary`);
    t.ok(cmd.specs !== undefined && cmd.specs.length > 0, `${name} declares the flag specs it parses with (Command.specs)`);
    const h1 = await run([name, '--help']);
    t.equal(h1.code, 0, `viommu ${name} --help exits 0`);
    t.match(h1.out, new RegExp(`^usage: viommu ${name} `), `viommu ${name} --help starts with its usage line`);
  }
});

const specs: CommandSpec[] = Object.values(COMMANDS).flatMap((c) => [...(c.specs ?? [])]);
for (const spec of specs) {
  t.test(`viommu ${spec.name} --help lists exactly the parser's flags, each with help and default`, async (t) => {
    const h = await run([...spec.name.split(' '), '--help']);
    t.equal(h.code, 0, h.err);
    t.match(h.out, new RegExp(`^usage: viommu ${spec.name} \\[options\\]`), 'same usage line layout as every command');
    t.match(h.out, /\n {2}-h, --help +show this help\n/);
    const listed = listedFlags(h.out);
    t.same([...listed.keys()].sort(), Object.keys(spec.flags).sort(), 'listed flags = parser flags');
    for (const [name, f] of Object.entries(spec.flags)) {
      const line = listed.get(name) ?? '';
      t.ok(f.help.length > 0 && line.includes(f.help), `--${name} has its help text`);
      if (f.type !== 'bool') t.match(line, /^ \S+ {2,}/, `--${name} names its value`);
      const dflt = f.defaultText ?? (f.default !== undefined && f.type !== 'bool' ? String(f.default) : undefined);
      if (dflt !== undefined) t.ok(line.includes(`(default: ${dflt})`), `--${name} shows its default ${dflt}`);
      // The command's parser accepts the flag it lists (with --help it stops before running).
      const r = await run([...spec.name.split(' '), `--${name}`, ...sampleValue(f), '--help']);
      t.equal(r.code, 0, `viommu ${spec.name} accepts --${name}: ${r.err}`);
    }
  });
}

t.test('unknown commands, flags and values suggest the closest match', async (t) => {
  const script = join(mkdtempSync(join(tmpdir(), 'viommu-help-')), 'wait.jsonl');
  writeFileSync(script, '{"wait": "1ms"}\n');
  const cases: [string[], RegExp][] = [
    [['bot'], /unknown command 'bot'\nviommu: did you mean 'boot'\?/],
    [['boot', '--jsn'], /did you mean '--json'\?/],
    [['boot', '--dma-mode', 'strct'], /did you mean 'strict'\?/],
    [['boot', '--', '-M', 'q53'], /unsupported machine type\nUse -machine help to list supported machines\nviommu: did you mean 'q35'\?/],
    [['boot', '--', '-M', 'q35', '-device', 'eud'], /'eud' is not a valid device model name\nviommu: did you mean 'edu'\?/],
    [['boot', '--', '-M', 'q35', '-device', 'edu,dma_mak=1'], /Property 'edu.dma_mak' not found\nviommu: did you mean 'dma_mask'\?/],
    [['boot', '--', '-M', 'virt,iomu=smmuv3'], /did you mean 'iommu'\?/],
    [['boot', '--', '-devcie', 'edu'], /-devcie: invalid option\nviommu: did you mean '-device'\?/],
    [['boot', '--workload', 'edu-dam'], /did you mean 'edu-dma'\?/],
    [['bench', 'iotbl'], /did you mean 'iotlb'\?/],
    [['bench', 'iotlb', '--opps', '1'], /did you mean '--ops'\?/],
    [['bench', 'iotlb', '--iommu', 'smmu3', '--ops', '1'], /did you mean 'smmuv3'\?/],
    [['firmware', '--ot', 'x'], /did you mean '--out'\?/],
    [['hotplug', script, '--machine', '-M q35 -device eud'], /did you mean 'edu'\?/],
  ];
  for (const [args, re] of cases) {
    const r = await run(args);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.err, re, args.join(' '));
  }
});

t.test('viommu-system -help lists every option the QEMU command line parser accepts, QEMU-style', async (t) => {
  const h = await run(['-help'], runSystem);
  t.equal(h.code, 0);
  t.match(h.out, /^viommu-system .*QEMU emulator version 7\.2\nusage: viommu-system \[options\]\n\nStandard options:\n-h or -help {5}display this help and exit\n/);
  const documented = SYSTEM_OPTION_HELP.flatMap((s) => s.options.flatMap((o) => [...o.names]));
  t.same(documented.slice().sort(), [...CMDLINE_OPTIONS_WITH_ARG, ...CMDLINE_OPTIONS_NO_ARG].sort(), 'documented options = parsed options');
  for (const s of SYSTEM_OPTION_HELP) {
    for (const o of s.options) for (const syn of o.syntax) t.ok(h.out.includes(`\n${syn}`), `${syn} at column 0`);
  }
});

t.test('viommu-system errors suggest the closest option, machine and driver', async (t) => {
  const cases: [string[], string][] = [
    [['-devcie', 'edu'], "viommu-system: -devcie: invalid option\nviommu-system: did you mean '-device'?\n"],
    [['-M', 'pserie'], "viommu-system: unsupported machine type\nUse -machine help to list supported machines\nviommu-system: did you mean 'pseries'?\n"],
    [['-M', 'q35', '-device', 'virtio-iommu'], "viommu-system: -device virtio-iommu: 'virtio-iommu' is not a valid device model name\nviommu-system: did you mean 'virtio-iommu-pci'?\n"],
    [['-device', 'intel-iomu,help'], "viommu-system: 'intel-iomu' is not a valid device model name\nviommu-system: did you mean 'intel-iommu'?\n"],
  ];
  for (const [args, err] of cases) {
    const r = await run(args, runSystem);
    t.same([r.code, r.err], [1, err], args.join(' '));
  }
});
