import t from 'tap';
import {
  PCIDevice, PCI_BASE_ADDRESS_MEM_PREFETCH, PCI_BASE_ADDRESS_MEM_TYPE_64, PCI_BASE_ADDRESS_SPACE_IO,
  PCI_BASE_ADDRESS_SPACE_MEMORY, type PCIDeviceIdentity,
} from '../../src/pci/index.js';
import { makeRig, type Rig } from './helpers.js';

/** BAR0: 64-bit prefetchable 16 KiB, BAR2: 32-bit 4 KiB, BAR3: 32 bytes of I/O. Registers read back their offset. */
class Bars extends PCIDevice {
  readonly typeName = 'test-bars';
  readonly identity: PCIDeviceIdentity = { vendorId: 0x1b36, deviceId: 0x00fd, classId: 0x00ff };
  protected realizeDevice(): void {
    const ops = { read: (off: number) => 0xab000000 | off, write: () => undefined };
    const mem = this.ctx.mem;
    this.registerBar(0, PCI_BASE_ADDRESS_SPACE_MEMORY | PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH, mem.mmio('bar0', 0x4000, ops));
    this.registerBar(2, PCI_BASE_ADDRESS_SPACE_MEMORY, mem.mmio('bar2', 0x1000, ops));
    this.registerBar(3, PCI_BASE_ADDRESS_SPACE_IO, mem.mmio('bar3', 0x20, ops));
  }
}

function setup(allowZeroBar = false): Rig & { dev: Bars } {
  const rig = makeRig({ allowZeroBar });
  const dev = rig.plug(new Bars(), 0x18) as Bars;
  return { ...rig, dev };
}

t.test('the sizing protocol: all-ones in, the size mask and type bits out', async (t) => {
  const rig = setup();
  for (const off of [0x10, 0x14, 0x18, 0x1c]) rig.cfgWrite(0, 0x18, off, 0xffffffff, 4);
  t.same([0x10, 0x14, 0x18, 0x1c, 0x20].map((o) => rig.cfgRead(0, 0x18, o, 4).toString(16)),
    ['ffffc00c', 'ffffffff', 'fffff000', 'ffffffe1', '0'], '64-bit prefetchable, 32-bit memory, I/O, absent');
});

t.test('BARs decode only while Command enables them, at the programmed address', async (t) => {
  const rig = setup();
  rig.cfgWrite(0, 0x18, 0x10, 0x00000000, 4);
  rig.cfgWrite(0, 0x18, 0x14, 0x1, 4);
  rig.cfgWrite(0, 0x18, 0x18, 0xfe000000, 4);
  rig.cfgWrite(0, 0x18, 0x1c, 0xc000, 4);
  t.equal(rig.io.read(0xc004, 4).lo, 0, 'I/O off');
  rig.cfgWrite(0, 0x18, 0x04, 0x1, 2);
  t.equal(rig.io.read(0xc004, 4).lo, 0xab000004, 'I/O on');
  t.equal(rig.sys.read(0xfe000010, 4).lo, 0, 'memory still off');
  rig.cfgWrite(0, 0x18, 0x04, 0x3, 2);
  t.equal(rig.sys.read(0xfe000010, 4).lo, 0xab000010);
  t.equal(rig.sys.read(0x100000008, 4).lo, 0xab000008, 'the 64-bit BAR above 4 GiB');
  rig.cfgWrite(0, 0x18, 0x18, 0xfd000000, 4);
  t.same([rig.sys.read(0xfe000010, 4).lo, rig.sys.read(0xfd000010, 4).lo], [0, 0xab000010], 'moved');
  rig.cfgWrite(0, 0x18, 0x18, 0xfffff000, 4);
  t.equal(rig.sys.read(0xfffff000, 4).lo, 0, 'a 32-bit BAR may not end at 4 GiB (QEMU refuses it)');
});

t.test('address 0 is unmapped on pc, mapped where the machine allows it', async (t) => {
  for (const allow of [false, true]) {
    const rig = setup(allow);
    rig.cfgWrite(0, 0x18, 0x18, 0, 4);
    rig.cfgWrite(0, 0x18, 0x04, 0x2, 2);
    t.equal(rig.dev.ioRegions[2]!.addr, allow ? 0n : -1n, `allowZeroBar=${allow}`);
  }
});
