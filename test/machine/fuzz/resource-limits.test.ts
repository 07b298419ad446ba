import t from 'tap';
import { VirtualClock } from '../../../src/base/clock.js';
import { EVENT_LOG_MAX_LINES, EventLog } from '../../../src/base/event-log.js';
import { makeFuzzTarget } from '../../../src/machine/fuzz/run.js';
import { FakeConnection } from '../../../src/machine/fuzz/targets/stream.js';
import { loadMachineConfig } from '../../../src/machine/load-config.js';
import { Machine } from '../../../src/machine/machine.js';
import { MachineQmpBackend } from '../../../src/machine/qmp-backend.js';
import { JsonStream, MAX_MESSAGE_BYTES } from '../../../src/machine/qmp/json.js';
import { QmpServer } from '../../../src/machine/qmp/server.js';
import { QTEST_MAX_HEX_READ, QTEST_MAX_LINE, QtestSession } from '../../../src/machine/qtest/session.js';

// Each allocation a guest or a control client controls has a cap and a
// defined failure (RELIABILITY.md "Resource caps").

function qtest(maxLine?: number) {
  const m = Machine.create(loadMachineConfig(['--', '-M', 'q35', '-device', 'edu']));
  const out: string[] = [];
  const s = new QtestSession(m, (x) => out.push(x), undefined, maxLine);
  return { s, out };
}

t.test('qtest: a line past the cap gets one ERR, its rest is dropped, the session goes on', async (t) => {
  t.equal(QTEST_MAX_LINE, 1 << 28, 'the documented default');
  const { s, out } = qtest(1024);
  s.feed('readl 0x'.padEnd(1000, '0'));
  s.feed('0'.repeat(100));
  t.same(out, ['ERR line too long (the limit is 1024 bytes)\n'], 'one error, as soon as the cap is passed');
  s.feed('0'.repeat(5000));
  s.feed('00\nendianness\n');
  t.same(out.slice(1), ['OK little\n'], 'the rest of the long line was dropped; the next line is answered');
  s.feed(`readl ${'0'.repeat(2000)}\n`);
  t.match(out[2], /^ERR line too long/, 'a complete over-long line in one chunk: ERR too');
});

t.test('qtest: a word of ten million digits is answered at once (range checked before parsing)', async (t) => {
  const { s, out } = qtest();
  s.feed(`readl ${'9'.repeat(10_000_000)}\n`);
  t.match(out[0], /^ERR readl: bad address '9{64}\.\.\. \(10000000 characters\)'\n$/);
  s.feed(`readl 0x${'0'.repeat(1_000_000)}1000\n`);
  t.match(out[1], /^OK 0x[0-9a-f]{16}\n$/, 'leading zeros of any length still parse (strtoull takes them)');
});

t.test('qtest: read answers in hex, so it stops at QTEST_MAX_HEX_READ (the answer must fit a string); b64read keeps 2^28', async (t) => {
  const { s, out } = qtest();
  s.feed(`read 0 ${QTEST_MAX_HEX_READ + 1}\n`);
  t.equal(out[0], `ERR read: bad size ${QTEST_MAX_HEX_READ + 1}\n`);
  s.feed('read 0x1000 4\n');
  t.match(out[1], /^OK 0x[0-9a-f]{8}\n$/);
});

t.test('QMP: a message past MAX_MESSAGE_BYTES is refused and the connection stays usable', async (t) => {
  const m = Machine.create(loadMachineConfig(['--', '-M', 'q35']));
  const server = new QmpServer(new MachineQmpBackend(m), () => undefined);
  const c = new FakeConnection();
  server.attach(c);
  c.send('{"execute":"qmp_capabilities"}\r\n');
  c.take();
  // One string token arriving in 1 MiB chunks (lexed once, not again at every chunk), until the cap refuses it.
  const chunk = 'a'.repeat(1 << 20);
  c.send('["');
  let replies = '';
  for (let sent = 0; sent <= MAX_MESSAGE_BYTES + chunk.length && !replies; sent += chunk.length) {
    c.send(chunk);
    replies = c.take();
  }
  t.match(replies, /JSON message too large/, 'the over-long message is refused');
  c.send('\r\n{"execute":"query-status","id":1}\r\n');
  t.match(c.take(), /"return": \{.*"status": "running".*"id": 1/s, 'the next command is answered');
});

t.test('virtio-iommu: MAP past x-max-mappings answers NOMEM through the virtqueue; the count stays at the cap', async (t) => {
  const target = makeFuzzTarget('virtio');
  const variant = target.variants.find((v) => v.name === 'q35-virtio-iommu-caps')!;
  const ops = [
    { k: 'req', t: 1, dom: 3, ep: 0x8, flags: 0, vs: '0x0', ve: '0x0', ps: '0x0', outAdj: 0, inLen: 4 },
    ...Array.from({ length: 20 }, (_, i) => ({ k: 'req', t: 3, dom: 3, ep: 0, flags: 3, vs: `0x${(i * 0x1000).toString(16)}`, ve: `0x${(i * 0x1000 + 0xfff).toString(16)}`, ps: '0x200000', outAdj: 0, inLen: 4 })),
  ];
  const out = await target.run({ variant, ops });
  t.equal(out.failure, undefined, 'no oracle objects (the resource oracle checks the cap after every op)');
  t.ok(out.features.has('req:3:0'), 'maps below the cap: OK');
  t.ok(out.features.has('req:3:8'), 'maps past the cap: VIRTIO_IOMMU_S_NOMEM (8)');
});

t.test('the event log keeps at most EVENT_LOG_MAX_LINES lines (oldest dropped, counted)', async (t) => {
  const log = new EventLog(new VirtualClock(), 1000);
  let seen = 0;
  log.sink = () => void seen++;
  for (let i = 0; i < 2500; i++) log.info('dev', `fault ${i}`);
  t.ok(log.lines.length <= 1000);
  t.equal(log.lines.length + log.dropped, 2500, 'every line is kept or counted');
  t.equal(log.lines.at(-1)!.text, 'fault 2499', 'the newest lines are kept');
  t.equal(seen, 2500, 'the sink sees every line');
  t.equal(EVENT_LOG_MAX_LINES, 100_000, 'the documented default');
});

t.test('QMP JSON: a string token cut anywhere (inside escapes too) parses the same when resumed', async (t) => {
  const text = '{"execute": "human-monitor-command", "arguments": {"command-line": "a\\\\b\\u00e9\\"c\'d"}}\n';
  const whole = new JsonStream().feed(text);
  for (let cut = 1; cut < text.length; cut++) {
    const s = new JsonStream();
    const got = [...s.feed(text.slice(0, cut)), ...s.feed(text.slice(cut))];
    t.same(got, whole, `cut at ${cut}`);
  }
});
