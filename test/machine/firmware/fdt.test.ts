import t from 'tap';
import { readFileSync } from 'node:fs';
import { pseriesDescription, virtDescription } from '../../../src/machine/firmware/presets.js';
import { buildMachineFdt } from '../../../src/machine/firmware/fdt/fdt-boards.js';
import { Fdt } from '../../../src/machine/firmware/fdt/fdt.js';
import type { FdtContributor } from '../../../src/machine/firmware/fdt/fdt-build.js';
import { repoPath } from '../../helpers/paths.js';
import { findNode, readDtb, strs, u32s } from './helpers/dtb-reader.js';
import { compareWithQemu, drcTuples } from './helpers/dtb-compare.js';

const DATA = 'test/machine/firmware/data';

t.test('DTB encoding: header v17/16, reservations, strings de-duplicated, nodes and props in order', async (t) => {
  const fdt = new Fdt();
  fdt.memReserve.push({ address: 0x1000, size: 0x2000 });
  fdt.bootCpuidPhys = 3;
  fdt.root.u32('#address-cells', 2).u64('big', 0x1_2345_6789n).strings('compatible', 'a', 'bc').bytes('raw', [1, 2, 3]);
  const a = fdt.root.node('a@1').empty('flag').u32('#address-cells', 1);
  fdt.root.node('z');
  fdt.root.node('b', { before: 'z' });
  a.node('leaf').string('compatible', 'x');
  const d = readDtb(fdt.toDtb());
  t.equal(d.version, 17);
  t.equal(d.lastCompVersion, 16);
  t.equal(d.bootCpuid, 3);
  t.same(d.memReserve, [[0x1000n, 0x2000n]]);
  t.same([...d.root.props.keys()], ['#address-cells', 'big', 'compatible', 'raw']);
  t.same(u32s(d.root.props.get('big')), [0x1, 0x23456789], 'u64 as two cells, high first');
  t.same(strs(d.root.props.get('compatible')), ['a', 'bc']);
  t.same([...d.root.props.get('raw')!], [1, 2, 3], 'byte string, padded in the block only');
  t.same(d.root.children.map((c) => c.name), ['a@1', 'b', 'z']);
  t.equal(findNode(d.root, '/a@1/leaf')!.props.get('compatible')!.toString(), 'x\0');
  t.equal(findNode(d.root, '/a@1')!.props.get('flag')!.length, 0);
  const names = strs(d.strings);
  t.same(names.filter((n) => n === '#address-cells').length, 1, 'one copy of a repeated name');
  t.same(names.filter((n) => n === 'compatible').length, 1);
});

t.test('virt: our tree is a reduction of QEMU 7.2 dumpdtb, property for property', async (t) => {
  const ours = readDtb(buildMachineFdt(virtDescription({ ramSize: 128 << 20 })).toDtb());
  const qemu = readDtb(readFileSync(repoPath(DATA, 'virt-qemu.dtb')));
  compareWithQemu(t, ours.root, qemu.root, new Set());
});

t.test('virt: pcie host on the high ECAM with QEMU ranges, bus-range, INTx and MSI maps', async (t) => {
  const d = readDtb(buildMachineFdt(virtDescription({ ramSize: 1 << 30 })).toDtb());
  const pcie = findNode(d.root, '/pcie@10000000')!;
  t.same(strs(pcie.props.get('compatible')), ['pci-host-ecam-generic']);
  t.same(u32s(pcie.props.get('reg')), [0x40, 0x10000000, 0, 0x10000000]);
  t.same(u32s(pcie.props.get('ranges')), [
    0x01000000, 0, 0, 0, 0x3eff0000, 0, 0x10000,
    0x02000000, 0, 0x10000000, 0, 0x10000000, 0, 0x2eff0000,
    0x03000000, 0x80, 0, 0x80, 0, 0x80, 0,
  ]);
  t.same(u32s(pcie.props.get('bus-range')), [0, 255]);
  const v2m = findNode(d.root, '/intc@8000000/v2m@8020000')!;
  t.same(u32s(pcie.props.get('msi-map')), [0, u32s(v2m.props.get('phandle'))[0], 0, 0x10000], 'all RIDs to the v2m frame');
  const map = u32s(pcie.props.get('interrupt-map'));
  t.equal(map.length, 16 * 10);
  t.same(map.slice(10 * 5, 10 * 5 + 10), [0x800, 0, 0, 2, 0x8002, 0, 0, 0, 5, 4], 'slot 1 INTB -> SPI 5');
  t.same(u32s(findNode(d.root, '/memory@40000000')!.props.get('reg')), [0, 0x40000000, 0, 0x40000000]);
});

t.test('pseries: our tree is a reduction of QEMU 7.2 dumpdtb, property for property', async (t) => {
  const ours = readDtb(buildMachineFdt(pseriesDescription({ ramSize: 512 << 20 })).toDtb());
  const qemu = readDtb(readFileSync(repoPath(DATA, 'pseries-qemu.dtb')));
  compareWithQemu(t, ours.root, qemu.root, new Set());
  t.equal(drcTuples(findNode(ours.root, '/pci@800000020000000')!).length, 256, 'one PCI DRC per devfn of the root bus');
  t.same(u32s(findNode(ours.root, '/event-sources/hot-plug-events')!.props.get('interrupts')), [0x1001, 0]);
});

t.test('pseries PHB: DMA window cells, DDW tokens, RTAS config-access tokens', async (t) => {
  const d = readDtb(buildMachineFdt(pseriesDescription({ ramSize: 1 << 30, phbs: 2 })).toDtb());
  const phb = findNode(d.root, '/pci@800000020000000')!;
  t.same(u32s(phb.props.get('ibm,dma-window')), [0x80000000, 0, 0, 0, 0x40000000]);
  t.same(u32s(phb.props.get('ibm,#dma-address-cells')), [2]);
  t.same(u32s(phb.props.get('ibm,#dma-size-cells')), [2]);
  t.same(u32s(phb.props.get('ibm,ddw-applicable')), [0x2026, 0x2027, 0x2028]);
  t.same(u32s(phb.props.get('ibm,ddw-extensions')), [2, 0x2029, 1]);
  t.same(u32s(phb.props.get('reg')), [0x08000000, 0x20000000, 0, 0]);
  t.same(u32s(findNode(d.root, '/pci@800000020000001')!.props.get('ibm,dma-window')), [0x80000100, 0, 0, 0, 0x40000000], 'second PHB LIOBN');
  const rtas = findNode(d.root, '/rtas')!;
  t.same(u32s(rtas.props.get('ibm,read-pci-config')), [0x2016]);
  t.same(u32s(rtas.props.get('ibm,write-pci-config')), [0x2017]);
  for (const [n, v] of [['ibm,query-pe-dma-window', 0x2026], ['ibm,create-pe-dma-window', 0x2027],
    ['ibm,remove-pe-dma-window', 0x2028], ['ibm,reset-pe-dma-window', 0x2029]] as const) {
    t.same(u32s(rtas.props.get(n)), [v], n);
  }
  t.ok(strs(rtas.props.get('ibm,hypertas-functions')).includes('hcall-multi-tce'));
});

t.test('a vIOMMU-style contributor adds a node before the host and patches the host', async (t) => {
  const smmu: FdtContributor = {
    name: 'smmuv3',
    build(ctx) {
      const p = ctx.allocPhandle();
      const n = ctx.fdt.root.node('smmuv3@9050000', { before: 'pcie@10000000' });
      n.phandle(p);
      n.u32('#iommu-cells', 1);
      ctx.fdt.find('/pcie@10000000')!.u32('iommu-map', 0, p, 0, 0x10000);
    },
  };
  const d = readDtb(buildMachineFdt(virtDescription({ ramSize: 1 << 30 }), [smmu]).toDtb());
  const names = d.root.children.map((c) => c.name);
  t.equal(names.indexOf('smmuv3@9050000') + 1, names.indexOf('pcie@10000000'));
  t.same(u32s(findNode(d.root, '/pcie@10000000')!.props.get('iommu-map')), [0, 0x8004, 0, 0x10000], 'next phandle after v2m, as QEMU');
});
