import t from 'tap';
import { readFileSync } from 'node:fs';
import type { GuestPort } from '../../../src/guest/port.js';
import { parseCmdline } from '../../../src/machine/cmdline.js';
import { splitAcpiTables } from '../../../src/machine/firmware/inspect.js';
import { Machine } from '../../../src/machine/machine.js';
import { repoPath } from '../../helpers/paths.js';
import { runTableLoader, walkAcpi } from './helpers/acpi-loader.js';
import { compareWithQemu } from './helpers/dtb-compare.js';
import { findNode, readDtb, u32s } from './helpers/dtb-reader.js';
import { fwCfgDirectory, fwCfgIoPorts, fwCfgMmio, readAcpiFiles, readFwCfgFile, type FwCfgDriver } from './helpers/fw-cfg-guest.js';

// The firmware a *built* machine serves, read the way firmware reads it:
// fw_cfg through ports or MMIO with DMA into guest RAM, the loader run, the
// tables walked from the RSDP; device trees through GuestPort.fdt().

const DATA = 'test/machine/firmware/data';
const build = (...args: string[]): Machine => Machine.create(parseCmdline(['-nodefaults', '-display', 'none', ...args]).config);
const qemuTable = (dir: string, sig: string): string => readFileSync(repoPath(DATA, dir, `${sig}.dat`)).toString('hex');
const qemuDtb = (name: string) => readDtb(readFileSync(repoPath(DATA, name)));

function loadAcpi(f: FwCfgDriver, p: GuestPort) {
  const files = readAcpiFiles(f, p);
  const walk = walkAcpi(runTableLoader(files.loader, { 'etc/acpi/tables': files.tables, 'etc/acpi/rsdp': files.rsdp }));
  const split = new Map(splitAcpiTables(files).map((x) => [x.sig, Buffer.from(x.bytes).toString('hex')]));
  return { walk, split, sigs: walk.tables.map((x) => x.sig) };
}

/** What SeaBIOS does before it reads the tables, and what QEMU's q35 recording did: PCIEXBAR = 0xb0000000, enabled. */
function enableMmconfig(p: GuestPort): void {
  p.io!.out(0xcf8, 4, 0x80000064);
  p.io!.out(0xcfc, 4, 0);
  p.io!.out(0xcf8, 4, 0x80000060);
  p.io!.out(0xcfc, 4, 0xb0000001);
}

t.test('q35 with edu: the loader run over fw_cfg finds RSDP -> RSDT -> FACP, APIC, MCFG equal to QEMU 7.2\'s', async (t) => {
  const p = build('-M', 'q35', '-device', 'edu').guestPort();
  enableMmconfig(p);
  const { walk, split, sigs } = loadAcpi(fwCfgIoPorts(p), p);
  t.equal(walk.root.sig, 'RSDT');
  t.same(sigs, ['FACP', 'APIC', 'MCFG']);
  for (const x of [walk.root, ...walk.tables]) t.ok(x.checksumOk, `${x.sig} checksum after the loader`);
  const mcfg = walk.tables[2]!.bytes;
  t.same([Number(mcfg.readBigUInt64LE(44)), mcfg.readUInt16LE(52), mcfg[54], mcfg[55]], [0xb0000000, 0, 0, 255], 'MMCONFIG as programmed');
  for (const sig of ['FACS', 'FACP', 'APIC', 'MCFG']) t.equal(split.get(sig), qemuTable('q35-acpi', sig), `${sig} equals QEMU 7.2's`);
});

t.test('q35: the tables are built at the first select after reset, from what the firmware programmed by then', async (t) => {
  const m = build('-M', 'q35', '-device', 'edu');
  const p = m.guestPort();
  const f = fwCfgIoPorts(p);
  t.same(loadAcpi(f, p).sigs, ['FACP', 'APIC'], 'no MCFG while PCIEXBAR is off (acpi_get_mcfg)');
  enableMmconfig(p);
  p.io!.out(0xcf8, 4, 0x8000f840);
  p.io!.out(0xcfc, 4, 0x601);
  t.same(loadAcpi(f, p).sigs, ['FACP', 'APIC'], 'not rebuilt before the next reset');
  m.reset();
  enableMmconfig(p);
  p.io!.out(0xcf8, 4, 0x8000f840);
  p.io!.out(0xcfc, 4, 0x601);
  const after = loadAcpi(f, p);
  t.same(after.sigs, ['FACP', 'APIC', 'MCFG'], 'rebuilt after reset with the MMCONFIG window');
  t.equal(after.walk.tables[0]!.bytes.readUInt32LE(56), 0x600, 'FADT PM1a event block at the programmed PMBASE');
});

t.test('q35 fw_cfg: QEMU\'s standard items, etc/e820, and no ACPI files with acpi=off', async (t) => {
  const p = build('-M', 'q35', '-m', '4G').guestPort();
  const f = fwCfgIoPorts(p);
  const item = (key: number, n: number): Buffer => {
    f.select(key);
    return Buffer.from(Array.from({ length: n }, () => f.byte()));
  };
  t.equal(item(0x00, 4).toString('latin1'), 'QEMU');
  t.equal(item(0x01, 4).readUInt32LE(0), 3, 'traditional and DMA interfaces');
  t.equal(item(0x03, 8).readBigUInt64LE(0), 4n << 30n, 'FW_CFG_RAM_SIZE');
  t.same([item(0x05, 2).readUInt16LE(0), item(0x0f, 2).readUInt16LE(0)], [1, 1], 'NB_CPUS, MAX_CPUS');
  const e820 = Buffer.from(readFwCfgFile(f, p, 'etc/e820'));
  const entries = Array.from({ length: e820.length / 20 }, (_, i) => [
    Number(e820.readBigUInt64LE(i * 20)), Number(e820.readBigUInt64LE(i * 20 + 8)), e820.readUInt32LE(i * 20 + 16)]);
  t.same(entries, [[0xfd00000000, 0x300000000, 2], [0, 0x80000000, 1], [0x100000000, 0x80000000, 1]],
    'AMD HT hole reserved, then RAM below and above 4 GiB (QEMU 7.2 pc_memory_init)');
  const off = build('-M', 'q35,acpi=off').guestPort();
  t.same(fwCfgDirectory(fwCfgIoPorts(off)).map((x) => x.name), ['bios-geometry', 'bootorder', 'etc/boot-fail-wait', 'etc/e820']);
});

t.test('virt with edu: the MMIO fw_cfg serves FACP, APIC, GTDT, MCFG, IORT equal to QEMU 7.2\'s', async (t) => {
  const p = build('-M', 'virt', '-device', 'edu').guestPort();
  const { walk, split, sigs } = loadAcpi(fwCfgMmio(p), p);
  t.equal(walk.root.sig, 'XSDT');
  t.same(sigs, ['FACP', 'APIC', 'GTDT', 'MCFG', 'IORT']);
  t.equal(Number(walk.tables[3]!.bytes.readBigUInt64LE(44)), 0x4010000000, 'MCFG on the high ECAM');
  for (const sig of ['FACP', 'APIC', 'GTDT', 'MCFG', 'IORT']) t.equal(split.get(sig), qemuTable('virt-acpi', sig), `${sig} equals QEMU 7.2's`);
});

t.test('virt with edu: GuestPort.fdt() is QEMU 7.2\'s dumpdtb for the same command line, node for node', async (t) => {
  const ours = readDtb(build('-M', 'virt', '-device', 'edu').guestPort().fdt!());
  const qemu = qemuDtb('virt-edu-qemu.dtb');
  compareWithQemu(t, ours.root, qemu.root);
  const [o, q] = [findNode(ours.root, '/pcie@10000000')!, findNode(qemu.root, '/pcie@10000000')!];
  for (const prop of ['reg', 'ranges', 'bus-range']) t.same(u32s(o.props.get(prop)), u32s(q.props.get(prop)), `pcie ${prop}`);
  t.same(o.children.map((c) => c.name), q.children.map((c) => c.name), 'device nodes: none for edu, as QEMU');
  t.ok(findNode(ours.root, '/fw-cfg@9020000'), 'the fw_cfg node');
});

t.test('virt,highmem=off: low ECAM, bus-range 0..15, no 64-bit window, as QEMU 7.2', async (t) => {
  const ours = readDtb(build('-M', 'virt,highmem=off', '-m', '1G', '-device', 'edu').guestPort().fdt!());
  compareWithQemu(t, ours.root, qemuDtb('virt-lowecam-qemu.dtb').root);
  t.same(u32s(findNode(ours.root, '/pcie@10000000')!.props.get('reg')), [0, 0x3f000000, 0, 0x1000000]);
});

t.test('pseries with edu: the PHB\'s ibm,dma-window in GuestPort.fdt(), rebuilt at reset', async (t) => {
  const m = build('-M', 'pseries', '-device', 'edu');
  const ours = readDtb(m.guestPort().fdt!());
  compareWithQemu(t, ours.root, qemuDtb('pseries-edu-qemu.dtb').root);
  const phb = findNode(ours.root, '/pci@800000020000000')!;
  t.same(u32s(phb.props.get('ibm,dma-window')), [0x80000000, 0, 0, 0, 0x40000000], 'LIOBN 0x80000000, 1 GiB at bus address 0');
  const before = m.firmware.fdt;
  m.reset();
  t.not(m.firmware.fdt, before, 'a new tree at reset (spapr_machine_reset builds it)');
  t.same(m.firmware.fdt, before, 'with the same contents');
});
