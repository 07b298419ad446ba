import t from 'tap';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemorySystem, type AddressSpace } from '../../../src/memory/index.js';
import { FwCfgIo, FW_CFG_IO_BASE } from '../../../src/machine/firmware/fw-cfg/fw-cfg-io.js';
import { FwCfgMem, VIRT_FW_CFG_BASE } from '../../../src/machine/firmware/fw-cfg/fw-cfg-mem.js';
import { AcpiFwCfgFiles } from '../../../src/machine/firmware/acpi/acpi-fw-cfg.js';
import { buildMachineAcpi } from '../../../src/machine/firmware/acpi/acpi-boards.js';
import { pseriesDescription, q35Description, virtDescription } from '../../../src/machine/firmware/presets.js';
import { buildMachineFirmware } from '../../../src/machine/firmware/machine-firmware.js';
import { dumpDtb, writeFirmwareFiles } from '../../../src/machine/firmware/inspect.js';
import { runTableLoader, walkAcpi } from './helpers/acpi-loader.js';
import { readDtb } from './helpers/dtb-reader.js';

/** Reads a whole fw_cfg file by name the way SeaBIOS does: directory through the data port, contents by DMA. */
function readFile(io: AddressSpace, mem: AddressSpace, name: string): Uint8Array {
  io.write(FW_CFG_IO_BASE, 2, 0x19);
  const byte = (): number => io.read(FW_CFG_IO_BASE + 1, 1).lo;
  const be32 = (): number => ((byte() << 24) | (byte() << 16) | (byte() << 8) | byte()) >>> 0;
  const count = be32();
  for (let i = 0; i < count; i++) {
    const size = be32();
    const select = (byte() << 8) | byte();
    byte();
    byte();
    let n = '';
    for (let k = 0; k < 56; k++) {
      const c = byte();
      if (c) n += String.fromCharCode(c);
    }
    if (n !== name) continue;
    const desc = Buffer.alloc(16);
    desc.writeUInt32BE(((select << 16) | 0x08 | 0x02) >>> 0, 0);
    desc.writeUInt32BE(size, 4);
    desc.writeBigUInt64BE(0x10000n, 8);
    mem.writeBytes(0x1000, Uint8Array.from(desc));
    io.write(FW_CFG_IO_BASE + 4, 4, 0);
    io.write(FW_CFG_IO_BASE + 8, 4, 0x00100000);
    const out = new Uint8Array(size);
    mem.readBytes(0x10000, out);
    return out;
  }
  throw new Error(`no fw_cfg file ${name}`);
}

t.test('q35 hand-off: a firmware reads the ACPI files from fw_cfg, runs the loader and finds MCFG', async (t) => {
  const sys = new MemorySystem();
  const root = sys.container('system', 2 ** 32);
  root.addSubregion(sys.ram('pc.ram', 0x100000), 0);
  const ioRoot = sys.container('io', 0x10000);
  const mem = sys.addressSpace(root, 'memory');
  const io = sys.addressSpace(ioRoot, 'I/O');
  const fw = new FwCfgIo(sys, { dmaAs: mem });
  fw.map(ioRoot);
  let builds = 0;
  let pmBase = 0;
  const acpi = new AcpiFwCfgFiles(fw, () => {
    builds++;
    return buildMachineAcpi(q35Description({ ramSize: 128 << 20, pmBase }));
  });
  t.equal(builds, 1, 'built once at creation');
  t.same(fw.fileNames(), ['bios-geometry', 'bootorder', 'etc/acpi/rsdp', 'etc/acpi/tables', 'etc/boot-fail-wait', 'etc/table-loader']);
  pmBase = 0x600;
  const loader = readFile(io, mem, 'etc/table-loader');
  t.equal(builds, 2, 'rebuilt at the first select after reset');
  const tables = readFile(io, mem, 'etc/acpi/tables');
  const rsdp = readFile(io, mem, 'etc/acpi/rsdp');
  t.equal(builds, 2, 'not rebuilt by later selects');
  const walk = walkAcpi(runTableLoader(loader, { 'etc/acpi/tables': tables, 'etc/acpi/rsdp': rsdp }));
  const fadt = walk.tables.find((x) => x.sig === 'FACP')!;
  t.equal(fadt.bytes.readUInt32LE(56), 0x600, 'PM1a event block from the rebuilt description');
  const mcfg = walk.tables.find((x) => x.sig === 'MCFG')!;
  t.equal(Number(mcfg.bytes.readBigUInt64LE(44)), 0xb0000000);
  acpi.reset();
  readFile(io, mem, 'etc/acpi/rsdp');
  t.equal(builds, 3, 'rebuilt after a reset');
});

t.test('virt hand-off: the ACPI files sit behind the MMIO fw_cfg too', async (t) => {
  const sys = new MemorySystem();
  const root = sys.container('system', 2 ** 40);
  const mem = sys.addressSpace(root, 'memory');
  const fw = new FwCfgMem(sys, { dmaAs: mem });
  fw.map(root);
  new AcpiFwCfgFiles(fw, () => buildMachineAcpi(virtDescription({ ramSize: 128 << 20 })));
  t.equal(fw.file('etc/acpi/tables')!.length, 0x20000);
  t.equal(fw.file('etc/acpi/rsdp')!.length, 36);
  mem.writeBytes(VIRT_FW_CFG_BASE + 8, Uint8Array.of(0, fw.selectorOf('etc/acpi/rsdp')!));
  const r = mem.read(VIRT_FW_CFG_BASE, 8);
  t.equal(Buffer.from(Uint32Array.of(r.lo, r.hi).buffer).toString('latin1'), 'RSD PTR ');
});

t.test('writeFirmwareFiles: SIG.dat per table and machine.dtb; dumpDtb writes the blob', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'viommu-fw-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const virt = buildMachineFirmware(virtDescription({ ramSize: 128 << 20 }));
  const written = writeFirmwareFiles(join(dir, 'virt'), virt);
  t.same(written, ['DSDT.dat', 'FACP.dat', 'APIC.dat', 'GTDT.dat', 'MCFG.dat', 'IORT.dat', 'XSDT.dat', 'RSDP.dat', 'machine.dtb']);
  t.same(readdirSync(join(dir, 'virt')).sort(), [...written].sort());
  const mcfg = readFileSync(join(dir, 'virt', 'MCFG.dat'));
  t.equal(mcfg.reduce((a, b) => a + b, 0) & 0xff, 0, 'checksum filled');
  t.equal(readDtb(readFileSync(join(dir, 'virt', 'machine.dtb'))).version, 17);
  const ps = buildMachineFirmware(pseriesDescription({ ramSize: 512 << 20 }));
  t.equal(ps.acpi, undefined, 'pseries has no ACPI');
  t.same(writeFirmwareFiles(join(dir, 'ps'), ps), ['machine.dtb']);
  const q35 = buildMachineFirmware(q35Description({ ramSize: 128 << 20 }));
  t.equal(q35.dtb, undefined, 'q35 has no device tree');
  const file = join(dir, 'ps.dtb');
  t.equal(dumpDtb(file, ps.dtb!), `dtb dumped to ${file}. Exiting.`);
  t.same(readFileSync(file), Buffer.from(ps.dtb!));
});
