import type { FirmwareDescription, FirmwareIommu } from '../../description.js';
import { acpiTableBegin, acpiTableEnd, type AcpiTableGenerator } from '../acpi-table.js';
import type { ByteBuffer } from '../../byte-buffer.js';

/** IORT node types (Arm DEN 0049E.b, table 4). */
const IORT_NODE_ITS_GROUP = 0x00;
const IORT_NODE_PCI_ROOT_COMPLEX = 0x02;
const IORT_NODE_SMMU_V3 = 0x04;
const IORT_HEADER = 48;
const ITS_GROUP_SIZE = 24;
const SMMU_V3_SIZE = 68;
const RC_SIZE = 36;
const ID_MAPPING_SIZE = 20;
/** SMMUv3 node flags: COHACC override (the SMMU's table walks are coherent). */
const IORT_SMMU_V3_COHACC_OVERRIDE = 1;
/** Root complex memory access: CCA = 1; memory flags CPM | DACS (fully coherent). */
const IORT_CCA = 1;
const IORT_MEMFLAGS = 0x03;
const ARM_SPI_BASE = 32;

interface IdMapping {
  readonly inputBase: number;
  /** Number of IDs (the table field is written from it, see idCount). */
  readonly ids: number;
  readonly outputRef: number;
}

function appendIdMapping(b: ByteBuffer, inputBase: number, idCount: number, outputBase: number, outputRef: number): void {
  b.u32(inputBase);
  b.u32(idCount);
  b.u32(outputBase);
  b.u32(outputRef);
  b.u32(0); // flags: not a single mapping
}

/** RIDs per host bridge that goes through the SMMU: its root bus to the highest subordinate bus programmed now. */
function smmuRanges(desc: FirmwareDescription): { base: number; ids: number }[] {
  const out: { base: number; ids: number }[] = [];
  for (const h of desc.pciHosts) {
    if (h.bypassIommu) continue;
    let max = h.busStart;
    for (const d of desc.devices) {
      if (d.segment === h.segment && d.bridge && (d.bdf >> 8) >= h.busStart && (d.bdf >> 8) <= h.busEnd) max = Math.max(max, d.bridge.subordinate);
    }
    out.push({ base: h.busStart << 8, ids: (max - h.busStart + 1) << 8 });
  }
  return out.sort((a, b) => a.base - b.base);
}

/**
 * IORT, revision 3 (Arm DEN 0049E.b), as QEMU 7.2's virt build_iort: an
 * ITS group (id 0, one ITS, present even on GICv2 and without an SMMU),
 * the SMMUv3 node when the machine has one (id 1; base, COHACC override,
 * GSIVs event/PRI/GERR/sync, its own IDs 0..0xffff to the ITS), and the
 * root complex (CCA 1, memory flags 3, 64-bit limit) whose RIDs go to the
 * SMMU for the bus ranges of host bridges that do not bypass it (computed
 * from the bus numbers programmed when the tables are built) and to the
 * ITS for the gaps.
 *
 * QEMU 7.2's ID-count quirk (firmware.md quirk 1): the spec's ID Count is
 * "number of IDs minus one"; QEMU writes the number of IDs for the RC ->
 * SMMU ranges and all but the last RC -> ITS gap, so each boundary RID is
 * in two ranges (Linux takes the first match, the SMMU). We follow the
 * specification by default, and QEMU 7.2 with the SMMU's x-qemu72=on.
 */
export const iort: AcpiTableGenerator = {
  signature: 'IORT',
  applies: (desc) => desc.machine === 'virt',
  build(ctx) {
    const desc = ctx.desc;
    const smmu: FirmwareIommu | undefined = desc.iommus?.find((i) => i.model === 'smmuv3');
    const qemuCounts = smmu?.options['x-qemu72'] === true;
    const idCount = (ids: number): number => (qemuCounts ? ids : ids - 1);
    const b = ctx.tables;
    const t = acpiTableBegin(ctx, 'IORT', 3);
    const nodes = smmu ? 3 : 2;
    b.u32(nodes);
    b.u32(IORT_HEADER);
    b.u32(0);
    // ITS group.
    const itsOffset = b.length - t.offset;
    b.u8(IORT_NODE_ITS_GROUP);
    b.u16(ITS_GROUP_SIZE);
    b.u8(1);
    b.u32(0); // identifier
    b.u32(0); // mappings
    b.u32(0);
    b.u32(1); // ITS count
    b.u32(0); // GIC ITS identifier
    let smmuOffset = 0;
    if (smmu) {
      smmuOffset = b.length - t.offset;
      const irqs = smmu.irqs ?? [];
      b.u8(IORT_NODE_SMMU_V3);
      b.u16(SMMU_V3_SIZE + ID_MAPPING_SIZE);
      b.u8(4);
      b.u32(1); // identifier
      b.u32(1); // mappings
      b.u32(SMMU_V3_SIZE);
      b.u64(smmu.mmio?.base ?? 0);
      b.u32(IORT_SMMU_V3_COHACC_OVERRIDE);
      b.u32(0);
      b.u64(0); // VATOS
      b.u32(0); // model: generic SMMUv3
      // GSIVs: event, PRI, GERR, sync (QEMU's irqs are eventq, priq, cmdq-sync, gerror).
      for (const i of [0, 1, 3, 2]) b.u32((irqs[i] ?? 0) + ARM_SPI_BASE);
      b.u32(0); // proximity domain
      b.u32(0); // device ID mapping index
      appendIdMapping(b, 0, 0xffff, 0, itsOffset);
    }
    // Root complex: RC -> SMMU ranges first, then RC -> ITS for the rest.
    const toSmmu: IdMapping[] = smmu ? smmuRanges(desc).map((r) => ({ inputBase: r.base, ids: r.ids, outputRef: smmuOffset })) : [];
    const toIts: { inputBase: number; count: number }[] = [];
    let next = 0;
    for (const m of toSmmu) {
      if (next < m.inputBase) toIts.push({ inputBase: next, count: idCount(m.inputBase - next) });
      next = m.inputBase + m.ids;
    }
    if (next < 0xffff) toIts.push({ inputBase: next, count: 0xffff - next });
    const mappings = toSmmu.length + toIts.length;
    b.u8(IORT_NODE_PCI_ROOT_COMPLEX);
    b.u16(RC_SIZE + ID_MAPPING_SIZE * mappings);
    b.u8(3);
    b.u32(smmu ? 2 : 1); // identifier
    b.u32(mappings);
    b.u32(RC_SIZE);
    b.u32(IORT_CCA);
    b.u8(0); // allocation hints
    b.u16(0);
    b.u8(IORT_MEMFLAGS);
    b.u32(smmu?.options['ats'] === true ? 1 : 0); // ATS attribute: supported with the SMMU's ats=on (QEMU 7.2: never)
    b.u32(0); // PCI segment
    b.u8(64); // memory address size limit
    b.u8(0);
    b.u16(0);
    for (const m of toSmmu) appendIdMapping(b, m.inputBase, idCount(m.ids), m.inputBase, m.outputRef);
    for (const m of toIts) appendIdMapping(b, m.inputBase, m.count, m.inputBase, itsOffset);
    acpiTableEnd(ctx, t);
  },
};
