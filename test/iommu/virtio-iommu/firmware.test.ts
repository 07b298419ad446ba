import t from 'tap';
import { readFileSync } from 'node:fs';
import { parseCmdline } from '../../../src/machine/cmdline.js';
import { splitAcpiTables } from '../../../src/machine/firmware/inspect.js';
import { Machine } from '../../../src/machine/machine.js';
import { repoPath } from '../../helpers/paths.js';
import { readAcpiFiles, fwCfgIoPorts, fwCfgMmio } from '../../machine/firmware/helpers/fw-cfg-guest.js';
import { compareWithQemu } from '../../machine/firmware/helpers/dtb-compare.js';
import { findNode, readDtb, u32s } from '../../machine/firmware/helpers/dtb-reader.js';
import type { GuestPort } from '../../../src/guest/port.js';
import { ViommuDriver } from './helpers/viommu.js';

// How the machine tells the guest where the virtio-iommu is and what it
// translates: ACPI VIOT (q35, virt), the device tree (virt), the
// configuration-space description (seed 003), compared with QEMU 7.2.
const DATA = 'test/iommu/virtio-iommu/data';
const build = (...args: string[]): Machine => Machine.create(parseCmdline(['-nodefaults', '-display', 'none', ...args]).config);
const qemu = (dir: string, sig: string): string => readFileSync(repoPath(DATA, dir, `${sig}.dat`)).toString('hex');

function tables(p: GuestPort, mmio: boolean): Map<string, Buffer> {
  const files = readAcpiFiles(mmio ? fwCfgMmio(p) : fwCfgIoPorts(p), p);
  return new Map(splitAcpiTables(files).map((x) => [x.sig, Buffer.from(x.bytes)]));
}

function enableMmconfig(p: GuestPort): void {
  p.io!.out(0xcf8, 4, 0x80000064);
  p.io!.out(0xcfc, 4, 0);
  p.io!.out(0xcf8, 4, 0x80000060);
  p.io!.out(0xcfc, 4, 0xb0000001);
}

t.test('q35: VIOT equals QEMU 7.2\'s, after MCFG', async (t) => {
  const p = build('-M', 'q35', '-device', 'virtio-iommu-pci', '-device', 'edu').guestPort();
  enableMmconfig(p);
  const got = tables(p, false);
  t.same([...got.keys()].filter((s) => ['MCFG', 'VIOT'].includes(s)), ['MCFG', 'VIOT']);
  t.equal(got.get('VIOT')!.toString('hex'), qemu('q35-viommu-acpi', 'VIOT'), 'VIOT byte for byte (virtio-iommu at 00:01.0, bus 0 range)');
});

t.test('virt booted with ACPI: VIOT equals QEMU 7.2\'s', async (t) => {
  const p = build('-M', 'virt', '-device', 'virtio-iommu-pci', '-device', 'edu').guestPort();
  t.equal(tables(p, true).get('VIOT')!.toString('hex'), qemu('virt-viommu-acpi', 'VIOT'));
});

t.test('VIOT covers the buses firmware numbered below the host bridge', async (t) => {
  const m = build('-M', 'q35', '-device', 'virtio-iommu-pci,addr=2', '-device', 'pcie-root-port,id=rp,chassis=1,addr=4');
  const port = m.pciDevices().find((d) => d.typeName === 'pcie-root-port')!;
  port.configWrite(0x19, 1, 1);
  port.configWrite(0x1a, 3, 1);
  const p = m.guestPort();
  enableMmconfig(p);
  const v = tables(p, false).get('VIOT')!;
  t.equal(v.readUInt16LE(48 + 6), 0x10, 'the IOMMU node names 00:02.0');
  t.same([v.readUInt16LE(64 + 12), v.readUInt16LE(64 + 14)], [0, 0x3ff], 'BDFs 00:00.0 .. 03:1f.7');
});

t.test('virt device tree: the virtio,pci-iommu node and iommu-map equal QEMU 7.2\'s dumpdtb', async (t) => {
  const m = build('-M', 'virt', '-device', 'virtio-iommu-pci', '-device', 'edu');
  const ours = readDtb(Buffer.from(m.guestPort().fdt!()));
  const ref = readDtb(readFileSync(repoPath(DATA, 'virt-viommu-edu-qemu.dtb')));
  compareWithQemu(t, ours.root, ref.root);
  const pcie = findNode(ours.root, '/pcie@10000000')!;
  t.same(u32s(pcie.props.get('iommu-map')!), [0, 0x8005, 0, 8, 9, 0x8005, 9, 0xfff7], 'RID 8 (the IOMMU) is left out');
  t.equal([...pcie.props.keys()][0], 'iommu-map', 'first in the host node, as QEMU adds it last');
  t.ok(findNode(ours.root, '/pcie@10000000/virtio_iommu@1,0'));
});

t.test('topology=config: no VIOT, no DT node; the description is in the configuration space', async (t) => {
  const q = build('-M', 'q35', '-device', 'virtio-iommu-pci,topology=config').guestPort();
  enableMmconfig(q);
  t.notOk(tables(q, false).has('VIOT'));
  const v = build('-M', 'virt', '-device', 'virtio-iommu-pci,topology=config');
  t.notOk(findNode(readDtb(Buffer.from(v.guestPort().fdt!())).root, '/pcie@10000000/virtio_iommu@1,0'));
  const dt = build('-M', 'virt', '-device', 'virtio-iommu-pci,topology=dt').guestPort();
  t.notOk(tables(dt, true).has('VIOT'), 'topology=dt: the device tree only');
  const acpi = build('-M', 'virt', '-device', 'virtio-iommu-pci,topology=viot');
  t.notOk(findNode(readDtb(Buffer.from(acpi.guestPort().fdt!())).root, '/pcie@10000000/virtio_iommu@1,0'), 'topology=viot: ACPI only');
});

t.test('the configuration-space description (seed 003 v1 layout, feature bit 23)', async (t) => {
  const d = new ViommuDriver(',topology=config');
  t.equal(d.deviceFeatures() & (1n << 23n), 1n << 23n, 'VIRTIO_IOMMU_F_X_TOPOLOGY offered');
  const cfg = 0xfe002000;
  t.same([d.r32(cfg + 40), d.r32(cfg + 44), d.r32(cfg + 48)], [56, 1, 16], 'topo_config {offset, num_items, item_length} after bypass');
  t.same([d.r16(cfg + 56), d.r16(cfg + 58), d.r16(cfg + 60), d.r16(cfg + 62), d.r32(cfg + 64)], [1, 0, 0, 0xffff, 0],
    'one PCI range: segment 0, requesters 0000..ffff from endpoint 0');
  t.equal(d.r32(cfg + 72), 0xffffffff, 'the configuration ends after the items');
  const plain = new ViommuDriver();
  t.equal(plain.deviceFeatures() & (1n << 23n), 0n, 'not offered without topology=config');
  t.equal(plain.r32(cfg + 40), 0xffffffff, 'and the configuration is the 40 bytes of the specification');
});
