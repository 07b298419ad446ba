import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { parseCmdline } from '../../../src/machine/cmdline.js';
import { splitAcpiTables } from '../../../src/machine/firmware/inspect.js';
import { Machine } from '../../../src/machine/machine.js';
import { repoPath } from '../../helpers/paths.js';
import { runTableLoader, walkAcpi } from './helpers/acpi-loader.js';
import { compareWithQemu } from './helpers/dtb-compare.js';
import { findNode, readDtb, u32s } from './helpers/dtb-reader.js';
import { fwCfgMmio, readAcpiFiles } from './helpers/fw-cfg-guest.js';

// The SMMUv3's firmware description on a built virt machine against QEMU
// 7.2's: the IORT served over fw_cfg (test/machine/firmware/data/
// virt-smmuv3-*acpi/, record-qemu.py) and the device tree (dumpdtb).

const DATA = 'test/machine/firmware/data';
const build = (...args: string[]): Machine => Machine.create(parseCmdline(['-nodefaults', '-display', 'none', ...args]).config);
const qemuIort = (dir: string): string => readFileSync(repoPath(DATA, dir, 'IORT.dat')).toString('hex');

function iortOf(t: Test, m: Machine, before: (m: Machine) => void = () => undefined): string {
  const p = m.guestPort();
  before(m);
  const files = readAcpiFiles(fwCfgMmio(p), p);
  const walk = walkAcpi(runTableLoader(files.loader, { 'etc/acpi/tables': files.tables, 'etc/acpi/rsdp': files.rsdp }));
  t.ok(walk.tables.find((x) => x.sig === 'IORT')?.checksumOk, 'IORT listed in the XSDT with a good checksum');
  return Buffer.from(splitAcpiTables(files).find((x) => x.sig === 'IORT')!.bytes).toString('hex');
}

/** Byte offset, in hex digits, of an RC ID mapping's ID Count field (RC node at 0xa0, mappings from +0x24). */
const rcCount = (hex: string, i: number): number => Buffer.from(hex, 'hex').readUInt32LE(0xa0 + 0x24 + i * 20 + 4);

t.test('plain virt: the IORT is QEMU 7.2\'s (ITS group, RC -> ITS for every RID)', async (t) => {
  t.equal(iortOf(t, build('-M', 'virt')), qemuIort('virt-acpi'));
});

t.test('virt,iommu=smmuv3: the IORT equals QEMU 7.2\'s with x-qemu72=on; by default ID counts follow the spec', async (t) => {
  const q = iortOf(t, build('-M', 'virt,iommu=smmuv3', '-global', 'arm-smmuv3.x-qemu72=on'));
  t.equal(q, qemuIort('virt-smmuv3-acpi'), 'byte for byte (SMMUv3 node: base, COHACC, GSIVs 106/107/109/108; RC -> SMMU 0x0000 count 0x100)');
  const spec = iortOf(t, build('-M', 'virt,iommu=smmuv3'));
  t.equal(rcCount(spec, 0), 0xff, 'RC -> SMMU: 256 IDs, ID Count 0xff ("number of IDs minus one")');
  t.equal(rcCount(spec, 1), 0xfeff, 'RC -> ITS for 0x100..0xffff');
  t.equal(spec.slice(0, 16), q.slice(0, 16), 'same signature and length');
});

t.test('a root port numbered before the tables are built: buses 0-1 go to the SMMU (QEMU 7.2 bytes with x-qemu72)', async (t) => {
  const number = (m: Machine) => void m.systemAs.write(0x4010010018, 4, 0x00010100);
  const args = ['-device', 'pcie-root-port,id=rp0,chassis=1,addr=2', '-device', 'edu,bus=rp0'];
  t.equal(iortOf(t, build('-M', 'virt,iommu=smmuv3', '-global', 'arm-smmuv3.x-qemu72=on', ...args), number), qemuIort('virt-smmuv3-rp-acpi'));
  const spec = iortOf(t, build('-M', 'virt,iommu=smmuv3', ...args), number);
  t.same([rcCount(spec, 0), rcCount(spec, 1)], [0x1ff, 0xfdff]);
});

t.test('virt,iommu=smmuv3 device tree: the smmuv3 node and iommu-map are QEMU 7.2\'s, property for property', async (t) => {
  const m = build('-M', 'virt,iommu=smmuv3', '-device', 'edu');
  const ours = readDtb(m.guestPort().fdt!());
  const qemu = readDtb(readFileSync(repoPath(DATA, 'virt-smmuv3-edu-qemu.dtb')));
  compareWithQemu(t, ours.root, qemu.root);
  const smmu = findNode(ours.root, '/smmuv3@9050000')!;
  t.same(u32s(smmu.props.get('phandle')), [0x8004]);
  t.same(u32s(smmu.props.get('interrupts')), [0, 74, 1, 0, 75, 1, 0, 76, 1, 0, 77, 1]);
  const pcie = findNode(ours.root, '/pcie@10000000')!;
  t.equal([...pcie.props.keys()][0], 'iommu-map', 'first property of the host node, as QEMU');
  t.same(u32s(pcie.props.get('iommu-map')), [0, 0x8004, 0, 0x10000]);
  const names = ours.root.children.map((c) => c.name);
  t.equal(names.indexOf('smmuv3@9050000') + 1, names.indexOf('pcie@10000000'));
  t.notOk(findNode(readDtb(build('-M', 'virt').guestPort().fdt!()).root, '/smmuv3@9050000'), 'no node without the SMMU');
});

t.test('-device arm-smmuv3 is refused as in QEMU; bad iommu= and -global values are clear errors', async (t) => {
  t.throws(() => build('-M', 'virt', '-device', 'arm-smmuv3'), /Parameter 'driver' expects a pluggable device type/);
  t.throws(() => build('-M', 'virt,iommu=smmuv4'), /Invalid iommu value\nValid values are none, smmuv3\./);
  t.throws(() => build('-M', 'virt,iommu=smmuv3', '-global', 'arm-smmuv3.foo=1'), /can't apply global arm-smmuv3\.foo=1: Property 'arm-smmuv3\.foo' not found/);
  t.throws(() => build('-M', 'virt,iommu=smmuv3', '-global', 'arm-smmuv3.ssidsize=21'), /ssidsize/);
});
