import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runViommu } from '../../src/cli/main.js';

async function run(args: string[]) {
  let out = '';
  let err = '';
  const code = await runViommu(args, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

t.test('viommu boot builds the default q35 machine with an edu and prints info pci and info mtree', async (t) => {
  const r = await run(['boot']);
  t.equal(r.code, 0);
  t.match(r.out, /\(qemu\) info pci\n {2}Bus {2}0, device {3}0, function 0:\n {4}Host bridge: PCI device 8086:29c0/);
  t.match(r.out, /Class 0255: PCI device 1234:11e8/);
  t.match(r.out, /\(qemu\) info mtree\naddress-space: memory\n {2}0000000000000000-ffffffffffffffff \(prio 0, i\/o\): system/);
  t.match(r.out, /address-space: edu\n {2}0000000000000000-ffffffffffffffff \(prio 0, i\/o\): bus master container/);
});

t.test('viommu boot takes a JSON config or QEMU options after --', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'viommu-boot-'));
  const file = join(dir, 'virt.json');
  writeFileSync(file, JSON.stringify({ machine: 'virt', devices: [{ driver: 'edu', id: 'e0', addr: '04.0' }] }));
  const j = await run(['boot', file]);
  t.equal(j.code, 0);
  t.match(j.out, /Bus {2}0, device {3}4, function 0:\n {4}Class 0255: PCI device 1234:11e8[\s\S]*id "e0"/);
  t.match(j.out, /alias pcie-ecam @pcie-mmcfg-mmio/);
  const q = await run(['boot', '--', '-M', 'pseries', '-device', 'edu']);
  t.equal(q.code, 0);
  t.match(q.out, /machine pseries/);
});

t.test('a bad config is a usage error naming the field', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'viommu-boot-'));
  const file = join(dir, 'bad.json');
  writeFileSync(file, JSON.stringify({ devices: [{ driver: 'edu', addr: 'zz' }] }));
  const r = await run(['boot', file]);
  t.equal(r.code, 2);
  t.equal(r.err, "viommu: devices[0].addr: Property 'edu.addr' doesn't take value 'zz'\n");
  const c = await run(['boot', '--', '-M', 'q35', '-bogus']);
  t.same([c.code, c.err], [2, 'viommu: -bogus: invalid option\n']);
});
