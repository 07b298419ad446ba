import t from 'tap';
import { MsiCapability, MsixCapability, PCIDevice, type PCIDeviceIdentity } from '../../src/pci/index.js';
import { makeRig, type Rig } from './helpers.js';

/** A function with 4 maskable MSI vectors and 3 MSI-X vectors in BAR2. */
class MultiVector extends PCIDevice {
  readonly typeName = 'test-msi';
  readonly identity: PCIDeviceIdentity = { vendorId: 0x1b36, deviceId: 0x00fe, classId: 0x00ff };
  protected realizeDevice(): void {
    this.cs.set8(0x3d, 1);
    MsiCapability.init(this, 0, 4, true, true);
    MsixCapability.initExclusiveBar(this, 3, 2);
  }
}

function doorbell(rig: Rig): { writes: string[] } {
  const writes: string[] = [];
  rig.sys.root!.addSubregion(rig.mem.mmio('doorbell', 0x1000, {
    read: () => 0,
    write: (off, _size, v, attrs) => writes.push(`${off.toString(16)}=${v.toString(16)}@${attrs.requesterId?.toString(16)}`),
  }), 0xfee00000, 10);
  return { writes };
}

t.test('MSI: the message goes through the bus-master address space with the requester ID; masked vectors pend', async (t) => {
  const rig = makeRig();
  const d = rig.plug(new MultiVector(), 0x28) as MultiVector;
  const { writes } = doorbell(rig);
  const msi = d.msi!;
  const cap = msi.offset;
  t.equal(rig.cfgRead(0, 0x28, cap, 4) >>> 16, 0x0184, '64-bit, per-vector mask, 4 vectors capable');
  rig.cfgWrite(0, 0x28, cap + 4, 0xfee00010, 4);
  rig.cfgWrite(0, 0x28, cap + 12, 0x4440, 2);
  rig.cfgWrite(0, 0x28, cap + 2, 0x0071, 2);
  t.equal(msi.vectorsEnabled, 4, 'Multiple Message Enable clamped to what the function can do');
  msi.notify(2);
  t.same(writes, [], 'Bus Master Enable is off');
  rig.cfgWrite(0, 0x28, 0x04, 0x4, 2);
  msi.notify(2);
  t.same(writes, ['10=4442@28'], 'vector in the low data bits, requester ID 00:05.0');
  rig.cfgWrite(0, 0x28, cap + 16, 0x2, 4);
  msi.notify(1);
  t.equal(rig.cfgRead(0, 0x28, cap + 20, 4), 0x2, 'pending');
  rig.cfgWrite(0, 0x28, cap + 16, 0x0, 4);
  t.same(writes, ['10=4442@28', '10=4441@28'], 'delivered on unmask');
  t.equal(rig.cfgRead(0, 0x28, cap + 20, 4), 0);
});

t.test('MSI-X: table and PBA in the BAR, function mask, per-vector mask and pending bits', async (t) => {
  const rig = makeRig();
  const d = rig.plug(new MultiVector(), 0x28) as MultiVector;
  const { writes } = doorbell(rig);
  const x = d.msix!;
  rig.cfgWrite(0, 0x28, 0x18, 0xfe800000, 4);
  rig.cfgWrite(0, 0x28, 0x04, 0x6, 2);
  t.equal(rig.sys.read(0xfe80000c, 4).lo, 1, 'vectors start masked');
  rig.sys.write(0xfe800010, 4, 0xfee00020);
  rig.sys.write(0xfe800018, 4, 0x51);
  rig.cfgWrite(0, 0x28, x.offset + 2, 0xc000, 2);
  x.notify(1);
  t.equal(rig.sys.read(0xfe800800, 4).lo, 0x2, 'function masked: PBA bit 1');
  rig.sys.write(0xfe80001c, 4, 0);
  t.same(writes, [], 'still function-masked');
  rig.cfgWrite(0, 0x28, x.offset + 2, 0x8000, 2);
  t.same(writes, ['20=51@28'], 'pending vector delivered when the function mask drops');
  t.equal(rig.sys.read(0xfe800800, 4).lo, 0);
  d.setIrq(1);
  t.equal(rig.cfgRead(0, 0x28, 0x06, 2) & 0x8, 0x8);
  rig.cfgWrite(0, 0x28, x.offset + 2, 0x8000, 2);
  t.equal(rig.cfgRead(0, 0x28, 0x06, 2) & 0x8, 0, 'enabling MSI-X deasserts INTx');
  d.reset();
  t.same([x.enabled, rig.sys.read(0xfe80001c, 4).lo], [false, 0], 'reset: disabled (and the BAR unmapped)');
});
