import t from 'tap';
import { bootGuestKernel, type BootOptions } from '../../../src/guest/boot.js';
import type { GuestKernel } from '../../../src/guest/kernel.js';
import { readBridgeWindows } from '../../../src/guest/pci-core/bridge-windows.js';
import { parseCmdline } from '../../../src/machine/cmdline.js';
import { Machine } from '../../../src/machine/machine.js';
import { MachineQmpBackend } from '../../../src/machine/qmp-backend.js';
import { PCIeRootPort } from '../../../src/pci/root-port.js';

const MIB = 1 << 20;

/** A real machine, its QMP backend (device_add / device_del) and the booted guest. */
function rig(args: string, boot: BootOptions = {}) {
  const m = Machine.create(parseCmdline(args.split(/\s+/)).config);
  const qmp = new MachineQmpBackend(m);
  const events: { event: string; data: unknown; t: number }[] = [];
  qmp.setEventSink((event, data) => events.push({ event, data, t: m.clock.now }));
  const k: GuestKernel = bootGuestKernel(m.guestPort(), { workloads: [], ...boot }).kernel;
  const hp = k.pciehp!;
  const port = (id: string) => m.devicesById.get(id) as PCIeRootPort;
  /** Slot Control as the machine holds it. */
  const sltctl = (id: string) => port(id).slot.sltctl;
  const slot = (id: string) => hp.slots.find((s) => s.port.devfn === port(id).devfn && s.port.busNumber === port(id).bus.number)!;
  const log = () => m.log.lines.map((l) => `${l.source}: ${l.text}`);
  return { m, qmp, k, hp, events, port, sltctl, slot, log };
}

const Q35 = '-M q35 -nodefaults -device pcie-root-port,id=rp1,chassis=1,addr=3 -device pcie-root-port,id=rp2,chassis=2,addr=4';

t.test('probe: every hot-plug port gets a controller, MSI-X and the slot events Linux enables', async (t) => {
  const { hp, log, sltctl, port, slot } = rig(Q35);
  t.equal(hp.slots.length, 2);
  t.same(hp.slots.map((s) => [s.name, s.state]), [['0', 'off'], ['0-1', 'off']], 'duplicate physical slot numbers get -1 (make_slot_name)');
  t.ok(log().includes('pcieport 0000:00:03.0: pciehp: Slot #0 AttnBtn+ PwrCtrl+ MRL- AttnInd+ PwrInd+ HotPlug+ Surprise+ Interlock+ NoCompl- IbPresDis- LLActRep+'));
  // ABPE (the port has an attention button, so not PDCE), CCIE, HPIE; DLLSCE is not writable on QEMU's ports.
  t.equal(sltctl('rp1') & 0x3f, 0x01 | 0x10 | 0x20);
  t.ok(sltctl('rp1') & 0x400, 'the empty slot stays powered off');
  t.ok(port('rp1').msix?.enabled, 'MSI-X on the port');
  t.equal(slot('rp2').name, '0-1');
});

t.test('firmware keeps windows for empty hot-plug ports: SeaBIOS on q35, Linux on virt', async (t) => {
  const q = rig(Q35);
  for (const s of q.hp.slots) {
    const w = readBridgeWindows(s.port);
    t.equal(w.mem!.limit - w.mem!.base + 1, 2 * MIB, 'memory: PCI_BRIDGE_MEM_MIN');
    t.equal(w.pref!.limit - w.pref!.base + 1, 2 * MIB, 'prefetchable: PCI_BRIDGE_MEM_MIN');
    t.equal(w.io, undefined, 'no I/O behind a PCIe port');
    t.equal(w.mem!.base % (2 * MIB), 0, 'aligned to its size');
  }
  const v = rig('-M virt -nodefaults -device pcie-root-port,id=rp1,chassis=1');
  const w = readBridgeWindows(v.hp.slots[0]!.port);
  t.equal(w.io!.limit - w.io!.base + 1, 0x1000, 'Linux: 256 bytes of I/O, a 4 KiB window');
  t.equal(w.mem!.limit - w.mem!.base + 1, 2 * MIB);
  t.ok(w.pref!.base >= 0x80_0000_0000, 'prefetchable window in the 64-bit aperture');
});

t.test('hot-add: power on, scan, BAR in the port window, IOMMU probe, driver bound', async (t) => {
  const { qmp, k, hp, sltctl, slot, log, m } = rig(Q35);
  qmp.deviceAdd({ driver: 'edu', id: 'e1', bus: 'rp1' });
  t.equal(k.devices.find((d) => d.name === '0000:01:00.0'), undefined, 'the guest has not run yet');
  k.clock.runDue();
  const dev = k.devices.find((d) => d.name === '0000:01:00.0');
  t.ok(dev, 'the guest added the function');
  t.equal(dev!.driver, 'edu');
  t.equal(hp.stateOf(slot('rp1')), 'on');
  t.equal(sltctl('rp1') & 0x700, 0x100, 'power on (PCC 0), power indicator on');
  const w = readBridgeWindows(slot('rp1').port);
  const bar = dev!.pci!.bars[0]!;
  t.ok(bar.busAddress >= w.mem!.base && bar.busAddress + bar.size - 1 <= w.mem!.limit, 'BAR 0 inside the port memory window');
  const lines = log().filter((l) => l.startsWith('pcieport 0000:00:03.0: pciehp:')).slice(1);
  t.same(lines, [
    'pcieport 0000:00:03.0: pciehp: Slot(0): Button press: will power on in 5 sec',
    'pcieport 0000:00:03.0: pciehp: Slot(0): Card present',
    'pcieport 0000:00:03.0: pciehp: Slot(0): Link Up',
  ]);
  t.equal(m.clock.now, 100_000_000, 'the 100 ms wait after the link comes up (PCIe r4.0 6.6.1)');
  t.ok(k.pci!.functions.includes(dev!.pci!));
});

t.test('unplug request: nothing until acknowledged; then unbind, release, power off, DEVICE_DELETED', async (t) => {
  const { qmp, k, hp, sltctl, slot, events, m, log } = rig(`${Q35} -device edu,id=e1,bus=rp1`);
  const s = slot('rp1');
  t.equal(s.state, 'on', 'a cold-plugged device: the slot starts on');
  const dev = k.devices.find((d) => d.name === '0000:01:00.0')!;
  t.equal(dev.driver, 'edu');
  qmp.deviceDel('e1');
  k.clock.runDue();
  t.equal(hp.stateOf(s), 'blinking-off');
  t.equal(sltctl('rp1') & 0x300, 0x200, 'power indicator blinking');
  k.clock.sleep(30e9);
  t.equal(dev.driver, 'edu', 'still bound after 30 s');
  t.same(events, []);
  t.equal(hp.acknowledge(s), undefined);
  t.equal(dev.driver, undefined, 'unbound');
  t.notOk(k.devices.includes(dev), 'gone from the guest');
  t.equal(k.iommu.deviceOf(dev.pci!), undefined, 'released by the IOMMU core');
  t.same(events.map((e) => [e.event, e.data, e.t - 30e9]), [['DEVICE_DELETED', { device: 'e1', path: '/machine/peripheral/e1' }, 1e9]], '1 s after power-off');
  t.equal(sltctl('rp1') & 0x700, 0x700, 'power off, indicator off');
  t.equal(hp.stateOf(s), 'off');
  t.notOk(m.devicesById.has('e1'));
  t.match(hp.acknowledge(s), /^no unplug request is pending on Slot\(0\) \(state off\)$/);
  k.clock.sleep(5e9);
  t.notOk(log().some((l) => /Card (not )?present/.test(l)), 'the presence change the removal caused is not a new event');
  // The same BDF again: a new device from scratch.
  qmp.deviceAdd({ driver: 'edu', id: 'e2', bus: 'rp1' });
  k.clock.runDue();
  const again = k.devices.find((d) => d.name === '0000:01:00.0')!;
  t.not(again, dev);
  t.equal(again.driver, 'edu');
});

t.test('a second button press within the request cancels it (Linux)', async (t) => {
  const { qmp, k, hp, port, sltctl, slot, log } = rig(`${Q35} -device edu,id=e1,bus=rp1`);
  qmp.deviceDel('e1');
  k.clock.runDue();
  port('rp1').slot.pushAttentionButton();
  k.clock.runDue();
  t.equal(hp.stateOf(slot('rp1')), 'on');
  t.equal(sltctl('rp1') & 0x300, 0x100);
  t.ok(log().includes('pcieport 0000:00:03.0: pciehp: Slot(0): Button press: canceling request to power off'));
});

t.test("unplugAck 'linux': the slot powers off 5 s after the press", async (t) => {
  const { qmp, k, events } = rig(`${Q35} -device edu,id=e1,bus=rp1`, { pciehp: { unplugAck: 'linux' } });
  qmp.deviceDel('e1');
  k.clock.runDue();
  k.clock.sleep(5e9 - 1);
  t.same(events, []);
  k.clock.sleep(2e9);
  t.same(events.map((e) => [e.event, e.t]), [['DEVICE_DELETED', 6e9]]);
});

t.test('poll mode where the guest knows no MSI doorbell (virt): events are seen at the next poll', async (t) => {
  const { qmp, k, m, hp, slot, log } = rig('-M virt -nodefaults -global edu.dma_mask=0xffffffffff -device pcie-root-port,id=rp1,chassis=1', { eduDmaBits: 40 });
  t.ok(log().includes('pcieport 0000:00:01.0: pciehp: Slot(0): no MSI on this platform, polling every 2 s'));
  qmp.deviceAdd({ driver: 'edu', id: 'e1', bus: 'rp1' });
  k.clock.runDue();
  t.equal(hp.stateOf(slot('rp1')), 'off', 'not yet');
  k.clock.sleep(2e9);
  t.equal(hp.stateOf(slot('rp1')), 'on');
  t.equal(k.devices.find((d) => d.name === '0000:01:00.0')?.driver, 'edu');
  t.equal(m.clock.now, 2.1e9, 'found at the 2 s poll, bound after the 100 ms link wait');
});

t.test('rescan enables an occupied slot that is off; pciehp can be left out', async (t) => {
  const { qmp, hp, slot } = rig(Q35);
  qmp.deviceAdd({ driver: 'edu', id: 'e1', bus: 'rp1' });
  t.equal(hp.rescan(slot('rp1')), 0, 'reads the status itself');
  t.equal(hp.stateOf(slot('rp1')), 'on');
  t.equal(hp.rescan(slot('rp1')), -17, 'EEXIST: already on');
  t.equal(hp.rescan(slot('rp2')), -19, 'ENODEV: nothing there');
  const off = rig(Q35, { pciehp: false });
  t.equal(off.k.pciehp, undefined);
  t.equal(off.sltctl('rp1') & 0x3f, 0, 'no slot events enabled');
  t.throws(() => rig(Q35, { pciehp: { unplugAck: 'never' as 'linux' } }), /pciehp\.unplugAck: unknown unplug acknowledgement 'never'/);
});

t.test('a populated port without Presence Detect (QEMU q35 with ACPI hot-plug) is left to the firmware', async (t) => {
  const { hp, k, log } = rig(`${Q35} -device edu,id=e1,bus=rp1 -global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=on`);
  t.same(hp.slots.map((s) => s.port.name), ['0000:00:04.0'], 'only the empty port is driven');
  t.ok(log().includes('pcieport 0000:00:03.0: pciehp: populated slot without Presence Detect: native hot-plug is not in charge here (ACPI hot-plug); port left alone'));
  t.equal(k.devices.find((d) => d.name === '0000:01:00.0')?.driver, 'edu', 'the cold-plugged device stays bound');
});
