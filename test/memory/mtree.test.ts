import t from 'tap';
import { readFileSync } from 'node:fs';
import { infoMtree, MemorySystem, type MmioOps } from '../../src/memory/index.js';
import { repoPath } from '../helpers/paths.js';

const nullOps: MmioOps = { read: () => 0, write: () => undefined };

function smallTree(): MemorySystem {
  const sys = new MemorySystem();
  sys.transaction(() => {
    const system = sys.container('system', 1n << 64n);
    sys.addressSpace(system, 'memory');
    const pcRam = sys.ram('pc.ram', 0x800_0000);
    system.addSubregion(sys.alias('ram-below-4g', pcRam, 0, 0x800_0000), 0);
    const pci = sys.container('pci', 1n << 64n);
    system.addSubregion(pci, 0, -1);
    pci.addSubregion(sys.mmio('bar', 0x1000, nullOps), 0xfe00_0000);
    system.addSubregion(sys.mmio('dev', 0x1000, nullOps), 0xfed0_0000);
    system.addSubregion(sys.ram('flash', 0x10000, { readonly: true }), 0xfffe_0000, 1);
    const io = sys.mmio('io', 0x10000, nullOps);
    sys.addressSpace(io, 'I/O');
    io.addSubregion(sys.mmio('fw_cfg', 2, nullOps), 0x510);
  });
  return sys;
}

const golden = (name: string) => readFileSync(repoPath('test/memory/golden', name), 'utf8');

t.test('info mtree matches the golden text in QEMU format', async (t) => {
  t.equal(infoMtree(smallTree()), golden('small-tree.mtree.txt'));
});

t.test('info mtree -f matches the golden text in QEMU format', async (t) => {
  t.equal(infoMtree(smallTree(), { flat: true }), golden('small-tree.mtree-f.txt'));
});

t.test('disabled regions only appear with -D, marked', async (t) => {
  const sys = smallTree();
  const system = sys.addressSpaces[0]!.root!;
  const dev = system.subregions.find((r) => r.name === 'dev')!;
  dev.setEnabled(false);
  t.notMatch(infoMtree(sys), /: dev/);
  t.match(infoMtree(sys, { disabled: true }), '    00000000fed00000-00000000fed00fff (prio 0, i/o): dev [disabled]\n');
});

t.test('address spaces sharing a root are listed together, sorted by name', async (t) => {
  const sys = new MemorySystem();
  const root = sys.container('shared', 0x1000);
  sys.addressSpace(root, 'zeta');
  sys.addressSpace(root, 'alpha');
  t.equal(infoMtree(sys), 'address-space: alpha\naddress-space: zeta\n  0000000000000000-0000000000000fff (prio 0, i/o): shared\n\n');
  t.equal(infoMtree(sys, { flat: true }),
    'FlatView #0\n AS "zeta", root: shared\n AS "alpha", root: shared\n Root memory region: (none)\n  No rendered FlatView\n\n');
});
