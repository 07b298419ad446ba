import t from 'tap';
import { parseCmdline } from '../../../src/machine/cmdline.js';
import { Machine } from '../../../src/machine/machine.js';
import { humanMonitorCommand } from '../../../src/machine/monitor/hmp.js';
import { infoPci } from '../../../src/machine/monitor/info-pci.js';
import { infoMtree } from '../../../src/memory/mtree.js';
import { MachineQmpBackend } from '../../../src/machine/qmp-backend.js';
import { QmpServer } from '../../../src/machine/qmp/index.js';
import { FakeConnection } from './fake.js';

const ARGS = '-M q35 -nodefaults -display none -device pcie-root-port,id=rp1,chassis=1,addr=3 -device pcie-root-port,id=rp2,chassis=2,addr=4 -device edu,id=e0';

function setup(extra = '') {
  const m = Machine.create(parseCmdline(`${ARGS} ${extra}`.trim().split(/\s+/)).config);
  const backend = new MachineQmpBackend(m);
  const server = new QmpServer(backend, () => undefined);
  const conn = new FakeConnection();
  server.attach(conn);
  conn.take();
  const qmp = (cmd: string, args?: object): string[] => {
    conn.send(JSON.stringify(args ? { execute: cmd, arguments: args } : { execute: cmd }) + '\n');
    return conn.take();
  };
  qmp('qmp_capabilities');
  const io = m.guestPort().io!;
  /** Guest config access through 0xcf8/0xcfc (the guest's own view). */
  const cfg = {
    read: (bus: number, devfn: number, off: number, size: number): number => {
      io.out(0xcf8, 4, (0x8000_0000 | (bus << 16) | (devfn << 8) | (off & 0xfc)) >>> 0);
      return io.in(0xcfc + (off & 3), size);
    },
    write: (bus: number, devfn: number, off: number, size: number, v: number): void => {
      io.out(0xcf8, 4, (0x8000_0000 | (bus << 16) | (devfn << 8) | (off & 0xfc)) >>> 0);
      io.out(0xcfc + (off & 3), size, v);
    },
  };
  return { m, backend, conn, qmp, cfg };
}

/** The guest numbers root port 00:03.0's secondary bus 1 and finds its slot registers. */
function programPort(cfg: ReturnType<typeof setup>['cfg'], devfn: number, bus: number) {
  cfg.write(0, devfn, 0x18, 4, (bus << 16) | (bus << 8)); // primary 0, secondary = subordinate = bus
  let cap = cfg.read(0, devfn, 0x34, 1);
  while (cap && cfg.read(0, devfn, cap, 1) !== 0x10) cap = cfg.read(0, devfn, cap + 1, 1);
  return { sltctl: cap + 0x18, sltsta: cap + 0x1a };
}

t.test('query commands return QEMU shapes', async (t) => {
  const { qmp } = setup();
  t.same(JSON.parse(qmp('query-status')[0]!), { return: { status: 'running', singlestep: false, running: true } });
  const v = JSON.parse(qmp('query-version')[0]!);
  t.same(Object.keys(v.return), ['qemu', 'package']);
  t.same(Object.keys(v.return.qemu), ['micro', 'minor', 'major']);
  const pci = JSON.parse(qmp('query-pci')[0]!).return;
  t.equal(pci[0].bus, 0);
  const edu = pci[0].devices.find((d: { qdev_id: string }) => d.qdev_id === 'e0');
  t.same(edu.id, { device: 0x11e8, vendor: 0x1234, subsystem: 0x1100, 'subsystem-vendor': 0x1af4 });
  t.same(edu.class_info, { class: 0x00ff });
  t.same(edu.regions, [{ bar: 0, type: 'memory', address: 18446744073709551615, size: 1048576, prefetch: false, mem_type_64: false }]);
  t.equal(edu.irq_pin, 1);
  const rp = pci[0].devices.find((d: { qdev_id: string }) => d.qdev_id === 'rp1');
  t.same(Object.keys(rp.pci_bridge.bus), ['number', 'secondary', 'subordinate', 'io_range', 'memory_range', 'prefetchable_range']);
  t.same(pci[0].devices.find((d: { slot: number }) => d.slot === 0).class_info, { class: 0x0600, desc: 'Host bridge' });
});

t.test('stop and cont change the state with STOP / RESUME; -S starts in prelaunch', async (t) => {
  const { qmp } = setup();
  t.match(qmp('stop')[0], /"event": "STOP"/);
  t.match(qmp('query-status')[0], /"status": "paused"/);
  const lines = qmp('cont');
  t.match(lines[0], /"event": "RESUME"/);
  const p = setup('-S');
  t.match(p.qmp('query-status')[0], /"status": "prelaunch", "singlestep": false, "running": false/);
  t.same(p.qmp('stop'), ['{"return": {}}'], 'stop in prelaunch sends no STOP');
});

t.test('device_add errors are QEMU\'s', async (t) => {
  const { qmp } = setup();
  const err = (l: string[]) => JSON.parse(l[0]!).error;
  t.same(err(qmp('device_add', { driver: 'nosuch' })), { class: 'GenericError', desc: "'nosuch' is not a valid device model name" });
  t.same(err(qmp('device_add', { driver: 'edu', id: 'x' })), { class: 'GenericError', desc: "Bus 'pcie.0' does not support hotplugging" });
  t.same(err(qmp('device_add', { driver: 'edu', bus: 'nosuchbus' })), { class: 'GenericError', desc: "Bus 'nosuchbus' not found" });
  t.same(err(qmp('device_add', { driver: 'edu', bus: 'rp1', bogus: 1 })), { class: 'GenericError', desc: "Property 'edu.bogus' not found" });
  t.same(err(qmp('device_add', { driver: 'edu', bus: 'rp1', id: 'e0' })), { class: 'GenericError', desc: "Duplicate device ID 'e0'" });
  t.same(err(qmp('device_del', { id: 'nope' })), { class: 'DeviceNotFound', desc: "Device 'nope' not found" });
  t.same(err(qmp('device_del', { id: 'e0' })), { class: 'GenericError', desc: "Bus 'pcie.0' does not support hotplugging" });
});

t.test('hot-add, removal only with the guest\'s acknowledgement, re-add at the same slot', async (t) => {
  const { m, qmp, cfg, conn } = setup();
  const { sltctl, sltsta } = programPort(cfg, 0x18, 1);
  // The guest (pciehp) powers the empty slot... it is empty: reset left power off.
  t.equal(cfg.read(1, 0, 0, 4), 0xffffffff, 'nothing behind the port yet');
  t.same(qmp('device_add', { driver: 'edu', id: 'e1', bus: 'rp1' }), ['{"return": {}}']);
  t.equal(cfg.read(1, 0, 0, 4), 0x11e81234, 'the guest finds the new function behind the port');
  const sta = cfg.read(0, 0x18, sltsta, 2);
  t.ok(sta & 0x40, 'Presence Detect State');
  t.ok(sta & 0x08, 'Presence Detect Changed');
  // The guest acknowledges the events and powers the slot on (power indicator on).
  cfg.write(0, 0x18, sltsta, 2, 0x1f);
  cfg.write(0, 0x18, sltctl, 2, 0x0100 | 0x00c0);
  t.same(qmp('device_del', { id: 'e1' }), ['{"return": {}}'], 'returns {} at once');
  t.ok(cfg.read(0, 0x18, sltsta, 2) & 0x1, 'attention button pressed');
  t.same(JSON.parse(qmp('device_del', { id: 'e1' })[0]!).error, { class: 'GenericError', desc: 'Device e1 is already in the process of unplug' });
  m.clock.step(10_000_000_000);
  t.equal(cfg.read(1, 0, 0, 4), 0x11e81234, 'without acknowledgement the device stays, however long');
  t.ok(m.devicesById.has('e1'));
  // After the 5 s pending window a repeat is accepted and presses the button again.
  cfg.write(0, 0x18, sltsta, 2, 0x1);
  t.same(qmp('device_del', { id: 'e1' }), ['{"return": {}}']);
  t.equal(conn.take().length, 0, 'no DEVICE_DELETED yet');
  // Acknowledge: power indicator off and power controller off.
  cfg.write(0, 0x18, sltctl, 2, 0x0300 | 0x0400);
  const ev = conn.take();
  t.same(ev.map((l) => JSON.parse(l)), [{ timestamp: { seconds: 10, microseconds: 0 }, event: 'DEVICE_DELETED', data: { device: 'e1', path: '/machine/peripheral/e1' } }]);
  t.equal(cfg.read(1, 0, 0, 4), 0xffffffff, 'the function is gone');
  t.notOk(m.devicesById.has('e1'));
  t.notOk(cfg.read(0, 0x18, sltsta, 2) & 0x40, 'presence cleared');
  // Re-add at the same slot.
  t.same(qmp('device_add', { driver: 'edu', id: 'e1', bus: 'rp1' }), ['{"return": {}}']);
  t.equal(cfg.read(1, 0, 0, 4), 0x11e81234);
});

t.test('a slot that is already off unplugs at once', async (t) => {
  const { qmp, conn, cfg } = setup();
  programPort(cfg, 0x20, 2);
  qmp('device_add', { driver: 'edu', id: 'e2', bus: 'rp2' });
  // Nobody powered the slot on: power controller off, indicator off (reset state of an empty slot).
  const lines = qmp('device_del', { id: 'e2' });
  t.match(lines.join('\n'), /"event": "DEVICE_DELETED", "data": \{"device": "e2"/);
  t.equal(conn.take().length, 0);
});

t.test('the bus-master address space goes with the device', async (t) => {
  const { m, qmp, cfg } = setup();
  const { sltctl } = programPort(cfg, 0x18, 1);
  // QEMU names a function's bus-master address space after its type.
  const edus = () => m.mem.addressSpaces.filter((as) => as.name === 'edu').length;
  t.equal(edus(), 1, 'e0');
  qmp('device_add', { driver: 'edu', id: 'gone', bus: 'rp1' });
  t.equal(edus(), 2);
  cfg.write(0, 0x18, sltctl, 2, 0x0100);
  qmp('device_del', { id: 'gone' });
  cfg.write(0, 0x18, sltctl, 2, 0x0700);
  t.equal(edus(), 1, 'destroyed on unplug');
});

t.test('human-monitor-command output equals the direct output', async (t) => {
  const { m, qmp } = setup();
  const hmp = (line: string) => JSON.parse(qmp('human-monitor-command', { 'command-line': line })[0]!).return as string;
  t.equal(hmp('info pci'), infoPci([m.rootBus]).replace(/\n/g, '\r\n'));
  t.equal(hmp('info mtree'), infoMtree(m.mem).replace(/\n/g, '\r\n'));
  t.equal(hmp('info mtree -f'), infoMtree(m.mem, { flat: true }).replace(/\n/g, '\r\n'));
  t.equal(hmp('info mtree -x'), 'mtree: unsupported option -x\r\nTry "help info mtree" for more information\r\n');
  t.match(hmp('info qtree'), /dev: pcie-root-port, id "rp1"\r\n\s+class PCI bridge, addr 00:03\.0, pci id 1b36:000c/);
  t.equal(hmp('info iommu'), 'No vIOMMU on this machine\r\n');
  t.equal(humanMonitorCommand(m, 'nosuch'), "unknown command: 'nosuch'\n");
});
