import t from 'tap';
import { loadAcpi } from '../../src/guest/fw/acpi-load.js';
import { parseMadt, MADT_IOAPIC, MADT_LAPIC, MADT_GICD } from '../../src/guest/fw/acpi/madt.js';
import { ecamAddress, parseMcfg } from '../../src/guest/fw/acpi/mcfg.js';
import { AcpiParsers } from '../../src/guest/fw/acpi/registry.js';
import { checkSdt } from '../../src/guest/fw/acpi/sdt.js';
import { parseRsdp } from '../../src/guest/fw/acpi/rsdp.js';
import { walkAcpi } from '../../src/guest/fw/acpi/walk.js';
import { fwCfgIo, fwCfgMmio } from '../../src/guest/fw/fw-cfg-regs.js';
import { FwCfgClient } from '../../src/guest/fw/fw-cfg.js';
import { GuestKernel } from '../../src/guest/kernel.js';
import { IOMMU_DOMAIN_DMA_FQ } from '../../src/guest/iommu-core/domain-types.js';
import { DEFAULT_DMA_API } from '../../src/guest/dma/dma-api.js';
import { ByteView, byteSum } from '../../src/guest/util/bytes.js';
import { fail, ok, parseWith, ParseError } from '../../src/guest/util/result.js';
import { fakeQ35, fakeVirt } from './fake/boards.js';

function kernelFor(port: ReturnType<ReturnType<typeof fakeQ35>['m']['port']>): GuestKernel {
  return new GuestKernel(port, { defaultDomainType: IOMMU_DOMAIN_DMA_FQ, iommuDma: true, regress: [], dma: DEFAULT_DMA_API }, new AcpiParsers());
}

function loadQ35(data?: string) {
  const b = fakeQ35(data ? { fwcfg: data } : {});
  const port = b.m.port();
  const k = kernelFor(port);
  const fw = FwCfgClient.open(port, fwCfgIo(port)!, k.mem);
  if (!fw.ok) throw new Error(fw.error);
  const w = loadAcpi(k, fw.value);
  if (!w.ok) throw new Error(w.error);
  return { b, port, k, walk: w.value };
}

t.test('q35 (QEMU 7.2): RSDP revision 0 -> RSDT -> tables, with MCFG at 0xb0000000 and the MADT', async (t) => {
  const { walk } = loadQ35();
  t.equal(walk.rsdp.revision, 0);
  t.equal(walk.root.signature, 'RSDT');
  t.same(walk.tables.map((x) => x.signature), ['FACP', 'DSDT', 'APIC', 'HPET', 'MCFG', 'WAET'], 'the DSDT is reached through the FADT');
  t.same(walk.errors, []);
  const mcfg = parseMcfg(walk.tables.find((x) => x.signature === 'MCFG')!);
  t.same(mcfg.ok && mcfg.value, [{ base: 0xb000_0000, segment: 0, startBus: 0, endBus: 255 }]);
  t.equal(ecamAddress({ base: 0xb000_0000, segment: 0, startBus: 0, endBus: 255 }, 1, 0x10, 0x100), 0xb010_0000 + 0x10000 + 0x100);
  const madt = parseMadt(walk.tables.find((x) => x.signature === 'APIC')!);
  if (!madt.ok) throw new Error(madt.error);
  t.equal(madt.value.localApicAddress, 0xfee0_0000);
  const io = madt.value.entries.find((e) => e.type === MADT_IOAPIC);
  t.same(io && 'address' in io && [io.address, io.gsiBase], [0xfec0_0000, 0]);
  t.ok(madt.value.entries.some((e) => e.type === MADT_LAPIC));
});

t.test('q35 without MMCONFIG enabled: no MCFG in the tables', async (t) => {
  const { walk } = loadQ35('q35-edu.fwcfg.txt');
  t.notOk(walk.tables.some((x) => x.signature === 'MCFG'));
});

t.test('virt (QEMU 7.2): RSDP revision 2 -> XSDT, MCFG at 0x4010000000, GICD in the MADT, IORT present', async (t) => {
  const b = fakeVirt();
  const port = b.m.port();
  const k = kernelFor(port);
  const fw = FwCfgClient.open(port, fwCfgMmio(port, 0x0902_0000), k.mem);
  if (!fw.ok) throw new Error(fw.error);
  const w = loadAcpi(k, fw.value);
  if (!w.ok) throw new Error(w.error);
  t.equal(w.value.rsdp.revision, 2);
  t.equal(w.value.root.signature, 'XSDT');
  t.ok(w.value.tables.some((x) => x.signature === 'IORT'));
  const mcfg = parseMcfg(w.value.tables.find((x) => x.signature === 'MCFG')!);
  t.same(mcfg.ok && mcfg.value[0], { base: 0x40_1000_0000, segment: 0, startBus: 0, endBus: 255 });
  const madt = parseMadt(w.value.tables.find((x) => x.signature === 'APIC')!);
  t.ok(madt.ok && madt.value.entries.some((e) => e.type === MADT_GICD && 'base' in e && e.base === 0x0800_0000));
});

t.test('a table with a bad checksum is reported and left out; the others are used', async (t) => {
  const { port, walk } = loadQ35();
  const hpet = walk.tables.find((x) => x.signature === 'HPET')!;
  port.write(hpet.addr + 20, 1, 0x5a);
  const again = walkAcpi(port, walk.rsdp.addr);
  if (!again.ok) throw new Error(again.error);
  t.notOk(again.value.tables.some((x) => x.signature === 'HPET'));
  t.match(again.value.errors.join('\n'), /HPET.*bad checksum/);
  t.ok(again.value.tables.some((x) => x.signature === 'MCFG'));
});

t.test('RSDP and header checks', async (t) => {
  const rsdp = new Uint8Array(20);
  rsdp.set([...'RSD PTR '].map((c) => c.charCodeAt(0)));
  t.match((parseRsdp(rsdp, 0) as { error: string }).error, /bad checksum/);
  rsdp[8] = (0x100 - byteSum(rsdp)) & 0xff;
  t.ok(parseRsdp(rsdp, 0).ok);
  rsdp[15] = 2;
  rsdp[8] = (rsdp[8]! - 2) & 0xff;
  t.match((parseRsdp(rsdp, 0) as { error: string }).error, /revision 2 but only 20 bytes/);
  const tbl = new Uint8Array(40);
  tbl.set([...'MCFG'].map((c) => c.charCodeAt(0)));
  new DataView(tbl.buffer).setUint32(4, 60, true);
  t.match((checkSdt(tbl, 0x1000) as { error: string }).error, /length 60 runs past/);
  new DataView(tbl.buffer).setUint32(4, 20, true);
  t.match((checkSdt(tbl, 0x1000) as { error: string }).error, /shorter than its header/);
});

t.test('MCFG and MADT bounds: malformed bodies are rejected', async (t) => {
  const mk = (sig: string, body: number[]): Parameters<typeof parseMcfg>[0] => {
    const bytes = new Uint8Array(36 + body.length);
    bytes.set([...sig].map((c) => c.charCodeAt(0)));
    bytes.set(body, 36);
    return { signature: sig, addr: 0, length: bytes.length, revision: 1, oemId: '', oemTableId: '', bytes };
  };
  t.match((parseMcfg(mk('MCFG', new Array(8 + 10).fill(0))) as { error: string }).error, /whole 16-byte allocations/);
  const rev = new Array(8 + 16).fill(0);
  rev[8 + 3] = 0xb0;
  rev[8 + 10] = 5;
  rev[8 + 11] = 2;
  t.match((parseMcfg(mk('MCFG', rev)) as { error: string }).error, /end bus 2 below start bus 5/);
  t.match((parseMadt(mk('APIC', [0, 0, 0xe0, 0xfe, 0, 0, 0, 0, 1, 40, 0, 0])) as { error: string }).error, /past the table end/);
  t.match((parseMadt(mk('APIC', [0, 0, 0xe0, 0xfe, 0, 0, 0, 0, 1, 6, 0, 0, 0, 0])) as { error: string }).error, /too short for its type/);
});

t.test('the parser registry: later issues add their tables; a failing parser is reported', async (t) => {
  const { walk } = loadQ35();
  const p = new AcpiParsers();
  const waet = p.register('WAET', (tb) => parseWith('WAET', () => new ByteView(tb.bytes).u32le(36)));
  const hpet = p.register('HPET', () => fail<number>('HPET: not today'));
  const never = p.register('DMAR', (tb) => ok(tb.length));
  p.parseAll(walk.tables);
  t.same(p.get(waet), [2], 'WAET flags');
  t.same(p.get(hpet), []);
  t.same(p.get(never), [], 'no DMAR on plain q35');
  t.same(p.errors, ['HPET: not today']);
  const boom = new AcpiParsers();
  const k = boom.register('WAET', (tb) => ok(new ByteView(tb.bytes).u32le(1000)));
  boom.parseAll(walk.tables);
  t.same(boom.get(k), []);
  t.match(boom.errors[0], /WAET: .*offset 1000/, 'a read past the table in a parser becomes an error value');
  t.throws(() => new AcpiParsers().register('TOOLONG', () => ok(1)));
  t.ok(ParseError);
});
