import t from 'tap';
import { QmpServer } from '../../../src/machine/qmp/index.js';
import { FakeBackend, FakeConnection } from './fake.js';

function setup() {
  const backend = new FakeBackend();
  let quits = 0;
  const server = new QmpServer(backend, () => quits++);
  const conn = new FakeConnection();
  server.attach(conn);
  return { backend, server, conn, quits: () => quits };
}

// Expected texts were recorded from QEMU 7.2.22 (Debian) with
// `qemu-system-x86_64 -M q35 -nodefaults -display none -qmp stdio`.
t.test('greeting, negotiation and the errors around it', async (t) => {
  const { conn } = setup();
  t.same(conn.take(), ['{"QMP": {"version": {"qemu": {"micro": 0, "minor": 1, "major": 0}, "package": "viommu-test"}, "capabilities": []}}']);
  conn.send('{"execute": "query-status"}\n');
  t.same(conn.take(), ['{"error": {"class": "CommandNotFound", "desc": "Expecting capabilities negotiation with \'qmp_capabilities\'"}}']);
  conn.send('{"execute": "qmp_capabilities"}\n{"execute": "qmp_capabilities"}\n');
  t.same(conn.take(), [
    '{"return": {}}',
    '{"error": {"class": "CommandNotFound", "desc": "Capabilities negotiation is already complete, command ignored"}}',
  ]);
});

t.test('ids are echoed, any JSON value', async (t) => {
  const { conn } = setup();
  conn.take();
  conn.send('{"execute": "qmp_capabilities", "id": 1}');
  conn.send('{"execute": "query-status", "id": {"a": [1]}}');
  t.same(conn.take(), [
    '{"return": {}, "id": 1}',
    '{"return": {"status": "running", "singlestep": false, "running": true}, "id": {"a": [1]}}',
  ]);
});

t.test('garbage gets QEMU\'s errors and the connection stays usable', async (t) => {
  const { conn } = setup();
  conn.take();
  conn.send('{"execute": "qmp_capabilities"}\n');
  conn.take();
  const cases: [string, string][] = [
    ['garbage\n', '{"error": {"class": "GenericError", "desc": "JSON parse error, invalid keyword \'garbage\'"}}'],
    ['{"execute" "x"}\n', '{"error": {"class": "GenericError", "desc": "JSON parse error, missing : in object pair"}}'],
    ['}\n', '{"error": {"class": "GenericError", "desc": "JSON parse error, expecting value"}}'],
    ['"str"\n', '{"error": {"class": "GenericError", "desc": "QMP input must be a JSON object"}}'],
    ['[1,2]\n', '{"error": {"class": "GenericError", "desc": "QMP input must be a JSON object"}}'],
    ['{"execute": 1}\n', '{"error": {"class": "GenericError", "desc": "QMP input member \'execute\' must be a string"}}'],
    ['{"execute": "query-status", "arguments": 1}\n', '{"error": {"class": "GenericError", "desc": "QMP input member \'arguments\' must be an object"}}'],
    ['{"execute": "query-status", "arguments": {"x": 1}}\n', '{"error": {"class": "GenericError", "desc": "Parameter \'x\' is unexpected"}}'],
    ['{"exec": "x"}\n', '{"error": {"class": "GenericError", "desc": "QMP input member \'exec\' is unexpected"}}'],
    ['{"execute": "nosuch"}\n', '{"error": {"class": "CommandNotFound", "desc": "The command nosuch has not been found"}}'],
    ['{"execute": "device_del", "arguments": {"id": 5}}\n', '{"error": {"class": "GenericError", "desc": "Invalid parameter type for \'id\', expected: string"}}'],
    ['{"execute": "device_del"}\n', '{"error": {"class": "GenericError", "desc": "Parameter \'id\' is missing"}}'],
    ['{"execute": "device_del", "arguments": {"id": "nope"}}\n', '{"error": {"class": "DeviceNotFound", "desc": "Device \'nope\' not found"}}'],
    ['{"execute": "device_add", "arguments": {"bus": "rp2"}}\n', '{"error": {"class": "GenericError", "desc": "Parameter \'driver\' is missing"}}'],
    ['{"execute": "device_add", "arguments": {"driver": "nosuch"}}\n', '{"error": {"class": "GenericError", "desc": "\'nosuch\' is not a valid device model name"}}'],
    ["{'execute': 'query-status'}\n", '{"return": {"status": "running", "singlestep": false, "running": true}}'],
    ['{"execute": \n "query-version"}\n', '{"return": {"qemu": {"micro": 0, "minor": 1, "major": 0}, "package": "viommu-test"}}'],
  ];
  for (const [input, expected] of cases) {
    conn.send(input);
    t.same(conn.take(), [expected], JSON.stringify(input));
  }
});

t.test('a message split across chunks, and several in one chunk', async (t) => {
  const { conn } = setup();
  conn.take();
  conn.send('{"exec');
  conn.send('ute": "qmp_capa');
  t.same(conn.take(), []);
  conn.send('bilities"}{"execute": "query-status"}{"execute": "stop"}');
  t.same(conn.take().length, 4, 'return, return, STOP event, return');
});

t.test('events carry virtual-time timestamps and only reach negotiated clients', async (t) => {
  const { conn, server } = setup();
  conn.take();
  server.broadcast('EARLY');
  t.same(conn.take(), [], 'nothing before negotiation');
  conn.send('{"execute": "qmp_capabilities"}');
  conn.send('{"execute": "device_del", "arguments": {"id": "e1"}}');
  // A removal done inside the command is reported after its reply (QEMU's device_finalize runs after an RCU grace period).
  t.same(conn.take(), [
    '{"return": {}}',
    '{"return": {}}',
    '{"timestamp": {"seconds": 1, "microseconds": 500250}, "event": "DEVICE_DELETED", "data": {"device": "e1", "path": "/machine/peripheral/e1"}}',
  ]);
});

t.test('system_reset answers, then RESET follows (a reset request runs after the command)', async (t) => {
  const { conn, backend } = setup();
  conn.take();
  conn.send('{"execute": "qmp_capabilities"}{"execute": "system_reset", "id": 7}');
  t.same(conn.take(), [
    '{"return": {}}',
    '{"return": {}, "id": 7}',
    '{"timestamp": {"seconds": 1, "microseconds": 500250}, "event": "RESET", "data": {"guest": false, "reason": "host-qmp-system-reset"}}',
  ]);
  t.equal(backend.resets, 1);
});

t.test('quit sends SHUTDOWN, then the reply, then quits', async (t) => {
  const { conn, quits, backend } = setup();
  conn.take();
  conn.send('{"execute": "qmp_capabilities"}{"execute": "quit", "id": "bye"}');
  t.same(conn.take(), [
    '{"return": {}}',
    '{"timestamp": {"seconds": 1, "microseconds": 500250}, "event": "SHUTDOWN", "data": {"guest": false, "reason": "host-qmp-quit"}}',
    '{"return": {}, "id": "bye"}',
  ]);
  t.equal(quits(), 1);
  t.ok(backend.quitCalled);
});

t.test('human-monitor-command returns text with CRLF line ends', async (t) => {
  const { conn } = setup();
  conn.take();
  conn.send('{"execute": "qmp_capabilities"}{"execute": "human-monitor-command", "arguments": {"command-line": "nosuch"}}');
  t.same(conn.take()[1], '{"return": "unknown command: \'nosuch\'\\r\\n"}');
  conn.send('{"execute": "human-monitor-command", "arguments": {}}');
  t.same(conn.take(), ['{"error": {"class": "GenericError", "desc": "Parameter \'command-line\' is missing"}}']);
});

t.test('huge and deeply nested input is refused without buffering forever', async (t) => {
  const { conn } = setup();
  conn.take();
  conn.send('['.repeat(2000));
  const lines = conn.take();
  t.ok(lines.length >= 1);
  t.match(lines[0], /JSON parse error, JSON nesting too deep/);
  // As in QEMU, the streamer restarts after the error: the 975 brackets still
  // open form a new (legal) value once closed.
  conn.send(']'.repeat(975) + '\n{"execute": "qmp_capabilities"}\n');
  t.same(conn.take(), ['{"error": {"class": "GenericError", "desc": "QMP input must be a JSON object"}}', '{"return": {}}'],
    'still usable afterwards');
});
