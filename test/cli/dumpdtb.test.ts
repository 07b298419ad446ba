import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runViommu } from '../../src/cli/main.js';
import { runSystem } from '../../src/cli/system-main.js';
import { repoPath } from '../helpers/paths.js';
import { compareWithQemu } from '../machine/firmware/helpers/dtb-compare.js';
import { readDtb } from '../machine/firmware/helpers/dtb-reader.js';

async function system(args: string[]) {
  let out = '';
  let err = '';
  const code = await runSystem(args, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

const dir = mkdtempSync(join(tmpdir(), 'viommu-dumpdtb-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const qemuDtb = (name: string) => readDtb(readFileSync(repoPath('test/machine/firmware/data', name)));

// QEMU 7.2: `qemu-system-aarch64 -M virt,dumpdtb=F -nodefaults -display none` prints
// "qemu-system-aarch64: info: dtb dumped to F. Exiting." on stderr, nothing on stdout, exit 0.
for (const [board, recorded] of [['virt', 'virt-qemu.dtb'], ['pseries', 'pseries-qemu.dtb']] as const) {
  t.test(`-machine ${board},dumpdtb=FILE writes the tree QEMU dumps and exits as QEMU does`, async (t) => {
    const file = join(dir, `${board}.dtb`);
    const r = await system(['-M', `${board},dumpdtb=${file}`, '-nodefaults', '-display', 'none', '-qtest', 'stdio']);
    t.same([r.code, r.out, r.err], [0, '', `viommu-system: info: dtb dumped to ${file}. Exiting.\n`], 'before serving qtest');
    compareWithQemu(t, readDtb(readFileSync(file)).root, qemuDtb(recorded).root);
  });
}

t.test('a file that cannot be written: QEMU\'s message and exit 1', async (t) => {
  const file = join(dir, 'no', 'such', 'dir', 'x.dtb');
  const r = await system(['-M', `virt,dumpdtb=${file}`]);
  t.same([r.code, r.err], [1, `viommu-system: qemu_fdt_dumpdtb: Failed dumping dtb to ${file}\n`]);
});

t.test('q35 accepts dumpdtb (a generic machine property in QEMU 7.2) and, having no tree, runs on', async (t) => {
  const file = join(dir, 'q35.dtb');
  const r = await system(['-M', `q35,dumpdtb=${file}`, '-nodefaults', '-display', 'none']);
  t.equal(r.code, 0);
  t.notOk(existsSync(file), 'nothing written');
  t.match(r.err, /note: -machine dumpdtb=.*: q35 has no device tree; ignored, as QEMU does/);
});

t.test('viommu boot -- -M virt,dumpdtb=FILE dumps too, instead of printing info pci', async (t) => {
  const file = join(dir, 'boot.dtb');
  let out = '';
  let err = '';
  const code = await runViommu(['boot', '--', '-M', `virt,dumpdtb=${file}`],
    { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  t.same([code, out, err], [0, '', `viommu: info: dtb dumped to ${file}. Exiting.\n`]);
  compareWithQemu(t, readDtb(readFileSync(file)).root, qemuDtb('virt-qemu.dtb').root);
});
