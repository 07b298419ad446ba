import t from 'tap';
import { parseCmdline } from '../../src/machine/cmdline.js';
import { Machine } from '../../src/machine/machine.js';
import { RTAS_IBM_READ_PCI_CONFIG, RTAS_IBM_WRITE_PCI_CONFIG } from '../../src/machine/boards/pseries/rtas.js';
import type { GuestPort } from '../../src/guest/port.js';

const port = (...args: string[]): GuestPort => Machine.create(parseCmdline(args).config).guestPort();
const BUID_HI = 0x08000000;
const BUID_LO = 0x20000000;

/** Config reads the way each board's firmware interface offers them. */
function cfgReader(g: GuestPort): (bus: number, devfn: number, off: number) => number {
  if (g.board === 'q35') {
    return (bus, devfn, off) => {
      g.io!.out(0xcf8, 4, (0x80000000 | (bus << 16) | (devfn << 8) | off) >>> 0);
      return g.io!.in(0xcfc, 4);
    };
  }
  if (g.board === 'virt') return (bus, devfn, off) => g.read(0x4010000000 + ((bus << 20) | (devfn << 12) | off), 4).lo;
  return (bus, devfn, off) => {
    const r = g.rtas!(RTAS_IBM_READ_PCI_CONFIG, [(bus << 16) | (devfn << 8) | off, BUID_HI, BUID_LO, 4], 2);
    return r[0] === 0 ? r[1]! >>> 0 : 0xffffffff;
  };
}

function scan(g: GuestPort, bus: number): string[] {
  const rd = cfgReader(g);
  const found: string[] = [];
  for (let devfn = 0; devfn < 256; devfn++) {
    const id = rd(bus, devfn, 0);
    if (id !== 0xffffffff) found.push(`${devfn.toString(16)}:${id.toString(16)}`);
  }
  return found;
}

t.test('each board enumerates through its own config mechanism', async (t) => {
  t.same(scan(port('-M', 'q35', '-device', 'edu'), 0), ['0:29c08086', '8:11e81234', 'f8:29188086', 'fa:29228086', 'fb:29308086']);
  t.same(scan(port('-M', 'virt', '-device', 'edu'), 0), ['0:81b36', '8:11e81234']);
  t.same(scan(port('-M', 'pseries', '-device', 'edu'), 0), ['0:11e81234']);
});

t.test('RTAS answers QEMU\'s status codes through the GuestPort', async (t) => {
  const g = port('-M', 'pseries', '-device', 'edu');
  t.same(g.rtas!(RTAS_IBM_READ_PCI_CONFIG, [0x000, BUID_HI, BUID_LO, 4], 2), [0, 0x11e81234]);
  t.same(g.rtas!(RTAS_IBM_READ_PCI_CONFIG, [0x002, BUID_HI, BUID_LO, 4], 2), [-1, 0], 'unaligned');
  t.same(g.rtas!(RTAS_IBM_READ_PCI_CONFIG, [0x000, 0, 0, 4], 2), [-1, 0], 'unknown BUID');
  t.same(g.rtas!(RTAS_IBM_WRITE_PCI_CONFIG, [0x010, BUID_HI, BUID_LO, 4, 0xffffffff], 1), [0]);
  t.same(g.rtas!(RTAS_IBM_READ_PCI_CONFIG, [0x010, BUID_HI, BUID_LO, 4], 2), [0, 0xfff00000 | 0]);
  t.same(g.rtas!(0x2999, [], 1), [-3], 'unknown token');
  t.same(g.hcall!(0x20, [0n]), { ret: -4n, out: [] }, 'H_PUT_TCE on an unknown LIOBN: H_PARAMETER');
  t.same(g.hcall!(0x999, [0n]), { ret: -2n, out: [] }, 'an opcode nobody registered: H_FUNCTION');
});

t.test('interrupts and time reach the guest: INTx lines, MSI writes, timers on advance()', async (t) => {
  const g = port('-M', 'q35', '-device', 'edu');
  const lines: string[] = [];
  const msis: string[] = [];
  g.onIrqLine((n, l) => lines.push(`${n}=${l}`));
  g.onMsi((a, d) => msis.push(`${a.toString(16)}:${d.toString(16)}`));
  const cfg = (off: number, v: number, size: number) => {
    g.io!.out(0xcf8, 4, 0x80000800 | (off & 0xfc));
    g.io!.out(0xcfc + (off & 3), size, v);
  };
  cfg(0x10, 0xfea00000, 4);
  cfg(0x04, 0x6, 2);
  t.ok(g.write(0xfea00060, 4, 1));
  t.ok(g.write(0xfea00064, 4, 1));
  t.same(lines, ['21=1', '21=0'], 'edu INTA on GSI 21');
  cfg(0x44, 0xfee00000, 4);
  cfg(0x4c, 0x4041, 4);
  cfg(0x42, 0x1, 2);
  t.ok(g.write(0xfea00098, 4, 0x7));
  t.same(msis, []);
  g.advance(99_000_000);
  t.same(msis, [], 'the DMA is not done before 100 ms');
  g.advance(1_000_000);
  t.same(msis, ['fee00000:4041'], 'completion IRQ as an MSI through the bus-master address space');
  t.equal(g.now(), 100_000_000);
  t.same(g.ramRanges, [{ base: 0, size: 128 * 2 ** 20 }]);
});
