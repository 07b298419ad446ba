import t from 'tap';
import {
  AtsCapability, ConfigSpace, PCIDevice, PasidCapability, acsInit, addCapability, addExtCapability, findCapability,
  findExtCapability, listExtCapabilities, pcieCapInit, PCI_EXP_TYPE_ENDPOINT, PCI_EXT_CAP_ID_ACS, PCI_EXT_CAP_ID_ATS,
  PCI_EXT_CAP_ID_PASID, type PCIDeviceIdentity,
} from '../../src/pci/index.js';
import { makeRig } from './helpers.js';

/** A PCIe endpoint with ATS, PASID and ACS, as a vIOMMU-facing device would have them. */
class AtsEndpoint extends PCIDevice {
  readonly typeName = 'test-ats';
  readonly identity: PCIDeviceIdentity = { vendorId: 0x1b36, deviceId: 0x00ff, classId: 0x00ff, express: true };
  ats!: AtsCapability;
  pasid!: PasidCapability;
  readonly atsEvents: boolean[] = [];
  protected realizeDevice(): void {
    pcieCapInit(this, 0, PCI_EXP_TYPE_ENDPOINT, 0);
    this.ats = AtsCapability.init(this, 0x100);
    this.ats.onChange = (on) => this.atsEvents.push(on);
    this.pasid = PasidCapability.init(this, 0x108, 20);
    acsInit(this, 0x110, false);
  }
}

t.test('standard capabilities go at the head of the list, in the first free space', async (t) => {
  const cs = new ConfigSpace(256);
  t.equal(addCapability(cs, 0x0d, 0, 8), 0x40);
  t.equal(addCapability(cs, 0x11, 0, 12), 0x48);
  t.equal(addCapability(cs, 0x10, 0, 0x3c), 0x54);
  t.same([cs.get8(0x34), cs.get8(0x55), cs.get8(0x49), cs.get8(0x41)], [0x54, 0x48, 0x40, 0], 'newest first');
  t.equal(cs.get16(6) & 0x10, 0x10, 'Status.Capabilities List');
  t.equal(findCapability(cs, 0x11), 0x48);
  t.equal(findCapability(cs, 0x05), 0);
  t.throws(() => addCapability(cs, 0x05, 0x50, 8), /overlaps/);
  t.same([...cs.wmask.subarray(0x40, 0x48)], [0, 0, 0, 0, 0, 0, 0, 0], 'read-only until the capability says otherwise');
});

t.test('extended capabilities chain from 0x100', async (t) => {
  const cs = new ConfigSpace(4096);
  addExtCapability(cs, 0x0001, 2, 0x100, 0x48);
  addExtCapability(cs, 0x000d, 1, 0x148, 8);
  t.same(listExtCapabilities(cs), [{ offset: 0x100, id: 1, version: 2 }, { offset: 0x148, id: 0xd, version: 1 }]);
  t.equal(cs.get32(0x100), 0x14820001);
  t.throws(() => addExtCapability(new ConfigSpace(256), 1, 1, 0x100, 8), /PCIe/);
});

t.test('ATS, PASID and ACS are structures a guest finds and enables; ATS Enable reaches the device', async (t) => {
  const rig = makeRig();
  const dev = rig.plug(new AtsEndpoint(), 0x10) as AtsEndpoint;
  const ats = findExtCapability(dev.cs, PCI_EXT_CAP_ID_ATS);
  const pasid = findExtCapability(dev.cs, PCI_EXT_CAP_ID_PASID);
  const acs = findExtCapability(dev.cs, PCI_EXT_CAP_ID_ACS);
  t.same([ats, pasid, acs], [0x100, 0x108, 0x110]);
  const mmcfg = rig.host.mmcfgOps();
  const cfg = (off: number) => mmcfg.read((2 << 15) | off, 4, {});
  const set = (off: number, v: number, size: number) => mmcfg.write((2 << 15) | off, size, v, {});
  set(ats + 6, 0x8005, 2);
  t.same([dev.ats.enabled, dev.ats.stu, dev.atsEvents], [true, 5, [true]]);
  set(ats + 4, 0x80050000, 4);
  t.same(dev.atsEvents, [true], 'a write that leaves Enable as it was is no event');
  set(ats + 7, 0x00, 1);
  t.same(dev.atsEvents, [true, false], 'a byte write to the enable byte turns it off');
  t.equal(cfg(pasid + 4) & 0xffff, 20 << 8, 'Max PASID Width 20');
  set(pasid + 6, 0x7, 2);
  t.same([dev.pasid.enabled, cfg(pasid + 4) >>> 16], [true, 1], 'only Enable is writable without exec/priv support');
  set(acs + 6, 0xffff, 2);
  t.equal(cfg(acs + 4), 0, 'an endpoint ACS advertises and enables nothing');
  set(ats + 6, 0x8000, 2);
  dev.reset();
  t.same([dev.ats.enabled, dev.pasid.enabled, dev.atsEvents.at(-1)], [false, false, false], 'reset disables them');
});
