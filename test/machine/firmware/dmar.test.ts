import t from 'tap';
import { readFileSync } from 'node:fs';
import type { GuestPort } from '../../../src/guest/port.js';
import { parseCmdline } from '../../../src/machine/cmdline.js';
import { splitAcpiTables } from '../../../src/machine/firmware/inspect.js';
import { Machine } from '../../../src/machine/machine.js';
import { repoPath } from '../../helpers/paths.js';
import { runTableLoader, walkAcpi } from './helpers/acpi-loader.js';
import { fwCfgIoPorts, readAcpiFiles } from './helpers/fw-cfg-guest.js';

// The DMAR table of a built q35 machine with intel-iommu, read over fw_cfg
// as firmware reads it, against QEMU 7.2's bytes for the same command line
// (data/q35-vtd-*-acpi/DMAR.dat, recorded by data/record-qemu.py; iasl -d
// decodes them).

const build = (...args: string[]): Machine => Machine.create(parseCmdline(['-nodefaults', '-display', 'none', ...args]).config);
const qemu = (dir: string): string => readFileSync(repoPath('test/machine/firmware/data', dir, 'DMAR.dat')).toString('hex');

function out(p: GuestPort, port: number, v: number): void {
  p.io!.out(port, 4, v);
}

function tables(p: GuestPort) {
  const files = readAcpiFiles(fwCfgIoPorts(p), p);
  const walk = walkAcpi(runTableLoader(files.loader, { 'etc/acpi/tables': files.tables, 'etc/acpi/rsdp': files.rsdp }));
  const split = new Map(splitAcpiTables(files).map((x) => [x.sig, Buffer.from(x.bytes).toString('hex')]));
  return { walk, split };
}

t.test('q35 + intel-iommu + edu: DMAR after MCFG, equal to QEMU 7.2 (HAW 38, INTR_REMAP, IOAPIC and root-bus endpoint scopes)', async (t) => {
  const p = build('-M', 'q35', '-device', 'intel-iommu', '-device', 'edu').guestPort();
  out(p, 0xcf8, 0x80000064);
  out(p, 0xcfc, 0);
  out(p, 0xcf8, 0x80000060);
  out(p, 0xcfc, 0xb0000001);
  const { walk, split } = tables(p);
  t.same(walk.tables.map((x) => x.sig), ['FACP', 'APIC', 'MCFG', 'DMAR']);
  t.ok(walk.tables[3]!.checksumOk, 'checksum after the loader');
  t.equal(split.get('DMAR'), qemu('q35-vtd-edu-acpi'));
});

t.test('device-iotlb, aw-bits 48, intremap off, a root port: bridge scope and ATSR, equal to QEMU 7.2', async (t) => {
  const p = build('-M', 'q35', '-device', 'intel-iommu,device-iotlb=on,aw-bits=48,intremap=off',
    '-device', 'pcie-root-port,id=rp0,chassis=1,addr=03.0', '-device', 'edu,bus=rp0', '-device', 'edu,addr=05.0').guestPort();
  out(p, 0xcf8, 0x80000064);
  out(p, 0xcfc, 0);
  out(p, 0xcf8, 0x80000060);
  out(p, 0xcfc, 0xb0000001);
  out(p, 0xcf8, 0x80001818);
  out(p, 0xcfc, 0x00010100);
  const { split } = tables(p);
  const ours = split.get('DMAR')!;
  t.equal(ours, qemu('q35-vtd-dt-rp-acpi'));
  const b = Buffer.from(ours, 'hex');
  t.same([b[36], b[37]], [0x2f, 0], 'host address width 47, no INTR_REMAP');
  t.same([...b.subarray(0x50, 0x58)], [2, 8, 0, 0, 0, 0, 3, 0], 'the root port as a sub-hierarchy scope');
  t.same([...b.subarray(0x78, 0x80)], [2, 0, 8, 0, 1, 0, 0, 0], 'ATSR, ALL_PORTS, segment 0');
});

t.test('no intel-iommu: no DMAR', async (t) => {
  const p = build('-M', 'q35', '-device', 'edu').guestPort();
  t.notOk(tables(p).walk.tables.some((x) => x.sig === 'DMAR'));
});
