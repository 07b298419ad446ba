import { mkdtempSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parseCmdline } from '../../src/machine/cmdline.js';
import { Machine } from '../../src/machine/machine.js';
import { startQtestServer } from '../../src/machine/qtest/server.js';
import { QtestSession } from '../../src/machine/qtest/session.js';

function session(...args: string[]) {
  const m = Machine.create(parseCmdline(args).config);
  const out: string[] = [];
  const s = new QtestSession(m, (text) => out.push(...text.split('\n').filter(Boolean)));
  const ask = (line: string) => {
    out.length = 0;
    s.feed(line + '\n');
    return out.join(' | ');
  };
  return { m, ask };
}

t.test('bad arguments get ERR and the server stays up', async (t) => {
  const { ask } = session('-M', 'q35', '-device', 'edu');
  t.equal(ask('readl'), 'ERR readl: missing address');
  t.equal(ask('readl zz'), "ERR readl: bad address 'zz'");
  t.equal(ask('outb 0x10000 1'), 'ERR outb: port 65536 is above 0xffff');
  t.equal(ask('read 0 0'), 'ERR read: bad size 0');
  t.equal(ask(''), 'ERR empty command');
  t.equal(ask('clock_step 1x'), "ERR clock_step: bad nanoseconds '1x'");
  t.equal(ask('rtas ibm,read-pci-config 4 0 2 0'), "FAIL Unknown command 'rtas'");
  t.equal(ask('write 0 2 0'), 'ERR invalid argument size');
  t.equal(ask('readl 0xfffffffffffffffc'), 'OK 0x0000000000000000', 'a 64-bit address is fine');
  t.equal(ask('inl 0xcfc'), 'OK 0xffffffff', 'and the session still answers');
});

t.test('the clock moves only on clock_step / clock_set, firing timers on the way', async (t) => {
  const { ask, m } = session('-M', 'q35', '-device', 'edu');
  t.equal(ask('clock_step'), 'OK 0', 'no timer armed: no move');
  t.equal(ask('clock_step 1500000'), 'OK 1500000');
  ask('outl 0xcf8 0x80000810');
  ask('outl 0xcfc 0xfea00000');
  ask('outl 0xcf8 0x80000804');
  ask('outw 0xcfc 0x6');
  ask('writeq 0xfea00098 1');
  t.equal(m.clock.nextDeadline(), 101_000_000, 'edu arms a millisecond timer: (1 ms + 100 ms)');
  t.equal(ask('clock_step'), 'OK 101000000', 'clock_step with no argument goes to the next deadline');
  t.equal(ask('readq 0xfea00098'), 'OK 0x0000000000000000');
  t.equal(ask('clock_set 50'), 'OK 101000000', 'clock_set never goes back');
  t.equal(ask('clock_set 200000000'), 'OK 200000000');
  t.equal(ask('clock_step -5'), 'OK 200000000');
});

t.test('pseries rtas through guest memory, big-endian words', async (t) => {
  const { ask } = session('-M', 'pseries', '-device', 'edu');
  ask('writel 0x8000000 0');
  ask('writel 0x8000004 0x08000000');
  ask('writel 0x8000008 0x20000000');
  ask('writel 0x800000c 4');
  t.equal(ask('rtas ibm,read-pci-config 4 0x8000000 2 0x8000100'), 'OK 0');
  t.equal(ask('readl 0x8000104'), 'OK 0x0000000011e81234');
  t.equal(ask('read 0x8000104 4'), 'OK 0x11e81234', 'stored big-endian');
  t.equal(ask('rtas nosuch 0 0 0 0'), 'OK 18446744073709551612');
});

t.test('the server speaks over a unix socket, one client after another', async (t) => {
  const m = Machine.create(parseCmdline(['-M', 'q35', '-device', 'edu']).config);
  const path = join(mkdtempSync(join(tmpdir(), 'viommu-qtest-')), 'qtest.sock');
  const srv = startQtestServer(m, { kind: 'unix', path, server: true, wait: false }, { log: 'none' });
  await srv.ready;
  const talk = (lines: string[]) => new Promise<string>((resolve) => {
    const c = createConnection(path);
    let buf = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => {
      buf += d;
      if (buf.split('\n').length > lines.length) c.end();
    });
    // The server serves one client at a time: let it see this one go first.
    c.on('close', () => setTimeout(() => resolve(buf), 50));
    c.write(lines.map((l) => l + '\n').join(''));
  });
  t.equal(await talk(['outl 0xcf8 0x80000800', 'inl 0xcfc']), 'OK\nOK 0x11e81234\n');
  t.equal(await talk(['endianness']), 'OK little\n');
  srv.close();
});
