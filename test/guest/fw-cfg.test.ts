import t from 'tap';
import { fwCfgIo, fwCfgMmio } from '../../src/guest/fw/fw-cfg-regs.js';
import { FwCfgClient } from '../../src/guest/fw/fw-cfg.js';
import { PageAllocator } from '../../src/guest/page-alloc.js';
import { FakeFwCfg, loadRecordedFwCfg } from './fake/fw-cfg.js';
import { FakeMachine } from './fake/machine.js';
import { repoPath } from '../helpers/paths.js';

const recorded = (): ReturnType<typeof loadRecordedFwCfg> => loadRecordedFwCfg(repoPath('test/guest/data/q35-mcfg-edu.fwcfg.txt'));

function setup(kind: 'io' | 'mmio', dma: boolean) {
  const m = new FakeMachine(kind === 'io' ? 'q35' : 'virt');
  const dev = new FakeFwCfg(m, recorded(), dma);
  if (kind === 'io') m.io.push(dev.io());
  else m.addMmio(0x0902_0000, dev.mmio());
  const port = m.port();
  const mem = new PageAllocator(port.ramRanges, [{ base: 0, size: 0x1000 }]);
  const regs = kind === 'io' ? fwCfgIo(port)! : fwCfgMmio(port, 0x0902_0000);
  return { m, dev, port, mem, regs };
}

for (const kind of ['io', 'mmio'] as const) {
  t.test(`${kind}: the directory lists QEMU's files and a file reads back byte for byte`, async (t) => {
    const { dev, port, mem, regs } = setup(kind, true);
    const c = FwCfgClient.open(port, regs, mem);
    if (!c.ok) throw new Error(c.error);
    t.ok(c.value.hasDma, 'the DMA interface is detected by the feature bit and the "QEMU CFG" signature');
    t.same(c.value.files.map((f) => f.name), dev.files.map((f) => f.name));
    const f = c.value.find('etc/acpi/rsdp')!;
    t.same([f.select, f.size], [0x22, 20]);
    const data = c.value.readFile('etc/table-loader');
    if (!data.ok) throw new Error(data.error);
    t.same(Buffer.from(data.value), Buffer.from(dev.files.find((x) => x.name === 'etc/table-loader')!.data));
    t.ok(dev.dmaRequests.length > 0, 'the read went through FWCfgDmaAccess');
  });
}

t.test('without the DMA feature the client reads the data register byte by byte', async (t) => {
  const { dev, port, mem, regs } = setup('io', false);
  const c = FwCfgClient.open(port, regs, mem);
  if (!c.ok) throw new Error(c.error);
  t.notOk(c.value.hasDma);
  const r = c.value.readFile('etc/acpi/rsdp');
  t.ok(r.ok);
  t.equal(r.ok && String.fromCharCode(...r.value.subarray(0, 8)), 'RSD PTR ');
  t.equal(dev.dmaRequests.length, 0);
});

t.test('a missing device and a malformed directory are reported, not trusted', async (t) => {
  const m = new FakeMachine('q35');
  const port = m.port();
  const none = FwCfgClient.open(port, fwCfgIo(port)!);
  t.notOk(none.ok, 'no signature');
  t.match(!none.ok && none.error, /no signature/);
  const { dev, port: p2, mem, regs } = setup('io', false);
  dev.files[0] = { name: 'x'.repeat(60), select: 0x20, data: new Uint8Array(1) };
  const bad = FwCfgClient.open(p2, regs, mem);
  t.notOk(bad.ok);
  t.match(!bad.ok && bad.error, /not NUL-terminated/, 'a 56-byte name without its terminator');
});

t.test('writes into a writable file go through DMA with SELECT, SKIP and WRITE', async (t) => {
  const { dev, port, mem, regs } = setup('io', true);
  dev.files.push({ name: 'etc/test-wr', select: 0x40, data: new Uint8Array(16), writable: true });
  const c = FwCfgClient.open(port, regs, mem);
  if (!c.ok) throw new Error(c.error);
  t.ok(c.value.writeFile('etc/test-wr', 4, Uint8Array.from([1, 2, 3])).ok);
  t.same([...dev.files.at(-1)!.data.subarray(0, 8)], [0, 0, 0, 0, 1, 2, 3, 0]);
  t.notOk(c.value.writeFile('etc/test-wr', 15, Uint8Array.from([1, 2])).ok, 'past the end of the file');
  t.notOk(c.value.writeFile('etc/acpi/rsdp', 0, Uint8Array.from([1])).ok, 'a read-only file: the device reports an error');
});
