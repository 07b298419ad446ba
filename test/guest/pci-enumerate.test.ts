import t from 'tap';
import { dmaAliases } from '../../src/guest/pci-core/dma-alias.js';
import type { PciFunction } from '../../src/guest/pci-core/device.js';
import { enumeratePci } from '../../src/guest/pci-core/enumerate.js';
import { assignResources, type HostWindows } from '../../src/guest/pci-core/resources.js';
import { pciEnableAts, pciEnablePasid, pciMaxPasids } from '../../src/guest/pci-core/ats.js';
import { pciEnableMsi, pciMsixInfo } from '../../src/guest/pci-core/msi.js';
import { cf8Access } from '../../src/guest/pci-core/config-access.js';
import {
  PCI_CAP_ID_MSI, PCI_COMMAND, PCI_EXT_CAP_ID_ACS, PCI_EXT_CAP_ID_ATS, PCI_EXT_CAP_ID_PASID, PCI_EXP_TYPE_PCI_BRIDGE,
  PCI_EXP_TYPE_ROOT_PORT, PCI_MEMORY_BASE, PCI_MEMORY_LIMIT, PCI_PREF_BASE_UPPER32, PCI_PREF_MEMORY_BASE, PCI_PREF_MEMORY_LIMIT,
} from '../../src/guest/pci-core/regs.js';
import { pcieTopology } from './fake/topology.js';

const WINDOWS: HostWindows = {
  io: { pciBase: 0xc000, cpuBase: 0xc000, size: 0x4000 },
  mem32: { pciBase: 0xc000_0000, cpuBase: 0xc000_0000, size: 0x3ec0_0000 },
  mem64: { pciBase: 0x80_0000_0000, cpuBase: 0x80_0000_0000, size: 0x80_0000_0000 },
};

function scan(windows = WINDOWS) {
  const topo = pcieTopology();
  const pci = enumeratePci(topo.host.access(), { assignBuses: true });
  const failed = assignResources(pci.root, windows);
  const byName = (n: string): PciFunction => pci.functions.find((f) => f.devfn === topo.fns[n]!.devfn && f.busNumber === topo.fns[n]!.busNumber)!;
  return { topo, pci, failed, byName };
}

t.test('buses are numbered depth first and bridges get primary/secondary/subordinate', async (t) => {
  const { pci, byName } = scan();
  t.same(pci.functions.map((f) => f.name), [
    '0000:00:00.0', '0000:00:01.0', '0000:00:03.0', '0000:00:04.0', '0000:00:04.1', '0000:00:05.0',
    '0000:01:00.0', '0000:02:00.0', '0000:03:01.0', '0000:03:02.0',
  ].sort((a, b) => pci.functions.findIndex((f) => f.name === a) - pci.functions.findIndex((f) => f.name === b)));
  const bus = (n: string): number[] => [0x18, 0x19, 0x1a].map((o) => byName(n).read(o, 1));
  t.same(bus('rp1'), [0, 1, 1]);
  t.same(bus('rp2'), [0, 2, 3]);
  t.same(bus('pcie2pci'), [2, 3, 3]);
  t.equal(byName('legacy2').name, '0000:03:02.0');
  t.same(pci.buses.map((b) => b.number), [0, 1, 2, 3]);
});

t.test('BARs are sized and placed aligned inside the host windows; bridge windows cover what is behind them', async (t) => {
  const { pci, failed, byName } = scan();
  t.same(failed, []);
  const ep = byName('ep');
  t.same(ep.bars.map((b) => [b.index, b.kind, b.prefetchable, b.size]), [[0, 'mem64', true, 16 << 20], [2, 'mem32', false, 0x1000]]);
  const all = pci.functions.flatMap((f) => f.bars.map((b) => ({ f, b })));
  for (const { f, b } of all) {
    t.equal(b.busAddress % b.size, 0, `${f.name} BAR ${b.index} aligned to its size`);
    const w = b.kind === 'io' ? WINDOWS.io! : b.kind === 'mem64' && b.prefetchable ? WINDOWS.mem64! : WINDOWS.mem32!;
    t.ok(b.busAddress >= w.pciBase && b.busAddress + b.size <= w.pciBase + w.size, `${f.name} BAR ${b.index} inside its window`);
  }
  const mem = all.filter((x) => x.b.kind !== 'io').sort((a, b) => a.b.busAddress - b.b.busAddress);
  for (let i = 1; i < mem.length; i++) t.ok(mem[i]!.b.busAddress >= mem[i - 1]!.b.busAddress + mem[i - 1]!.b.size, 'no two BARs overlap');
  t.ok(ep.bars[0]!.busAddress >= 2 ** 32, 'the 64-bit prefetchable BAR went above 4 GiB');
  const rp1 = byName('rp1');
  const prefBase = ((rp1.read(PCI_PREF_MEMORY_BASE, 2) & 0xfff0) * 0x10000) + rp1.read(PCI_PREF_BASE_UPPER32, 4) * 2 ** 32;
  const prefLimit = ((rp1.read(PCI_PREF_MEMORY_LIMIT, 2) & 0xfff0) * 0x10000) + 0xfffff + rp1.read(PCI_PREF_BASE_UPPER32 + 4, 4) * 2 ** 32;
  t.ok(ep.bars[0]!.busAddress >= prefBase && ep.bars[0]!.busAddress + (16 << 20) - 1 <= prefLimit, 'root port prefetchable window covers the endpoint BAR');
  const memBase = (rp1.read(PCI_MEMORY_BASE, 2) & 0xfff0) * 0x10000;
  const memLimit = (rp1.read(PCI_MEMORY_LIMIT, 2) & 0xfff0) * 0x10000 + 0xfffff;
  t.ok(ep.bars[1]!.busAddress >= memBase && ep.bars[1]!.busAddress < memLimit, 'root port memory window covers the 32-bit BAR');
  const legacy1 = byName('legacy1');
  t.equal(legacy1.bars[0]!.kind, 'io');
  t.ok(legacy1.read(PCI_COMMAND, 2) & 0x3, 'I/O and memory decode on for a function with both');
  t.equal(byName('rp2').read(PCI_COMMAND, 2) & 0x7, 0x7, 'bridges forward I/O, memory and bus mastering');
});

t.test('without a 64-bit window everything lands in the 32-bit window; what does not fit is reported', async (t) => {
  const { failed, byName } = scan({ io: WINDOWS.io!, mem32: WINDOWS.mem32! });
  t.same(failed, []);
  t.ok(byName('ep').bars[0]!.busAddress < 2 ** 32);
  const tiny = scan({ io: WINDOWS.io!, mem32: { pciBase: 0xc000_0000, cpuBase: 0xc000_0000, size: 1 << 20 } });
  t.ok(tiny.failed.length > 0);
  t.match(tiny.failed.join('\n'), /no room in the 32-bit memory window/);
});

t.test('a second scan that reads what firmware programmed finds the same buses and BARs', async (t) => {
  const { topo, pci } = scan();
  const again = enumeratePci(topo.host.access(), { assignBuses: false });
  t.same(again.functions.map((f) => f.name), pci.functions.map((f) => f.name));
  t.same(again.functions.map((f) => f.bars.map((b) => b.busAddress)), pci.functions.map((f) => f.bars.map((b) => b.busAddress)));
});

t.test('capabilities: PCIe type, MSI, ATS, PASID, virtio vendor capabilities', async (t) => {
  const { byName } = scan();
  t.equal(byName('rp1').pcieType, PCI_EXP_TYPE_ROOT_PORT);
  t.equal(byName('pcie2pci').pcieType, PCI_EXP_TYPE_PCI_BRIDGE);
  t.notOk(byName('legacy1').isPcie);
  const ep = byName('ep');
  t.ok(ep.cap(PCI_CAP_ID_MSI));
  t.same(ep.extCaps.map((c) => c.id), [PCI_EXT_CAP_ID_ATS, PCI_EXT_CAP_ID_PASID]);
  t.notOk(ep.extCap(PCI_EXT_CAP_ID_ACS));
  t.equal(pciMaxPasids(ep), 256);
  t.equal(pciEnableAts(ep, 12), 0);
  t.equal(ep.read(ep.extCap(PCI_EXT_CAP_ID_ATS)!.offset + 6, 2), 0x8000, 'ATS enabled with STU 0 (4 KiB)');
  t.equal(pciEnablePasid(ep, 0), 0);
  t.ok(pciEnableMsi(ep, 0xfee0_0000, 0x41));
  t.equal(ep.read(ep.cap(PCI_CAP_ID_MSI)!.offset + 2, 2) & 1, 1);
  const v = byName('virtio');
  t.same(v.virtioCaps.map((c) => [c.cfgType, c.bar, c.offset, c.length]), [[1, 4, 0, 0x1000], [2, 4, 0x3000, 0x1000], [3, 4, 0x1000, 0x1000], [4, 4, 0x2000, 0x1000]]);
  t.equal(v.virtioCaps[1]!.notifyOffMultiplier, 4);
  t.same(pciMsixInfo(v), { offset: 0x40, tableSize: 3, tableBar: 1, tableOffset: 0, pbaBar: 1, pbaOffset: 0x800 });
  t.equal(pciMsixInfo(ep), undefined);
});

t.test('requester-ID aliases: a PCIe-to-PCI bridge takes ownership as (secondary bus, 00.0)', async (t) => {
  const { byName } = scan();
  t.same(dmaAliases(byName('ep')), [0x0100], 'root ports pass IDs through');
  t.same(dmaAliases(byName('legacy2')), [0x0310, 0x0300]);
  t.same(dmaAliases(byName('mf1')), [0x0021]);
});

t.test('configuration mechanism #1 over the port reaches the same functions', async (t) => {
  const topo = pcieTopology();
  topo.m.io.push(topo.host.cf8());
  const pci = enumeratePci(cf8Access(topo.m.port())!, { assignBuses: true });
  t.equal(pci.functions.length, 10);
  t.equal(pci.functions.find((f) => f.vendor === 0x8086 && f.device === 0x1234)!.extCaps.length, 0, 'extended capabilities are beyond 0xcf8\'s reach');
});
