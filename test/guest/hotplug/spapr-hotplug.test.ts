import t from 'tap';
import { bootGuestKernel, type BootOptions } from '../../../src/guest/boot.js';
import type { GuestDevice } from '../../../src/guest/device.js';
import { EduDriver } from '../../../src/guest/drivers/edu.js';
import type { GuestKernel } from '../../../src/guest/kernel.js';
import { DmaOracle } from '../../../src/guest/oracle/oracle.js';
import { VfioPciBinding } from '../../../src/guest/vfio/binding.js';
import { parseCmdline } from '../../../src/machine/cmdline.js';
import { installDmaTap } from '../../../src/machine/dma-tap.js';
import { Machine } from '../../../src/machine/machine.js';
import { MachineQmpBackend } from '../../../src/machine/qmp-backend.js';

const PSERIES = '-M pseries -nodefaults -device edu,id=e0,addr=2';

/** A real pseries machine, its QMP backend, the booted guest with the DMA oracle tapped in. */
function rig(args: string, boot: BootOptions = {}) {
  const m = Machine.create(parseCmdline(args.split(/\s+/)).config);
  const qmp = new MachineQmpBackend(m);
  const events: { event: string; data: unknown; t: number }[] = [];
  qmp.setEventSink((event, data) => events.push({ event, data, t: m.clock.now }));
  const port = m.guestPort();
  const oracle = new DmaOracle(() => port.now(), port.log);
  installDmaTap(m, oracle);
  const k: GuestKernel = bootGuestKernel(port, { workloads: [], oracle, ...boot }).kernel;
  const hp = k.spaprHotplug!;
  const log = () => m.log.lines.map((l) => `${l.source}: ${l.text}`);
  const dev = (bdf: string) => k.devices.find((d) => d.name === bdf);
  return { m, qmp, k, hp, events, log, dev, oracle };
}

/** A round trip through edu's DMA engine (RAM -> device -> RAM), data compared. */
function eduRoundTrip(k: GuestKernel, dev: GuestDevice): boolean {
  const edu = k.drivers.drivers.find((d): d is EduDriver => d instanceof EduDriver)!;
  const p = k.mem.alloc(4096)!;
  k.port.writeBytes(p, Uint8Array.from([7, 8, 9, 10]));
  const ok = edu.transfer(dev, p, 4, 'to-device') === 0 && edu.transfer(dev, p + 0x800, 4, 'from-device') === 0;
  const back = new Uint8Array(4);
  k.port.readBytes(p + 0x800, back);
  k.mem.freePages(p, 4096);
  return ok && back.join() === '7,8,9,10';
}

t.test('boot: the PHB\'s PCI connectors, the cold-plugged device configured, slots found by name, index or address', async (t) => {
  const { hp, log } = rig(PSERIES);
  const c16 = hp.slotByRef('C16')!;
  t.equal(c16.state, 'configured', 'the device present at boot: the firmware configured its connector');
  // QEMU's boot tree has a node per device (legacy-device@2); this machine's has none, so the slot keeps none either.
  t.equal(c16.node, hp.phb.children.find((c) => c.name.endsWith('@2')));
  const c24 = hp.slotByRef('C24')!;
  t.same([c24.index, c24.devfn, c24.state, c24.bdf], [0x40000018, 0x18, 'empty', '0000:00:03.0']);
  t.equal(hp.slotByRef('0x40000018'), c24);
  t.equal(hp.slotByRef('0000:00:03.0'), c24);
  t.equal(hp.slotByRef('00:03.0'), c24);
  t.equal(hp.slotByRef('C99999'), undefined);
  t.ok(log().some((l) => /^RAS: hot-plug events on interrupt 0x1001; \d+ PCI connectors on \/pci@800000020000000 \(1 configured\)$/.test(l)));
});

t.test('hot-add: event, unisolate, configure-connector, scan, BAR, IOMMU group, edu bound, DMA through the TCE window', async (t) => {
  const { qmp, k, hp, log, dev, oracle, m } = rig(PSERIES);
  qmp.deviceAdd({ driver: 'edu', id: 'e1', bus: 'pci.0', addr: '3' });
  t.equal(dev('0000:00:03.0'), undefined, 'the guest has not run yet');
  k.clock.runDue();
  const d = dev('0000:00:03.0');
  t.ok(d, 'the guest added the function');
  t.equal(d?.driver, 'edu');
  const slot = hp.slotByRef('C24')!;
  t.equal(slot.state, 'configured');
  t.equal(slot.node?.name, 'legacy-device@3');
  t.equal(slot.node?.u32('ibm,my-drc-index'), 0x40000018);
  t.ok(k.firmware.fdt!.byPath('/pci@800000020000000/legacy-device@3'), 'attached below the PHB');
  const e0 = dev('0000:00:02.0')!;
  const [b0, b1] = [e0.pci!.bars[0]!, d!.pci!.bars[0]!];
  t.ok(b1.busAddress !== 0 && (b1.busAddress >= b0.busAddress + b0.size || b1.busAddress + b1.size <= b0.busAddress), 'BAR 0 does not overlap the boot device\'s');
  t.equal(k.iommu.groupOf(d!), k.iommu.groupOf(e0), 'the PE\'s group (one PE per PHB on QEMU)');
  t.ok(eduRoundTrip(k, d!), 'DMA through the default window');
  t.equal(oracle.violationCount, 0);
  t.ok(log().includes('rpadlpar_io: slot C24 added'));
  t.ok(log().includes('rtas_errd: PCI hot-plug add for C24 (0x40000018): drmgr -c pci -a -s 0x40000018'));
  t.notOk(m.log.lines.some((l) => l.level === 'err'), 'no errors');
});

t.test("device_del with 'script': nothing until acknowledged; then removal, isolate, DEVICE_DELETED; a re-add starts clean", async (t) => {
  const { qmp, k, hp, events, dev, log, oracle } = rig(PSERIES);
  qmp.deviceAdd({ driver: 'edu', id: 'e1', bus: 'pci.0', addr: '3' });
  k.clock.runDue();
  const d = dev('0000:00:03.0')!;
  const slot = hp.slotByRef('C24')!;
  qmp.deviceDel('e1');
  k.clock.runDue();
  t.equal(slot.state, 'removal-pending');
  k.clock.sleep(30e9);
  t.equal(d.driver, 'edu', 'still bound after 30 s');
  t.same(events.filter((e) => e.event === 'DEVICE_DELETED'), []);
  t.equal(hp.acknowledge(slot), undefined);
  t.equal(d.driver, undefined, 'unbound');
  t.notOk(k.devices.includes(d), 'gone from the guest');
  t.equal(k.iommu.deviceOf(d.pci!), undefined, 'released by the IOMMU core');
  t.notOk(k.pci!.functions.includes(d.pci!));
  t.equal(k.firmware.fdt!.byPath('/pci@800000020000000/legacy-device@3'), undefined, 'node detached');
  t.same(events.filter((e) => e.event === 'DEVICE_DELETED').map((e) => e.data), [{ device: 'e1', path: '/machine/peripheral/e1' }], 'released on isolate');
  t.equal(slot.state, 'empty');
  t.ok(log().includes('rpadlpar_io: slot C24 removed'));
  t.match(hp.acknowledge(slot), /^no removal request is pending on slot C24 \(state empty\)$/);
  qmp.deviceAdd({ driver: 'edu', id: 'e2', bus: 'pci.0', addr: '3' });
  k.clock.runDue();
  const again = dev('0000:00:03.0')!;
  t.not(again, d, 'a new device');
  t.equal(again.driver, 'edu');
  t.ok(eduRoundTrip(k, again));
  t.equal(oracle.violationCount, 0);
});

t.test("unplugAck 'linux': rtas_errd runs drmgr at once", async (t) => {
  const { qmp, k, hp, events, dev } = rig(PSERIES, { spaprHotplug: { unplugAck: 'linux' } });
  t.equal(hp.unplugAck, 'linux');
  qmp.deviceDel('e0');
  k.clock.runDue();
  t.equal(dev('0000:00:02.0'), undefined);
  t.equal(hp.slotByRef('C16')!.state, 'empty');
  t.same(events.filter((e) => e.event === 'DEVICE_DELETED').map((e) => (e.data as { device: string }).device), ['e0']);
});

t.test('a VFIO user on the device: the removal waits until the user lets go (vfio_unregister_group_dev), then completes', async (t) => {
  const { qmp, k, hp, events, dev, log, oracle } = rig(PSERIES, { spaprHotplug: { unplugAck: 'linux' } });
  const d = dev('0000:00:02.0')!;
  const b = VfioPciBinding.bind(k, d, { pages: 1 });
  t.equal(b.ret, 0, 'the user runs');
  qmp.deviceDel('e0');
  k.clock.runDue();
  const slot = hp.slotByRef('C16')!;
  t.equal(slot.state, 'removal-blocked');
  t.ok(log().includes('vfio-pci 0000:00:02.0: No device request channel registered, blocked until released by user'));
  t.match(hp.acknowledge(slot), /waits for the VFIO user of 0000:00:02\.0/);
  k.clock.sleep(30e9);
  t.ok(k.devices.includes(d), 'still there while the user holds it');
  t.same(events.filter((e) => e.event === 'DEVICE_DELETED'), []);
  t.equal(b.binding!.unbind(false).ret, 0, 'the user exits');
  k.clock.sleep(10e9);
  t.notOk(k.devices.includes(d), 'removed within the next 10 s request period');
  t.equal(slot.state, 'empty');
  t.same(events.filter((e) => e.event === 'DEVICE_DELETED').map((e) => (e.data as { device: string }).device), ['e0']);
  t.equal(oracle.violationCount, 0);
});

t.test('events the guest does not handle are logged and ignored', async (t) => {
  const { k, hp, log } = rig(PSERIES);
  const ev = (resource: number, action: number, index: number): Uint8Array => {
    const b = new Uint8Array(2048);
    const v = new DataView(b.buffer);
    v.setUint32(0, 0x063460e5);
    v.setUint32(4, 16 + 20);
    v.setUint32(20, 0x49424d00);
    b.set([0x48, 0x50, 0, 20, 1, 0, 0, 0, resource, action, 2, 0], 24);
    v.setUint32(36, index);
    return b;
  };
  hp.handleLog(ev(1, 1, 0x10000001));
  t.ok(log().includes('RAS: hot-plug event: CPU add: only PCI DLPAR is handled by this guest; ignored'));
  hp.handleLog(ev(5, 1, 0x40001f00));
  t.ok(log().some((l) => l.startsWith('rtas_errd: hot-plug event: PCI add for DRC index 0x40001f00, which no PCI connector')));
  hp.handleLog(ev(5, 2, 0x40000018));
  t.ok(log().includes('rtas_errd: PCI hot-plug remove for C24 (0x40000018): the slot is empty; ignored'));
  const epow = ev(5, 1, 0x40000018);
  epow[3] = 0x40;
  hp.handleLog(epow);
  t.ok(log().some((l) => /^RAS: event of type 0x40 .* is not a hot-plug event; ignored$/.test(l)));
  t.equal(hp.slotByRef('C24')!.state, 'empty');
  t.equal(k.devices.length, 1);
});

t.test('hot-add of virtio-net at slot 4: ethernet@4 with its MSI-X request, a 64-bit prefetchable BAR in the 64-bit window', async (t) => {
  const { qmp, k, hp, dev, events } = rig(PSERIES);
  qmp.deviceAdd({ driver: 'virtio-net-pci', id: 'n1', bus: 'pci.0', addr: '4' });
  k.clock.runDue();
  const slot = hp.slotByRef('C32')!;
  t.equal(slot.state, 'configured');
  t.equal(slot.node?.name, 'ethernet@4');
  t.ok(slot.node?.has('ibm,req#msi-x') && slot.node.has('interrupts'));
  const d = dev('0000:00:04.0')!;
  t.equal(d.driver, 'virtio_net');
  const w = k.firmware.windows;
  const pref = d.pci!.bars.find((b) => b.kind === 'mem64')!;
  t.ok(pref.busAddress >= w.mem64!.pciBase && pref.busAddress + pref.size <= w.mem64!.pciBase + w.mem64!.size, 'in the 64-bit window');
  const mem = d.pci!.bars.find((b) => b.kind === 'mem32')!;
  t.ok(mem.busAddress >= w.mem32!.pciBase && mem.busAddress + mem.size <= w.mem32!.pciBase + w.mem32!.size, 'in the 32-bit window');
  qmp.deviceDel('n1');
  k.clock.runDue();
  t.equal(hp.acknowledge(slot), undefined);
  t.equal(dev('0000:00:04.0'), undefined);
  t.ok(events.some((e) => e.event === 'DEVICE_DELETED' && (e.data as { device?: string }).device === 'n1'));
});
