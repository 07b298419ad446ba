import t from 'tap';
import {
  IOMMU_NONE, IOMMU_RO, IOMMU_RW, MEMTX_ACCESS_ERROR, MEMTX_OK, MemorySystem, type AddressSpace, type IOMMUTLBEntry,
} from '../../src/memory/index.js';

/** A one-page-table IOMMU: IOVA page -> (GPA page, perm). */
function setup() {
  const sys = new MemorySystem();
  const system = sys.container('system', 1n << 64n);
  const memory = sys.addressSpace(system, 'memory');
  const ram = sys.ram('ram', 0x10_0000);
  system.addSubregion(ram, 0);
  const table = new Map<number, [number, number]>([[0x10, [0x42, IOMMU_RW]], [0x11, [0x43, IOMMU_RO]]]);
  const calls: number[] = [];
  const iommu = sys.iommu('test-iommu', 1n << 64n, {
    translate(addr): IOMMUTLBEntry {
      calls.push(addr);
      const hit = table.get(Math.floor(addr / 4096));
      return { targetAs: hit ? memory : null, iova: addr - (addr % 4096), translatedAddr: hit ? hit[0] * 4096 : 0, addrMask: 0xfff, perm: hit ? hit[1] : IOMMU_NONE };
    },
  });
  const dmaRoot = sys.container('dma-root', 1n << 64n);
  dmaRoot.addSubregion(iommu, 0);
  const dma: AddressSpace = sys.addressSpace(dmaRoot, 'dev');
  return { ram, dma, calls };
}

t.test('accesses through an IOMMU region are translated page by page', async (t) => {
  const { ram, dma } = setup();
  ram.block.st32le(0x42ff8, 0x11111111);
  ram.block.st32le(0x43000, 0x22222222);
  t.equal(dma.ld32(0x10ff8), 0x11111111);
  const buf = new Uint8Array(16);
  t.equal(dma.readBytes(0x10ff8, buf), MEMTX_OK, 'a read crossing two mapped pages');
  t.same([...buf.subarray(8, 12)], [0x22, 0x22, 0x22, 0x22], 'the second page comes from its own translation');
});

t.test('a permission miss is an access error: reads give zero, writes change nothing', async (t) => {
  const { ram, dma } = setup();
  ram.block.st32le(0x43000, 0xabcdef01);
  t.equal(dma.write(0x11000, 4, 0), MEMTX_ACCESS_ERROR, 'read-only page refuses a write');
  t.equal(ram.block.ld32le(0x43000), 0xabcdef01);
  const r = dma.read(0x12000, 4);
  t.same([r.result, r.lo], [MEMTX_ACCESS_ERROR, 0], 'unmapped page');
});

t.test('the access observer sees the final address', async (t) => {
  const { dma } = setup();
  const seen: string[] = [];
  dma.observer = (addr, len, w, res, target, taddr) => seen.push(`${addr.toString(16)}+${len} ${w ? 'W' : 'R'} ${res} ${target?.name ?? '-'}:${taddr.toString(16)}`);
  dma.write(0x10010, 4, 1);
  dma.read(0x12000, 4);
  t.same(seen, ['10010+4 W 0 memory:42010', '12000+4 R 4 -:0']);
});
