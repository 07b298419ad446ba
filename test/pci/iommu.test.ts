import t from 'tap';
import { IOMMU_NONE, IOMMU_RW, type AddressSpace, type IOMMUTLBEntry } from '../../src/memory/index.js';
import { Edu, PCIBridgeDev, PCIePCIBridge, type PCIBus, type PCIDevice } from '../../src/pci/index.js';
import { makeRig, type Rig } from './helpers.js';

/** A toy vIOMMU: one IOMMU region per (bus, devfn) that shifts IOVAs by 1 MiB into system memory. */
function toyIommu(rig: Rig) {
  const calls: string[] = [];
  const removed: string[] = [];
  const spaces = new Map<string, AddressSpace>();
  const ops = {
    getAddressSpace(bus: PCIBus, devfn: number): AddressSpace {
      const key = `${bus.name}/${devfn}`;
      calls.push(key);
      let as = spaces.get(key);
      if (!as) {
        const region = rig.mem.iommu(`toy-${key}`, 1n << 64n, {
          translate(addr: number): IOMMUTLBEntry {
            if (addr >= 0x800000) return { targetAs: rig.sys, iova: addr & ~0xfff, translatedAddr: 0, addrMask: 0xfff, perm: IOMMU_NONE };
            return { targetAs: rig.sys, iova: addr & ~0xfff, translatedAddr: (addr & ~0xfff) + 0x100000, addrMask: 0xfff, perm: IOMMU_RW };
          },
        });
        as = rig.mem.addressSpace(region, `toy-${key}`);
        spaces.set(key, as);
      }
      return as;
    },
    deviceRemoved(bus: PCIBus, devfn: number, dev: PCIDevice) {
      removed.push(`${bus.name}/${devfn}/${dev.typeName}`);
    },
  };
  return { ops, calls, removed };
}

function eduAt(rig: Rig, bus: PCIBus, devfn: number): Edu {
  const e = new Edu();
  bus.plug(e, devfn);
  e.reset();
  e.cs.set16(4, 0x4);
  e.configWrite(4, 0x4, 2);
  return e;
}

t.test('an IOMMU attached after the devices re-points their bus-master aliases', async (t) => {
  const rig = makeRig();
  const edu = eduAt(rig, rig.bus, 8);
  rig.sys.write(0x100000, 4, 0xa5a5a5a5);
  rig.sys.write(0, 4, 0x11111111);
  const buf = new Uint8Array(4);
  edu.dmaRead(0, buf);
  t.same([...buf], [0x11, 0x11, 0x11, 0x11], 'no IOMMU: DMA goes to system memory');
  const toy = toyIommu(rig);
  rig.bus.setIommu(toy.ops);
  t.same(toy.calls, ['pcie.0/8']);
  edu.dmaRead(0, buf);
  t.same([...buf], [0xa5, 0xa5, 0xa5, 0xa5], 'now translated by the IOMMU');
  t.not(edu.dmaRead(0x900000, buf), 0, 'an IOMMU fault is a failed transaction');
  t.same([...buf], [0, 0, 0, 0], 'and a failed DMA read delivers zeros');
  edu.configWrite(4, 0, 2);
  edu.dmaRead(0, buf);
  t.same([...buf], [0, 0, 0, 0], 'Bus Master Enable clear: nothing reaches even the IOMMU');
});

t.test('the IOMMU sees aliased (bus, devfn) behind conventional bridges and hears about removals', async (t) => {
  const rig = makeRig();
  const toy = toyIommu(rig);
  rig.bus.setIommu(toy.ops);
  const br = new PCIBridgeDev(1);
  rig.bus.plug(br, 0x18);
  const p2p = new PCIePCIBridge();
  rig.bus.plug(p2p, 0x20);
  toy.calls.length = 0;
  const behindBridge = eduAt(rig, br.secondaryBus, 0x10);
  const behindP2p = eduAt(rig, p2p.secondaryBus, 0x10);
  t.same(toy.calls, ['pcie.0/24', 'pci.1/0'], 'legacy bridge: its own devfn; PCIe-to-PCI: (secondary bus, 00.0)');
  t.equal(behindBridge.busMaster.dmaAddressSpace?.name, 'toy-pcie.0/24');
  t.equal(behindP2p.busMaster.dmaAddressSpace?.name, 'toy-pci.1/0');
  p2p.secondaryBus.unplug(behindP2p);
  t.same(toy.removed, ['pci.1/0/edu']);
  t.notOk(rig.mem.addressSpaces.some((as) => as === behindP2p.busMaster.as), 'its bus-master address space is gone');
});
