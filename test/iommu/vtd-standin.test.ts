import t from 'tap';
import { IOMMU_RO, IOMMU_RW, MEMTX_ACCESS_ERROR, MEMTX_OK } from '../../src/memory/index.js';
import {
  VTD_FR_CONTEXT_ENTRY_P, VTD_FR_ROOT_ENTRY_P, VTD_FR_WRITE, VtdStandin,
} from '../../src/iommu/index.js';
import { machine } from '../helpers/iommu-machine.js';

/** A device 00:03.0 whose DMA address space has the stand-in's IOMMU region at its root. */
function setup() {
  const m = machine();
  const vtd = new VtdStandin(m.coherence, { awBits: 48 });
  const slpt = m.tables.attach(0, 0x18, 5);
  vtd.writeRtaddr(m.tables.root);
  vtd.setRootTablePointer();
  const dmar = vtd.region(m.sys, 0x18, m.memory);
  const dma = m.sys.addressSpace(dmar.mr, 'edu');
  return { ...m, vtd, slpt, dma, dmar };
}

t.test('with translation off, DMA is identity', async (t) => {
  const { dma, ramRegion } = setup();
  ramRegion.block.st32le(0x9000, 0x12345678);
  t.equal(dma.ld32(0x9000), 0x12345678);
});

t.test('with TE on, device DMA goes through the guest second-level tables', async (t) => {
  const { vtd, tables, slpt, dma, ramRegion, dmar } = setup();
  vtd.setTranslationEnable(true);
  tables.map(slpt, 0, 0x40_0000, 3);
  tables.map(slpt, 0x1000, 0x41_0000, 1);
  ramRegion.block.st32le(0x40_0000, 0x12345678);
  t.equal(dma.ld32(0), 0x12345678, 'kvm-unit-tests "DMAR 4B memcpy": IOVA 0 reads the mapped page');
  t.equal(dma.st32(4, 0xcafe), MEMTX_OK);
  t.equal(ramRegion.block.ld32le(0x40_0004), 0xcafe);
  t.equal(dma.st32(0x1000, 1), MEMTX_ACCESS_ERROR, 'a write to a read-only page is refused');
  t.same(vtd.lastFault, { sid: 0x18, iova: 0x1000, reason: VTD_FR_WRITE });
  const e = dmar.translate(0x1234, IOMMU_RO, 0, {});
  t.same([e.iova, e.translatedAddr, e.addrMask, e.perm], [0x1000, 0x41_0000, 0xfff, IOMMU_RO]);
  t.equal(dmar.translate(0x10, IOMMU_RO, 0, {}).perm, IOMMU_RW);
  t.equal(dmar.mr.name, 'vtd-03.0-dmar');
});

t.test('requesters without root or context entries fault', async (t) => {
  const { vtd } = setup();
  vtd.setTranslationEnable(true);
  t.equal(vtd.translate(0x0118, 0, IOMMU_RO), -VTD_FR_ROOT_ENTRY_P, 'bus 1 has no root entry');
  t.equal(vtd.translate(0x0020, 0, IOMMU_RO), -VTD_FR_CONTEXT_ENTRY_P, 'devfn 4.0 has no context entry');
});
