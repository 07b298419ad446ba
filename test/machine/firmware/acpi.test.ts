import t from 'tap';
import { readFileSync } from 'node:fs';
import { q35Description, virtDescription } from '../../../src/machine/firmware/presets.js';
import { buildMachineAcpi } from '../../../src/machine/firmware/acpi/acpi-boards.js';
import { acpiTableBegin, acpiTableEnd, type AcpiTableGenerator } from '../../../src/machine/firmware/acpi/acpi-table.js';
import { splitAcpiTables } from '../../../src/machine/firmware/inspect.js';
import { repoPath } from '../../helpers/paths.js';
import { runTableLoader, tableAt, walkAcpi } from './helpers/acpi-loader.js';

const DATA = 'test/machine/firmware/data';
const files = (r: { tables: Uint8Array; rsdp: Uint8Array }) => ({ 'etc/acpi/tables': r.tables, 'etc/acpi/rsdp': r.rsdp });

t.test('q35: a firmware running the loader finds RSDP -> RSDT -> FADT/MADT/MCFG with good checksums', async (t) => {
  const r = buildMachineAcpi(q35Description({ ramSize: 128 << 20 }));
  t.equal(r.tables.length, 0x20000, 'tables padded to ACPI_BUILD_TABLE_SIZE as QEMU');
  t.equal(r.loader.length, 0x1000, 'loader padded to 4 KiB on x86');
  t.equal(r.rsdp.length, 20, 'QEMU 7.2 x86: revision-0 RSDP');
  const l = runTableLoader(r.loader, files(r));
  t.equal(l.files.get('etc/acpi/rsdp')!.zone, 2, 'RSDP in the F segment');
  t.equal(l.files.get('etc/acpi/tables')!.addr % 64, 0);
  const { rsdp, root, tables } = walkAcpi(l);
  t.equal(rsdp.toString('latin1', 0, 8), 'RSD PTR ');
  t.equal(rsdp.toString('latin1', 9, 15), 'BOCHS ');
  t.equal([...rsdp].reduce((a, b) => a + b, 0) & 0xff, 0, 'RSDP checksum');
  t.equal(root.sig, 'RSDT');
  t.ok(root.checksumOk);
  t.same(tables.map((x) => x.sig), ['FACP', 'APIC', 'MCFG']);
  for (const x of tables) {
    t.ok(x.checksumOk, `${x.sig} checksum`);
    t.equal(x.bytes.toString('latin1', 10, 28), 'BOCHS BXPC    \x01\x00\x00\x00', `${x.sig} OEM fields`);
    t.equal(x.bytes.toString('latin1', 28, 32), 'BXPC');
  }
  const fadt = tables[0]!.bytes;
  const facs = tableAt(l.memory, fadt.readUInt32LE(36));
  t.equal(facs.sig, 'FACS');
  t.equal(facs.addr % 64, 0, 'FACS 64-byte aligned');
  const dsdt = tableAt(l.memory, fadt.readUInt32LE(40));
  t.equal(dsdt.sig, 'DSDT');
  t.ok(dsdt.checksumOk, 'DSDT checksum');
  t.equal(Number(fadt.readBigUInt64LE(140)), dsdt.addr, 'X_DSDT points at the same DSDT');
  const mcfg = tables[2]!.bytes;
  t.same([Number(mcfg.readBigUInt64LE(44)), mcfg.readUInt16LE(52), mcfg[54], mcfg[55]], [0xb0000000, 0, 0, 255], 'MMCONFIG allocation');
  t.ok(dsdt.bytes.includes(Buffer.from('QEMU0002')), 'fw_cfg device in the DSDT');
});

t.test('virt: revision-2 RSDP -> XSDT with 8-byte pointers, GIC MADT, GTDT, MCFG on the high ECAM, IORT', async (t) => {
  const r = buildMachineAcpi(virtDescription({ ramSize: 128 << 20 }));
  t.equal(r.rsdp.length, 36);
  const l = runTableLoader(r.loader, files(r));
  const { rsdp, root, tables } = walkAcpi(l);
  t.equal(rsdp[15], 2);
  t.equal([...rsdp.subarray(0, 20)].reduce((a, b) => a + b, 0) & 0xff, 0, 'ACPI 1.0 checksum');
  t.equal([...rsdp].reduce((a, b) => a + b, 0) & 0xff, 0, 'extended checksum');
  t.equal(rsdp.readUInt32LE(16), 0, 'no RSDT');
  t.equal(root.sig, 'XSDT');
  t.same(tables.map((x) => [x.sig, x.checksumOk]), [['FACP', true], ['APIC', true], ['GTDT', true], ['MCFG', true], ['IORT', true]]);
  const fadt = tables[0]!.bytes;
  t.equal(fadt.readUInt32LE(112), 1 << 20, 'HW_REDUCED_ACPI');
  t.equal(fadt.readUInt16LE(129), 3, 'PSCI compliant, HVC');
  t.equal(tableAt(l.memory, Number(fadt.readBigUInt64LE(140))).sig, 'DSDT');
  t.equal(Number(tables[3]!.bytes.readBigUInt64LE(44)), 0x4010000000, 'MCFG on the high ECAM window');
});

/** Tables that match QEMU 7.2 byte for byte (with checksums filled, pointers as blob offsets). */
const SAME_AS_QEMU: [string, () => ReturnType<typeof buildMachineAcpi>, string[]][] = [
  ['q35-acpi', () => buildMachineAcpi(q35Description({ ramSize: 128 << 20, pmBase: 0 })), ['FACS', 'FACP', 'APIC', 'MCFG']],
  ['virt-acpi', () => buildMachineAcpi(virtDescription({ ramSize: 128 << 20 })), ['FACP', 'APIC', 'GTDT', 'MCFG', 'IORT']],
];

for (const [dir, build, sigs] of SAME_AS_QEMU) {
  t.test(`${dir}: ${sigs.join(', ')} equal QEMU 7.2's bytes`, async (t) => {
    const ours = new Map(splitAcpiTables(build()).map((x) => [x.sig, x.bytes]));
    for (const sig of sigs) {
      const qemu = readFileSync(repoPath(DATA, dir, `${sig}.dat`));
      t.same(Buffer.from(ours.get(sig)!).toString('hex'), qemu.toString('hex'), sig);
    }
  });
}

t.test('a vIOMMU-style generator is listed in the root table and checksummed', async (t) => {
  const test: AcpiTableGenerator = {
    signature: 'TEST',
    build(ctx) {
      const tb = acpiTableBegin(ctx, 'TEST', 1);
      ctx.tables.u64(0xfed90000);
      acpiTableEnd(ctx, tb);
    },
  };
  const skipped: AcpiTableGenerator = { signature: 'NOPE', applies: () => false, build: () => t.fail('ran') };
  const r = buildMachineAcpi(q35Description({ ramSize: 1 << 30 }), [test, skipped]);
  const { tables } = walkAcpi(runTableLoader(r.loader, files(r)));
  const x = tables.find((y) => y.sig === 'TEST')!;
  t.ok(x && x.checksumOk);
  t.equal(x.length, 44);
  t.equal(Number(x.bytes.readBigUInt64LE(36)), 0xfed90000);
  t.same(tables.map((y) => y.sig), ['FACP', 'APIC', 'MCFG', 'TEST']);
});

t.test('q35 without MMCONFIG enabled has no MCFG, as QEMU before the firmware sets PCIEXBAR', async (t) => {
  const r = buildMachineAcpi(q35Description({ ramSize: 128 << 20, mmconfig: null }));
  const { tables } = walkAcpi(runTableLoader(r.loader, files(r)));
  t.same(tables.map((y) => y.sig), ['FACP', 'APIC']);
});

t.test('split tables: one file per table, checksums filled, FACS and RSDP included', async (t) => {
  const split = splitAcpiTables(buildMachineAcpi(q35Description({ ramSize: 128 << 20 })));
  t.same(split.map((x) => x.file), ['FACS.dat', 'DSDT.dat', 'FACP.dat', 'APIC.dat', 'MCFG.dat', 'RSDT.dat', 'RSDP.dat']);
  for (const x of split.filter((y) => y.sig !== 'FACS' && y.sig !== 'RSD PTR ')) {
    t.equal(x.bytes.reduce((a, b) => a + b, 0) & 0xff, 0, `${x.file} sums to 0`);
    t.equal(Buffer.from(x.bytes).readUInt32LE(4), x.bytes.length, `${x.file} length`);
  }
});
