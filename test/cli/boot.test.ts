import { execFileSync } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runViommu } from '../../src/cli/main.js';
import { repoPath } from '../helpers/paths.js';

async function run(args: string[]) {
  let out = '';
  let err = '';
  const code = await runViommu(args, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

t.test('viommu boot boots the default q35 machine with the synthetic guest, oracle clean', async (t) => {
  const r = await run(['boot']);
  t.equal(r.code, 0, r.out);
  t.match(r.out, /edu 0000:00:01\.0: bound \(DMA ops: iommu-dma\)/);
  t.match(r.out, /IOMMU: dmar0 \(intel-iommu, DRHD:fed90000\)/, 'the default machine has intel-iommu');
  t.match(r.out, /DMA oracle: (\d+) accesses checked .* 0 violations/);
  t.notMatch(r.out, /DMA oracle: 0 accesses checked/, 'the oracle saw the DMA');
  t.match(r.out, /RESULT: ok/);
  const j = await run(['boot', '--json']);
  t.equal(j.code, 0);
  const rep = JSON.parse(j.out);
  for (const k of ['machine', 'iommu', 'devices', 'groups', 'notifiers', 'dma', 'invalidations', 'oracle']) t.ok(k in rep, `report has ${k}`);
  t.ok(rep.oracle.checked > 0);
  t.equal(rep.oracle.violations.length ?? rep.oracle.violations, 0);
});

t.test('the default machine has a vhost virtio-net (dev-iotlb) and an emulated one, both passing traffic', async (t) => {
  const r = await run(['boot']);
  t.equal(r.code, 0, r.out);
  t.match(r.out, /vhost 01:00\.0 virtio-net-pci \(net0\): vtd-00\.0-dmar: DEVIOTLB_UNMAP notifier/, 'the guest enabled ATS: vhost follows DEVIOTLB_UNMAP');
  t.match(r.out, /virtio_net 0000:01:00\.0: bound \(DMA ops: iommu-dma\)/, 'the vhost device behind the root port is bound');
  t.match(r.out, /virtio_net 0000:00:03\.0: bound \(DMA ops: iommu-dma\)/, 'the emulated device is bound');
  t.match(r.out, /traffic +ok +128 /, 'traffic echoed 64 packets through each device');
  t.match(r.out, /edu-dma +ok/);
  t.match(r.out, /0 violations/);
});

t.test('viommu boot --info also prints info pci, info mtree and info iommu', async (t) => {
  const r = await run(['boot', '--info']);
  t.equal(r.code, 0);
  t.match(r.out, /\(qemu\) info pci\n {2}Bus {2}0, device {3}0, function 0:\n {4}Host bridge: PCI device 8086:29c0/);
  t.match(r.out, /Class 0255: PCI device 1234:11e8/);
  t.match(r.out, /\(qemu\) info mtree\naddress-space: memory\n {2}0000000000000000-ffffffffffffffff \(prio 0, i\/o\): system/);
  t.match(r.out, /address-space: edu\n {2}0000000000000000-ffffffffffffffff \(prio 0, i\/o\): bus master container/);
  t.match(r.out, /\(qemu\) info iommu\nintel-iommu at 0xfed90000: VT-d 1\.0, legacy mode, aw-bits 39/);
  t.match(r.out, /translation enabled; root table 0x[0-9a-f]+/);
  t.match(r.out, /00:01\.0: DID \d+, TT 0 \(multi-level\), AW 1 \(3-level\)/);
});

t.test('viommu boot takes a JSON config or QEMU options after --', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'viommu-boot-'));
  const file = join(dir, 'virt.json');
  writeFileSync(file, JSON.stringify({ machine: 'virt', devices: [{ driver: 'edu', id: 'e0', addr: '04.0' }] }));
  const j = await run(['boot', '--info', '--edu-dma-bits', '32', file]);
  t.equal(j.code, 1, 'virt edu keeps its 28-bit dma_mask: the 32-bit driver mask cannot reach RAM, so the DMA fails');
  t.match(j.out, /Bus {2}0, device {3}4, function 0:\n {4}Class 0255: PCI device 1234:11e8[\s\S]*id "e0"/);
  t.match(j.out, /alias pcie-ecam @pcie-mmcfg-mmio/);
  const q = await run(['boot', '--', '-M', 'pseries', '-m', '256M', '-device', 'edu']);
  t.equal(q.code, 0, q.out);
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

t.test('the built executable runs as `npx viommu` runs it: boot of virt + smmuv3 + edu, oracle clean', async (t) => {
  const exe = repoPath('dist', 'viommu.js');
  t.ok(statSync(exe).mode & 0o111, 'dist/viommu.js is executable');
  const out = execFileSync(exe, ['boot', '--', '-M', 'virt,iommu=smmuv3', '-device', 'edu'], { encoding: 'utf8' });
  t.match(out, /DMA oracle: \d+ accesses checked .* 0 violations/);
  t.match(out, /RESULT: ok/);
});
