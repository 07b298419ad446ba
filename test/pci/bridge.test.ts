import t from 'tap';
import { Edu, PCIBridgeDev, PCIeRootPort, PCIePCIBridge, ROOT_PORT_DEFAULTS, iommuAlias, iommuRequesterId, pciRequesterId } from '../../src/pci/index.js';
import { makeRig } from './helpers.js';

function topology() {
  const rig = makeRig();
  const rp = rig.plug(new PCIeRootPort({ ...ROOT_PORT_DEFAULTS, chassis: 1 }), 0x10) as PCIeRootPort;
  const edu1 = new Edu();
  rp.secondaryBus.plug(edu1, 0);
  edu1.reset();
  const br = rig.plug(new PCIBridgeDev(2), 0x18) as PCIBridgeDev;
  const edu2 = new Edu();
  br.secondaryBus.plug(edu2, 0x20);
  edu2.reset();
  const p2p = rig.plug(new PCIePCIBridge(), 0x20) as PCIePCIBridge;
  const edu3 = new Edu();
  p2p.secondaryBus.plug(edu3, 0x28);
  edu3.reset();
  return { rig, rp, br, p2p, edu1, edu2, edu3 };
}

t.test('config cycles are routed by the bus numbers the guest programmed', async (t) => {
  const { rig } = topology();
  t.equal(rig.cfgRead(1, 0, 0, 4), 0xffffffff, 'no bus 1 before numbering');
  rig.cfgWrite(0, 0x10, 0x18, 0x00020100 | 0, 4);
  rig.cfgWrite(0, 0x18, 0x18, 0x00050500, 4);
  rig.cfgWrite(0, 0x20, 0x18, 0x00070600, 4);
  t.equal(rig.cfgRead(1, 0, 0, 4), 0x11e81234, 'behind the root port on bus 1');
  t.equal(rig.cfgRead(2, 0, 0, 4), 0xffffffff, 'bus 2 is in range but empty');
  t.equal(rig.cfgRead(5, 0x20, 0, 4), 0x11e81234, 'behind the PCI bridge on bus 5');
  t.equal(rig.cfgRead(6, 0x28, 0, 4), 0x11e81234, 'behind the PCIe-to-PCI bridge on bus 6');
  t.equal(rig.cfgRead(8, 0, 0, 4), 0xffffffff, 'beyond every subordinate number');
  rig.cfgWrite(5, 0x20, 0x04, 0x6, 2);
  t.equal(rig.cfgRead(5, 0x20, 0x04, 2), 0x6);
  rig.cfgWrite(0, 0x18, 0x3c, 0x00400000, 4);
  t.equal(rig.cfgRead(5, 0x20, 0x04, 2), 0, 'Secondary Bus Reset 0 -> 1 resets the functions below');
});

t.test('memory is forwarded only inside the window and while Memory Space is on', async (t) => {
  const { rig, rp } = topology();
  rig.cfgWrite(0, 0x10, 0x18, 0x00010100, 4);
  rig.cfgWrite(1, 0, 0x10, 0xfe100000, 4);
  rig.cfgWrite(1, 0, 0x04, 0x2, 2);
  t.equal(rig.sys.read(0xfe100000, 4).lo, 0, 'window closed at reset (base above limit)');
  rig.cfgWrite(0, 0x10, 0x20, 0xfe10fe10, 4);
  t.equal(rig.sys.read(0xfe100000, 4).lo, 0, 'Memory Space still off on the port');
  rig.cfgWrite(0, 0x10, 0x04, 0x2, 2);
  t.equal(rig.sys.read(0xfe100000, 4).lo, 0x010000ed, 'forwarded');
  t.same(rp.window('mem'), { base: 0xfe100000n, limit: 0xfe1fffffn });
  rig.cfgWrite(0, 0x10, 0x20, 0xfe00fe00, 4);
  t.equal(rig.sys.read(0xfe100000, 4).lo, 0, 'outside the window now');
  rig.cfgWrite(0, 0x10, 0x1c, 0x2020, 2);
  t.same(rp.window('io'), { base: 0x2000n, limit: 0x2fffn });
});

t.test('requester IDs follow the programmed bus numbers and the alias rules', async (t) => {
  const { rig, edu1, edu2, edu3, br } = topology();
  rig.cfgWrite(0, 0x10, 0x18, 0x00010100, 4);
  rig.cfgWrite(0, 0x18, 0x18, 0x00050500, 4);
  rig.cfgWrite(0, 0x20, 0x18, 0x00060600, 4);
  t.equal(edu1.requesterId, 0x0100, 'PCIe below a root port: its own BDF');
  t.equal(iommuRequesterId(edu1), 0x0100);
  t.equal(pciRequesterId(edu2), 0x0018, 'behind a conventional bridge: the bridge\'s BDF');
  t.equal(iommuAlias(edu2).devfn, br.devfn);
  t.equal(iommuRequesterId(edu3), 0x0600, 'behind a PCIe-to-PCI bridge: (secondary bus, 00.0)');
  t.equal(pciRequesterId(edu3), 0x0600);
  rig.cfgWrite(0, 0x10, 0x18, 0x00030300, 4);
  t.equal(edu1.requesterId, 0x0300, 'renumbering changes the ID at once');
});

t.test('INTx swizzles through bridges to the root bus routing', async (t) => {
  const { rig, edu2 } = topology();
  const levels: number[] = [];
  const { IrqLine } = await import('../../src/base/irq.js');
  const lines = [0, 1, 2, 3].map((i) => new IrqLine(`intx${i}`));
  lines.forEach((l, i) => l.connect((v) => levels.push(i * 10 + v)));
  rig.bus.setIntxRouting({ mapIrq: (d, pin) => (pin + (d.devfn >> 3)) % 4, lines });
  edu2.setIrq(1);
  edu2.setIrq(0);
  // edu2: slot 4, pin A -> swizzle (0 + 4) % 4 = 0 at the bridge (slot 3) -> (0 + 3) % 4 = 3
  t.same(levels, [31, 30]);
  rig.cfgWrite(0, 0x18, 0x18, 0x00050500, 4);
  rig.cfgWrite(5, 0x20, 0x04, 0x400, 2);
  edu2.setIrq(1);
  t.same(levels, [31, 30], 'Interrupt Disable keeps the line low');
  t.equal(rig.cfgRead(5, 0x20, 0x04, 4) >>> 16 & 0x8, 0x8, 'Status.Interrupt still shows it');
});
