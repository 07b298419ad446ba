import t from 'tap';
import { bswap32 } from '../../src/memory/bswap.js';
import { parseCmdline } from '../../src/machine/cmdline.js';
import { PseriesBoard } from '../../src/machine/boards/pseries/pseries.js';
import { FakeConnection } from '../../src/machine/fuzz/targets/stream.js';
import { Machine } from '../../src/machine/machine.js';
import { MachineQmpBackend } from '../../src/machine/qmp-backend.js';
import { QmpServer } from '../../src/machine/qmp/server.js';

// The DRC behaviours QEMU 7.2 shows are replayed from its transcript
// (data/qtest/pseries-hotplug.txt); these are the ones a qtest session cannot
// reach: machine reset, cold-plugged devices, the queue bound, short buffers.

const CHECK_EXCEPTION = 0x200e;
const SET_INDICATOR = 0x201a;
const GET_SENSOR_STATE = 0x201d;
const CONFIGURE_CONNECTOR = 0x201e;
const LOG = 0x100000;
const WA = 0x200000;

function setup(extra: string[] = []) {
  const m = Machine.create(parseCmdline(['-M', 'pseries', '-nodefaults', ...extra]).config);
  const b = m.board as PseriesBoard;
  const conn = new FakeConnection();
  new QmpServer(new MachineQmpBackend(m), () => undefined).attach(conn);
  conn.send('{"execute": "qmp_capabilities"}');
  conn.out.length = 0;
  const qmp = (json: string): string[] => {
    conn.send(json);
    return conn.out.splice(0).flatMap((c) => c.split('\r\n').filter(Boolean));
  };
  const rtas = (token: number, args: number[], nret = 1) => b.rtas.callWithArrays(token, args, nret);
  const checkException = (len = 2048) => rtas(CHECK_EXCEPTION, [0x500, 0x1001, 0x10000000, 0, LOG, len])[0];
  const configureFully = (index: number): number[] => {
    m.systemAs.write(WA, 4, bswap32(index));
    const steps: number[] = [];
    for (let i = 0; i < 64; i++) {
      const r = rtas(CONFIGURE_CONNECTOR, [WA, 0])[0]!;
      steps.push(r);
      if (r <= 0) break;
    }
    return steps;
  };
  return { m, b, qmp, rtas, checkException, configureFully };
}

t.test('a cold-plugged function is attached and configured; its removal completes when the guest isolates it', async (t) => {
  const { b, qmp, rtas, checkException } = setup(['-device', 'edu,id=e0,addr=2']);
  const drc = b.phbHotplug.drcByIndex(0x40000010)!;
  t.equal(drc.state, 'configured', 'ready as after spapr_drc_reset');
  t.equal(rtas(GET_SENSOR_STATE, [9003, 0x40000010], 2)[1], 1, 'present');
  t.same(qmp('{"execute": "device_del", "arguments": {"id": "e0"}}'), ['{"return": {}}'], 'a request, nothing removed yet');
  t.equal(checkException(), 0, 'a remove event is queued');
  t.equal(rtas(SET_INDICATOR, [9001, 0x40000010, 0])[0], 0, 'isolate');
  t.equal(drc.dev, undefined, 'released');
  const after = qmp('{"execute": "query-pci"}');
  t.match(after[0], /"DEVICE_DELETED".*"e0"/, 'DEVICE_DELETED was sent at the isolate');
  t.match(after[1], /"devices": \[\]/);
});

t.test('system_reset completes a pending removal and drops queued events; a hot-added device is ready after reset', async (t) => {
  const { m, b, qmp, rtas, checkException, configureFully } = setup();
  qmp('{"execute": "device_add", "arguments": {"driver": "edu", "id": "e1", "addr": "3"}}');
  qmp('{"execute": "device_add", "arguments": {"driver": "edu", "id": "e2", "addr": "4"}}');
  for (const idx of [0x40000018, 0x40000020]) {
    t.equal(rtas(SET_INDICATOR, [9001, idx, 1])[0], 0);
    t.equal(configureFully(idx).at(-1), 0, 'configure-connector ends with SUCCESS');
  }
  t.same(qmp('{"execute": "device_del", "arguments": {"id": "e1"}}'), ['{"return": {}}']);
  const lines = qmp('{"execute": "system_reset"}');
  t.equal(lines[0], '{"return": {}}');
  t.match(lines.slice(1).join('\n'), /"DEVICE_DELETED".*"e1"[^]*"RESET"/, 'the pending removal completed at reset, then RESET');
  t.equal(checkException(), 1, 'no event survives the reset');
  t.equal(b.phbHotplug.drcByIndex(0x40000020)!.state, 'configured', 'e2 is ready as if cold-plugged');
  t.equal(m.devicesById.has('e2'), true);
});

t.test('hot-plugging a bridge is refused and leaves nothing behind', async (t) => {
  const { qmp, b } = setup();
  const r = qmp('{"execute": "device_add", "arguments": {"driver": "pci-bridge", "id": "br0", "chassis_nr": 1, "addr": "5"}}');
  t.match(r[0], /hot-plugging a PCI bridge on pseries is not modelled/);
  t.equal(r.length, 1, 'no DEVICE_DELETED for a device that never was');
  t.ok(b.phbHotplug.drcByIndex(0x40000028)!.dev === undefined, 'the connector is empty');
  t.same(qmp('{"execute": "device_add", "arguments": {"driver": "edu", "id": "e5", "addr": "5"}}'), ['{"return": {}}'], 'the slot is free');
});

t.test('check-exception writes no more than the buffer length; argument errors are -3', async (t) => {
  const { m, qmp, rtas, checkException } = setup();
  m.systemAs.writeBytes(LOG, new Uint8Array(128).fill(0xaa));
  qmp('{"execute": "device_add", "arguments": {"driver": "edu", "id": "e1", "addr": "3"}}');
  t.equal(checkException(16), 0);
  const buf = new Uint8Array(32);
  m.systemAs.readBytes(LOG, buf);
  t.equal(buf[15], 0x00, 'the 16th byte is the log');
  t.equal(buf[16], 0xaa, 'the 17th is untouched');
  t.equal(rtas(CHECK_EXCEPTION, [0, 0, 0x10000000, 0, LOG])[0], -3, 'five arguments');
  t.equal(rtas(0x200f, [0x10000000, 0, LOG, 2048])[0], 1, 'event-scan: nothing pending');
});

t.test('the event queue is bounded: a device_add/device_del loop with no guest keeps at most 4096 events', async (t) => {
  const { b, qmp, checkException } = setup();
  for (let i = 0; i < 4100; i++) {
    qmp('{"execute": "device_add", "arguments": {"driver": "edu", "id": "e", "addr": "3"}}');
    qmp('{"execute": "device_del", "arguments": {"id": "e"}}');
  }
  let n = 0;
  while (checkException() === 0) n++;
  t.equal(n, 4096, 'the oldest 4096 add events');
  t.equal(b.phbHotplug.drcByIndex(0x40000018)!.dev, undefined, 'each removal completed at once (never configured)');
});
