import t from 'tap';
import { IOMMU_RO, IOMMU_RW, RamBlock } from '../../src/memory/index.js';
import {
  GuestRamView, LPAE_AFFD, LPAE_FAULT_ACCESS, LPAE_FAULT_ADDR_SIZE, LPAE_FAULT_PERMISSION, LPAE_FAULT_TRANSLATION,
  LPAE_FAULT_WALK_EABT, LPAE_HAD, LPAE_QEMU_BLOCKS, TCE_FAULT_PERM, TCE_FAULT_TABLE, TCE_FAULT_WINDOW, TCE_TABLE_BE,
  VTD_FR_ADDR_BEYOND_MGAW, VTD_FR_CONTEXT_ENTRY_INV, VTD_FR_INTERRUPT_ADDR, VTD_FR_PAGING_ENTRY_INV,
  VTD_FR_PAGING_ENTRY_RSVD, VTD_FR_READ, VTD_FR_WRITE, VTD_SL_SNOOP, VTD_SL_TM, WALK_NONE, WALK_READ, WALK_WRITE,
  WalkResult, lpaeS1Walk, tceWalk, vtdSlWalk,
} from '../../src/iommu/index.js';

const RAM_BASE = 0x4000_0000;
const RAM_SIZE = 0x40_0000;

/** 4 MiB of guest RAM at 1 GiB, with a bump allocator for 4 KiB tables. */
function guest() {
  const block = new RamBlock('ram', RAM_SIZE);
  const ram = new GuestRamView([{ base: RAM_BASE, size: RAM_SIZE, sab: block.sab, offset: 0 }]);
  let next = RAM_BASE;
  const alloc = (align = 0x1000) => {
    next = Math.ceil(next / align) * align;
    const a = next;
    next += align;
    return a;
  };
  const set = (gpa: number, v: bigint) => {
    if (!ram.st64le(gpa, Number(v & 0xffffffffn), Number(v >> 32n))) throw new Error(`entry at ${gpa.toString(16)} outside RAM`);
  };
  return { block, ram, alloc, set };
}

/** Builds VT-d second-level tables: map(iova, gpa, level of the leaf, leaf bits, table bits). */
function vtdTables(levels: number) {
  const g = guest();
  const root = g.alloc();
  const tables = new Map<string, number>();
  const map = (iova: number, gpa: number, leafLevel = 1, leafBits = 3n, tableBits = 3n) => {
    let table = root;
    for (let level = levels; level > leafLevel; level--) {
      const idx = Math.floor(iova / 2 ** (12 + 9 * (level - 1))) % 512;
      const key = `${table}:${idx}`;
      let next = tables.get(key);
      if (next === undefined) {
        next = g.alloc();
        tables.set(key, next);
      }
      g.set(table + idx * 8, BigInt(next) | tableBits);
      table = next;
    }
    const idx = Math.floor(iova / 2 ** (12 + 9 * (leafLevel - 1))) % 512;
    g.set(table + idx * 8, BigInt(gpa) | leafBits | (leafLevel > 1 ? 0x80n : 0n));
    return table + idx * 8;
  };
  return { ...g, root, map };
}

t.test('VT-d: 3, 4 and 5-level tables translate 4K pages with the AND of permissions', async (t) => {
  for (const levels of [3, 4, 5]) {
    const v = vtdTables(levels);
    const iova = levels === 3 ? 0x12_3456_7000 : 0x1234_5678_9000;
    v.map(iova, 0x8765_4000);
    const r = new WalkResult();
    t.equal(vtdSlWalk(v.ram, v.root, levels, 57, 48, 0, iova + 0x123, WALK_WRITE, r), 0, `${levels} levels`);
    t.same([r.addr, r.shift, r.perm, r.level], [0x8765_4000, 12, IOMMU_RW, 1]);
  }
  const v = vtdTables(4);
  v.map(0x10_0000_0000, 0x1000, 1, 3n, 1n);
  const r = new WalkResult();
  t.equal(vtdSlWalk(v.ram, v.root, 4, 48, 48, 0, 0x10_0000_0000, WALK_WRITE, r), VTD_FR_WRITE, 'an R-only upper level refuses writes');
  t.equal(vtdSlWalk(v.ram, v.root, 4, 48, 48, 0, 0x10_0000_0000, WALK_READ, r), 0);
  t.equal(r.perm, IOMMU_RO, 'granted: the AND across levels');
  t.equal(vtdSlWalk(v.ram, v.root, 4, 48, 48, 0, 0x10_0000_1000, WALK_READ, r), VTD_FR_READ, 'not-present leaf');
  t.equal(vtdSlWalk(v.ram, v.root, 4, 48, 48, 0, 0x10_0000_1000, WALK_NONE, r), VTD_FR_READ, 'a full walk stops there too');
  t.equal(r.level, 1);
});

t.test('VT-d: 2M and 1G superpages; their reserved low address bits', async (t) => {
  const v = vtdTables(4);
  v.map(0x4000_0000, 0x8000_0000, 2);
  v.map(0x1_0000_0000, 0x1_4000_0000, 3);
  const r = new WalkResult();
  t.equal(vtdSlWalk(v.ram, v.root, 4, 48, 48, 0, 0x4012_3456, WALK_READ, r), 0);
  t.same([r.addr, r.shift, r.level], [0x8000_0000, 21, 2]);
  t.equal(vtdSlWalk(v.ram, v.root, 4, 48, 48, 0, 0x1_3fff_ffff, WALK_WRITE, r), 0);
  t.same([r.addr, r.shift, r.level], [0x1_4000_0000, 30, 3]);
  v.map(0x4060_0000, 0x8000_1000, 2);
  t.equal(vtdSlWalk(v.ram, v.root, 4, 48, 48, 0, 0x4060_0000, WALK_READ, r), VTD_FR_PAGING_ENTRY_RSVD, 'bit 12 of a 2M leaf');
  v.map(0x2_0000_0000, 0x2_0020_0000, 3);
  t.equal(vtdSlWalk(v.ram, v.root, 4, 48, 48, 0, 0x2_0000_0000, WALK_READ, r), VTD_FR_PAGING_ENTRY_RSVD, 'bit 21 of a 1G leaf');
});

t.test('VT-d: reserved bits, MGAW, unreadable tables and the interrupt range', async (t) => {
  const v = vtdTables(4);
  const r = new WalkResult();
  const leaf = v.map(0x5000, 0x9000, 1, 3n | 0x800n);
  t.equal(vtdSlWalk(v.ram, v.root, 4, 48, 48, 0, 0x5000, WALK_READ, r), VTD_FR_PAGING_ENTRY_RSVD, 'SNP without snoop control');
  t.equal(vtdSlWalk(v.ram, v.root, 4, 48, 48, VTD_SL_SNOOP, 0x5000, WALK_READ, r), 0, 'SNP with snoop control');
  v.set(leaf, 0x9003n | (1n << 62n));
  t.equal(vtdSlWalk(v.ram, v.root, 4, 48, 48, 0, 0x5000, WALK_READ, r), VTD_FR_PAGING_ENTRY_RSVD, 'TM in a leaf');
  t.equal(vtdSlWalk(v.ram, v.root, 4, 48, 48, VTD_SL_TM, 0x5000, WALK_READ, r), 0, 'TM allowed with device-TLB');
  v.set(leaf, 0x9003n | (1n << 40n));
  t.equal(vtdSlWalk(v.ram, v.root, 4, 48, 39, 0, 0x5000, WALK_READ, r), VTD_FR_PAGING_ENTRY_RSVD, 'address bit above HAW 39');
  t.equal(vtdSlWalk(v.ram, v.root, 4, 48, 48, 0, 0x5000, WALK_READ, r), 0, 'the same bit is an address with HAW 48');
  t.equal(r.addr, 2 ** 40 + 0x9000);
  v.set(leaf, 0x9003n | (3n << 52n) | (1n << 63n));
  t.equal(vtdSlWalk(v.ram, v.root, 4, 48, 48, 0, 0x5000, WALK_READ, r), 0, 'bits 63 and 61:52 are ignored');
  t.equal(r.addr, 0x9000);
  const top = v.root;
  v.set(top, BigInt(v.alloc()) | 0x83n);
  t.equal(vtdSlWalk(v.ram, v.root, 4, 48, 48, 0, 0x5000, WALK_READ, r), VTD_FR_PAGING_ENTRY_RSVD, 'PS at level 4');
  t.equal(r.level, 4);
  t.equal(vtdSlWalk(v.ram, v.root, 3, 48, 48, 0, 2 ** 39, WALK_READ, r), VTD_FR_ADDR_BEYOND_MGAW, '3 levels cover 39 bits');
  t.equal(vtdSlWalk(v.ram, v.root, 4, 39, 48, 0, 2 ** 39, WALK_READ, r), VTD_FR_ADDR_BEYOND_MGAW, 'MGAW 39');
  t.equal(vtdSlWalk(v.ram, 0x1000_0000, 4, 48, 48, 0, 0, WALK_READ, r), VTD_FR_CONTEXT_ENTRY_INV, 'root outside RAM');
  const w = vtdTables(4);
  w.set(w.root, 0x7000_0003n);
  t.equal(vtdSlWalk(w.ram, w.root, 4, 48, 48, 0, 0, WALK_READ, r), VTD_FR_PAGING_ENTRY_INV, 'a lower table outside RAM');
  t.equal(r.entryAddr, 0x7000_0000);
  const i = vtdTables(4);
  i.map(0x20_0000, 0xfee0_0000, 2);
  i.map(0x1000, 0xfeef_f000);
  t.equal(vtdSlWalk(i.ram, i.root, 4, 48, 48, 0, 0x20_0000, WALK_WRITE, r), VTD_FR_INTERRUPT_ADDR);
  t.equal(vtdSlWalk(i.ram, i.root, 4, 48, 48, 0, 0x1000, WALK_READ, r), VTD_FR_INTERRUPT_ADDR);
});

t.test('VT-d: a table that points at itself ends after `levels` reads', async (t) => {
  const g = guest();
  const root = g.alloc();
  for (let i = 0; i < 512; i++) g.set(root + i * 8, BigInt(root) | 3n);
  const r = new WalkResult();
  t.equal(vtdSlWalk(g.ram, root, 5, 57, 48, 0, 0x1234_5678_9000, WALK_READ, r), 0);
  t.same([r.addr, r.level], [root, 1], 'the loop is just five reads of the same page');
});

/** LPAE tables: granule g, input size 64 - tsz, map(iova, pa, leaf level, extra leaf bits). */
function lpaeTables(granuleShift: number, tsz: number) {
  const g = guest();
  const stride = granuleShift - 3;
  const inputSize = 64 - tsz;
  const start = 4 - Math.floor((inputSize - 4) / stride);
  const gran = 2 ** granuleShift;
  const root = g.alloc(gran);
  const tables = new Map<string, number>();
  const shift = (l: number) => granuleShift + (3 - l) * stride;
  const map = (iova: number, pa: number, leafLevel = 3, bits = 0x400n, tableBits = 0n) => {
    let table = root;
    for (let l = start; l < leafLevel; l++) {
      const idx = Math.floor(iova / 2 ** shift(l)) % 2 ** stride;
      const key = `${table}:${idx}`;
      let next = tables.get(key);
      if (next === undefined) {
        next = g.alloc(gran);
        tables.set(key, next);
      }
      g.set(table + idx * 8, BigInt(next) | 3n | tableBits);
      table = next;
    }
    const idx = Math.floor(iova / 2 ** shift(leafLevel)) % 2 ** stride;
    g.set(table + idx * 8, BigInt(pa) | (leafLevel === 3 ? 3n : 1n) | bits);
    return table + idx * 8;
  };
  return { ...g, root, map, start };
}

t.test('LPAE: 4K, 16K and 64K granules; pages and blocks', async (t) => {
  const r = new WalkResult();
  const cases: [number, number, number, number, number][] = [
    // granule, tsz, leaf level, expected shift, start level
    [12, 16, 3, 12, 0], [12, 25, 2, 21, 1], [12, 16, 1, 30, 0], [14, 16, 3, 14, 0], [14, 28, 2, 25, 2],
    [16, 22, 3, 16, 2], [16, 16, 2, 29, 1],
  ];
  for (const [gs, tsz, leaf, shift, start] of cases) {
    const l = lpaeTables(gs, tsz);
    t.equal(l.start, start);
    const iova = 0x12_3450_0000 % 2 ** (64 - tsz);
    const pa = 0x8_0000_0000 - 2 ** shift * 3;
    l.map(iova, pa, leaf);
    const err = lpaeS1Walk(l.ram, l.root, gs, tsz, 40, 0, iova + 0x10, WALK_WRITE, r);
    t.equal(err, 0, `granule ${2 ** gs}, tsz ${tsz}, leaf level ${leaf}`);
    t.same([r.addr, r.shift, r.perm, r.level], [pa, shift, IOMMU_RW, leaf]);
  }
});

t.test('LPAE: access flag, AP[2], APTable, address size and validity faults', async (t) => {
  const r = new WalkResult();
  const l = lpaeTables(12, 16);
  l.map(0x1000, 0x5000, 3, 0n);
  t.equal(lpaeS1Walk(l.ram, l.root, 12, 16, 44, 0, 0x1000, WALK_READ, r), LPAE_FAULT_ACCESS, 'AF = 0');
  t.equal(lpaeS1Walk(l.ram, l.root, 12, 16, 44, LPAE_AFFD, 0x1000, WALK_READ, r), 0, 'AF = 0 with AFFD');
  l.map(0x2000, 0x6000, 3, 0x400n | 0x80n);
  t.equal(lpaeS1Walk(l.ram, l.root, 12, 16, 44, 0, 0x2000, WALK_WRITE, r), LPAE_FAULT_PERMISSION, 'write to AP[2]=1');
  t.equal(lpaeS1Walk(l.ram, l.root, 12, 16, 44, 0, 0x2000, WALK_READ, r), 0);
  t.equal(r.perm, IOMMU_RO);
  const a = lpaeTables(12, 16);
  a.map(0x3000, 0x7000, 3, 0x400n, 1n << 62n);
  t.equal(lpaeS1Walk(a.ram, a.root, 12, 16, 44, 0, 0x3000, WALK_WRITE, r), LPAE_FAULT_PERMISSION, 'APTable[1]');
  t.equal(lpaeS1Walk(a.ram, a.root, 12, 16, 44, 0, 0x3000, WALK_READ, r), 0);
  t.equal(r.perm, IOMMU_RO, 'APTable removes write from the leaf');
  t.equal(lpaeS1Walk(a.ram, a.root, 12, 16, 44, LPAE_HAD, 0x3000, WALK_WRITE, r), 0, 'ignored with HAD');
  l.map(0x4000, 2 ** 41, 3);
  t.equal(lpaeS1Walk(l.ram, l.root, 12, 16, 40, 0, 0x4000, WALK_READ, r), LPAE_FAULT_ADDR_SIZE, 'output beyond OAS 40');
  l.map(0x5000, 2 ** 41, 3, 0n);
  t.equal(lpaeS1Walk(l.ram, l.root, 12, 16, 40, 0, 0x5000, WALK_READ, r), LPAE_FAULT_ADDR_SIZE, 'address size before AF (Arm ARM order)');
  t.equal(lpaeS1Walk(l.ram, l.root, 12, 16, 40, 0, 0x6000, WALK_READ, r), LPAE_FAULT_TRANSLATION, 'invalid leaf');
  t.equal(r.level, 3);
  const leaf = l.map(0x7000, 0x8000, 3);
  l.set(leaf, 0x8401n);
  t.equal(lpaeS1Walk(l.ram, l.root, 12, 16, 40, 0, 0x7000, WALK_READ, r), LPAE_FAULT_TRANSLATION, '0b01 at level 3 is reserved');
  t.equal(lpaeS1Walk(l.ram, l.root, 12, 25, 40, 0, 2 ** 39, WALK_READ, r), LPAE_FAULT_TRANSLATION, 'beyond the input size');
  t.equal(lpaeS1Walk(l.ram, 0x1000, 12, 16, 40, 0, 0, WALK_READ, r), LPAE_FAULT_WALK_EABT, 'table outside RAM');
  const b = lpaeTables(12, 16);
  b.map(0, 0, 0, 0x400n);
  t.equal(lpaeS1Walk(b.ram, b.root, 12, 16, 48, 0, 0x1234, WALK_READ, r), LPAE_FAULT_TRANSLATION, 'no level-0 block with 4K (spec)');
  t.equal(lpaeS1Walk(b.ram, b.root, 12, 16, 48, LPAE_QEMU_BLOCKS, 0x1234, WALK_READ, r), 0, 'accepted as QEMU does');
  t.equal(r.shift, 39);
});

t.test('TCE: big-endian entries, permissions, window and table bounds', async (t) => {
  const block = new RamBlock('ram', 0x10000);
  const ram = new GuestRamView([{ base: 0, size: 0x10000, sab: block.sab, offset: 0 }]);
  const table = 0x8000;
  block.st64be(table + 2 * 8, 0x0012_3001, 0); // RO
  block.st64be(table + 3 * 8, 0x0045_6003, 0x1); // RW above 4 GiB
  const r = new WalkResult();
  t.equal(tceWalk(ram, table, 16, 12, TCE_TABLE_BE, 0x2abc, WALK_READ, r), 0);
  t.same([r.addr, r.perm, r.shift], [0x0012_3000, IOMMU_RO, 12]);
  t.equal(tceWalk(ram, table, 16, 12, TCE_TABLE_BE, 0x2abc, WALK_WRITE, r), TCE_FAULT_PERM);
  t.equal(tceWalk(ram, table, 16, 12, TCE_TABLE_BE, 0x3000, WALK_WRITE, r), 0);
  t.same([r.addr, r.perm], [0x1_0045_6000, IOMMU_RW]);
  t.equal(tceWalk(ram, table, 16, 12, TCE_TABLE_BE, 0x4000, WALK_NONE, r), TCE_FAULT_PERM, 'an empty TCE');
  t.equal(tceWalk(ram, table, 16, 12, TCE_TABLE_BE, 0x10000, WALK_READ, r), TCE_FAULT_WINDOW);
  t.equal(tceWalk(ram, table, 16, 12, TCE_TABLE_BE, -1, WALK_READ, r), TCE_FAULT_WINDOW, 'below bus_offset');
  t.equal(tceWalk(ram, 0xff00, 1 << 20, 12, TCE_TABLE_BE, 0x100000, WALK_READ, r), TCE_FAULT_TABLE, 'a table running past RAM');
  t.equal(tceWalk(ram, table, 4, 16, TCE_TABLE_BE, 0x3_0000, WALK_READ, r), 0, '64K IOMMU pages');
  t.same([r.addr, r.shift], [0x1_0045_0000, 16]);
});

t.test('LPAE and TCE: hostile tables end in a result or a fault, never a hang or an exception', async (t) => {
  const g = guest();
  const root = g.alloc();
  for (let i = 0; i < 512; i++) g.set(root + i * 8, BigInt(root) | 3n | 0x400n); // every entry points back at this table
  const r = new WalkResult();
  t.equal(lpaeS1Walk(g.ram, root, 12, 16, 44, 0, 0x1234_5678_9000, WALK_READ, r), 0, 'four reads of the same page');
  t.same([r.addr, r.level], [root, 3]);
  t.equal(lpaeS1Walk(g.ram, root, 12, 16, 44, 0, -1, WALK_READ, r), LPAE_FAULT_TRANSLATION, 'a negative IOVA');
  t.equal(lpaeS1Walk(g.ram, root, 13, 16, 44, 0, 0, WALK_READ, r), LPAE_FAULT_TRANSLATION, 'a granule that does not exist');
  t.equal(lpaeS1Walk(g.ram, root + 4, 12, 16, 44, 0, 0, WALK_READ, r), 0, 'a misaligned TTB is aligned down, as QEMU does');
  t.equal(tceWalk(g.ram, root + 4, 16, 12, 0, 0, WALK_READ, r), TCE_FAULT_TABLE, 'a misaligned TCE table reads nothing');
  t.equal(tceWalk(g.ram, root, 2 ** 40, 52, 0, 0, WALK_READ, r), TCE_FAULT_WINDOW, 'an impossible page shift');
});
