import t from 'tap';
import { parseFdt, type FdtTree } from '../../src/guest/fw/fdt/fdt.js';
import { dmaWindowOf, iommuMapOf, mapRid, pciRangesOf, regOf } from '../../src/guest/fw/fdt/props.js';
import { loadRecordedDtb } from './fake/fw-cfg.js';
import { repoPath } from '../helpers/paths.js';

function tree(name: string): FdtTree {
  const r = parseFdt(loadRecordedDtb(repoPath('test/guest/data', name)));
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

t.test('virt (QEMU 7.2): nodes, reg with 2+2 cells, PCI ranges, fw_cfg', async (t) => {
  const dt = tree('virt-edu.dtb.txt');
  t.equal(dt.version, 17);
  t.equal(dt.root.string('compatible'), 'linux,dummy-virt');
  const pcie = dt.findCompatible('pci-host-ecam-generic')[0]!;
  t.equal(pcie.path, '/pcie@10000000');
  t.same(regOf(pcie), [{ address: 0x40_1000_0000n, size: 0x1000_0000n }], 'high ECAM');
  t.same(pcie.cells('bus-range'), [0, 255]);
  const r = pciRangesOf(pcie);
  t.same(r.map((x) => [x.space, x.pciAddress, x.cpuAddress, x.size]), [
    ['io', 0n, 0x3eff_0000n, 0x1_0000n],
    ['mem32', 0x1000_0000n, 0x1000_0000n, 0x2eff_0000n],
    ['mem64', 0x80_0000_0000n, 0x80_0000_0000n, 0x80_0000_0000n],
  ]);
  const fw = dt.findCompatible('qemu,fw-cfg-mmio')[0]!;
  t.same(regOf(fw), [{ address: 0x0902_0000n, size: 0x18n }]);
  t.equal(iommuMapOf(pcie, dt).length, 0, 'no IOMMU on plain virt');
});

t.test('virt with iommu=smmuv3: iommu-map sends every RID to the SMMU with ID = RID', async (t) => {
  const dt = tree('virt-smmuv3-edu.dtb.txt');
  const pcie = dt.findCompatible('pci-host-ecam-generic')[0]!;
  const map = iommuMapOf(pcie, dt);
  t.equal(map.length, 1);
  t.equal(map[0]!.iommu.path, '/smmuv3@9050000');
  t.ok(map[0]!.iommu.isCompatible('arm,smmu-v3'));
  t.same([map[0]!.ridBase, map[0]!.idBase, map[0]!.length], [0, 0, 0x10000]);
  t.same(mapRid(pcie, map, 0x0210), { iommu: map[0]!.iommu, id: 0x0210 });
  t.equal(dt.byPhandle(map[0]!.iommu.phandle!), map[0]!.iommu);
});

t.test('pseries (QEMU 7.2): the PHB, its ibm,dma-window and the RTAS tokens', async (t) => {
  const dt = tree('pseries-edu.dtb.txt');
  const phb = dt.byPath('/pci@800000020000000')!;
  t.ok(phb);
  t.same(dmaWindowOf(phb), { liobn: 0x8000_0000, busAddress: 0n, size: 0x4000_0000n }, '1 GiB at bus address 0, LIOBN 0x80000000');
  t.same(regOf(phb)[0], { address: 0x0800_0000_2000_0000n, size: 0n });
  const rtas = dt.byPath('/rtas')!;
  t.same([rtas.u32('ibm,read-pci-config'), rtas.u32('ibm,write-pci-config'), rtas.u32('ibm,query-pe-dma-window')], [0x2016, 0x2017, 0x2026]);
  const mem32 = pciRangesOf(phb).find((r) => r.space === 'mem32')!;
  t.same([mem32.pciAddress, mem32.cpuAddress, mem32.size], [0x8000_0000n, 0x2000_8000_0000n, 0x8000_0000n]);
});

function blob(): Uint8Array {
  return loadRecordedDtb(repoPath('test/guest/data/virt-edu.dtb.txt')).slice(0, 0x2000);
}
function setBe(b: Uint8Array, off: number, v: number): void {
  new DataView(b.buffer).setUint32(off, v);
}
function errorOf(b: Uint8Array): string {
  const r = parseFdt(b);
  return r.ok ? 'parsed' : r.error;
}

t.test('malformed blobs are rejected with the reason', async (t) => {
  const good = blob();
  const totalsize = new DataView(good.buffer).getUint32(4);
  const fixed = good.slice();
  setBe(fixed, 4, Math.min(totalsize, fixed.length));
  t.equal(errorOf(fixed), 'parsed');
  const magic = fixed.slice();
  setBe(magic, 0, 0xdeadbeef);
  t.match(errorOf(magic), /bad magic/);
  t.match(errorOf(fixed.slice(0, 20)), /shorter than the header/);
  const big = fixed.slice();
  setBe(big, 4, 0x10_0000);
  t.match(errorOf(big), /does not fit/);
  const ver = fixed.slice();
  setBe(ver, 20, 15);
  t.match(errorOf(ver), /version 15/);
  const offStruct = new DataView(fixed.buffer).getUint32(8);
  const tok = fixed.slice();
  setBe(tok, offStruct, 7);
  t.match(errorOf(tok), /unknown token 0x7/);
  // The first property of the root node: point its name offset past the strings block.
  const nameoff = fixed.slice();
  setBe(nameoff, offStruct + 8 + 8, 0x7fff_ffff);
  t.match(errorOf(nameoff), /offset|run past/);
  const endEarly = fixed.slice();
  setBe(endEarly, offStruct + 8, 9);
  t.match(errorOf(endEarly), /FDT_END inside \//);
});
