import { spawnSync } from 'node:child_process';
import t from 'tap';
import { repoPath } from '../helpers/paths.js';
import { loadTranscript } from '../machine/transcript.js';

const BIN = repoPath('dist', 'viommu-system.js');

function system(args: string[], input = '') {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

t.test('the built viommu-system answers QEMU 7.2\'s recorded edu session exactly', async (t) => {
  // The resolution command line, fed a qtest script whose answers came from QEMU.
  const tr = loadTranscript('q35-edu.txt');
  const cmds = tr.lines.filter((l) => l.startsWith('> ')).map((l) => l.slice(2));
  const r = system(['-machine', 'q35', '-nodefaults', '-display', 'none', '-qtest', 'stdio', '-device', 'edu'], cmds.join('\n') + '\n');
  t.equal(r.code, 0, 'exits cleanly when stdin ends');
  t.same(r.out.split('\n').filter(Boolean), tr.lines.filter((l) => l.startsWith('< ')).map((l) => l.slice(2)));
  t.match(r.err, /^\[I 0\.000000\] OPENED\n\[R \+0\.000000\] outl 0xcf8 0x80000800\n/, 'the qtest log goes to stderr, as QEMU\'s does');
});

t.test('config access on virt and pseries through the built binary', async (t) => {
  for (const name of ['virt-ecam.txt', 'pseries-rtas.txt']) {
    const tr = loadTranscript(name);
    const cmds = tr.lines.filter((l) => l.startsWith('> ')).map((l) => l.slice(2));
    const r = system([...tr.args, '-qtest', 'stdio', '-qtest-log', 'none'], cmds.join('\n') + '\n');
    t.equal(r.code, 0);
    t.same(r.out.split('\n').filter(Boolean), tr.lines.filter((l) => l.startsWith('< ')).map((l) => l.slice(2)), name);
  }
});

t.test('command-line errors read like QEMU\'s and exit 1', async (t) => {
  const r = system(['-M', 'q35', '-device', 'edu,addr=zz']);
  t.same([r.code, r.err], [1, "viommu-system: -device edu,addr=zz: Property 'edu.addr' doesn't take value 'zz'\n"]);
  const n = system(['-M', 'q35', '-nosuch']);
  t.same([n.code, n.err], [1, 'viommu-system: -nosuch: invalid option\n']);
  const d = system(['-device', 'help']);
  t.equal(d.code, 0);
  t.match(d.out, /name "edu", bus PCI/);
  const h = system(['-device', 'pcie-root-port,help']);
  t.match(h.out, /chassis=<uint8>/);
  const cpu = system(['-M', 'q35', '-cpu', 'max', '-smp', '2']);
  t.equal(cpu.code, 0);
  t.match(cpu.err, /note: -cpu max: ignored \(viommu has no CPU model\)/);
});
