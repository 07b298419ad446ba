import t from 'tap';
import { Edu, factorial, PCI_DEVFN } from '../../src/pci/index.js';
import { makeRig } from './helpers.js';

const BAR = 0xfea00000;

function eduRig() {
  const rig = makeRig();
  const edu = rig.plug(new Edu(), PCI_DEVFN(1, 0)) as Edu;
  rig.cfgWrite(0, 8, 0x10, BAR, 4);
  rig.cfgWrite(0, 8, 0x04, 0x6, 2);
  return { rig, edu };
}

t.test('BAR0 sizing reads back the 1 MiB mask and maps where programmed', async (t) => {
  const rig = makeRig();
  rig.plug(new Edu(), 8);
  t.equal(rig.cfgRead(0, 8, 0, 4), 0x11e81234);
  rig.cfgWrite(0, 8, 0x10, 0xffffffff, 4);
  t.equal(rig.cfgRead(0, 8, 0x10, 4), 0xfff00000);
  rig.cfgWrite(0, 8, 0x10, BAR, 4);
  t.equal(rig.sys.read(BAR, 4).lo, 0, 'memory decode off: nothing there');
  rig.cfgWrite(0, 8, 0x04, 0x2, 2);
  t.equal(rig.sys.read(BAR, 4).lo, 0x010000ed);
});

t.test('liveness, factorial, status and IRQ registers', async (t) => {
  const { rig } = eduRig();
  rig.sys.write(BAR + 4, 4, 0x12345678);
  t.equal(rig.sys.read(BAR + 4, 4).lo, 0xedcba987);
  rig.sys.write(BAR + 8, 4, 5);
  t.equal(rig.sys.read(BAR + 8, 4).lo, 120);
  t.equal(factorial(13), 0x7328cc00);
  t.equal(factorial(0xffffffff), 0);
  t.equal(rig.sys.read(BAR, 8).lo, 0xffffffff, '8-byte read below 0x80 is all-ones');
});

t.test('DMA both ways through the bus-master address space, 100 ms later', async (t) => {
  const { rig } = eduRig();
  rig.sys.writeBytes(0x10000, Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
  rig.sys.write(BAR + 0x80, 8, 0x10000);
  rig.sys.write(BAR + 0x88, 8, 0x40000);
  rig.sys.write(BAR + 0x90, 8, 8);
  rig.sys.write(BAR + 0x98, 8, 1);
  t.equal(rig.sys.read(BAR + 0x98, 8).lo, 1, 'running');
  rig.clock.step(99_999_999);
  t.equal(rig.sys.read(BAR + 0x98, 8).lo, 1, 'still running before 100 ms');
  rig.clock.step(1);
  t.equal(rig.sys.read(BAR + 0x98, 8).lo, 0, 'done at 100 ms');
  rig.sys.write(BAR + 0x80, 8, 0x40000);
  rig.sys.write(BAR + 0x88, 8, 0x20000);
  rig.sys.write(BAR + 0x98, 8, 3);
  rig.clock.step();
  const out = new Uint8Array(8);
  rig.sys.readBytes(0x20000, out);
  t.same([...out], [1, 2, 3, 4, 5, 6, 7, 8]);
});

t.test('with Bus Master Enable clear the DMA fails: reads give zeros, writes change nothing', async (t) => {
  const { rig, edu } = eduRig();
  edu.dmaBuf.fill(0xaa);
  rig.sys.writeBytes(0x10000, Uint8Array.from([9, 9, 9, 9]));
  rig.cfgWrite(0, 8, 0x04, 0x2, 2);
  rig.sys.write(BAR + 0x80, 8, 0x10000);
  rig.sys.write(BAR + 0x88, 8, 0x40000);
  rig.sys.write(BAR + 0x90, 8, 4);
  rig.sys.write(BAR + 0x98, 8, 1);
  rig.clock.step();
  t.same([...edu.dmaBuf.subarray(0, 4)], [0, 0, 0, 0], 'refused read delivered zeros');
  edu.dmaBuf.fill(0x55, 0, 4);
  rig.sys.write(BAR + 0x80, 8, 0x40000);
  rig.sys.write(BAR + 0x88, 8, 0x30000);
  rig.sys.write(BAR + 0x98, 8, 3);
  rig.clock.step();
  const out = new Uint8Array(4);
  rig.sys.readBytes(0x30000, out);
  t.same([...out], [0, 0, 0, 0], 'refused write changed nothing');
});

t.test('reset cancels a DMA in flight: it does not fire once Bus Master is back (fuzz reproducer vtd-canary)', async (t) => {
  const { rig, edu } = eduRig();
  edu.dmaBuf.fill(0x77, 0, 8);
  rig.sys.write(BAR + 0x80, 8, 0x40000);
  rig.sys.write(BAR + 0x88, 8, 0x20000);
  rig.sys.write(BAR + 0x90, 8, 8);
  rig.sys.write(BAR + 0x98, 8, 3); // RUN | to RAM, due in 100 ms
  edu.reset();
  rig.cfgWrite(0, 8, 0x10, BAR, 4);
  rig.cfgWrite(0, 8, 0x04, 0x6, 2); // the guest enables memory and Bus Master again
  t.equal(rig.sys.read(BAR + 0x98, 8).lo, 0, 'DMA command register cleared by reset');
  rig.clock.step(200_000_000);
  const out = new Uint8Array(8);
  rig.sys.readBytes(0x20000, out);
  t.same([...out], [0, 0, 0, 0, 0, 0, 0, 0], 'the transfer set up before the reset never happened');
});
