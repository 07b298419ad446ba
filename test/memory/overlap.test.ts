import t from 'tap';
import { MemorySystem, MEMTX_DECODE_ERROR, MEMTX_OK, type AddressSpace } from '../../src/memory/index.js';

function ramByte(as: AddressSpace, addr: number): number {
  return as.read(addr, 1).lo;
}

/** Fills a RAM region with one byte value so reads tell regions apart. */
function mark(sys: MemorySystem, name: string, size: number, byte: number) {
  const r = sys.ram(name, size);
  r.block.fill(0, size, byte);
  return r;
}

t.test('higher priority wins in either insertion order', async (t) => {
  for (const order of [[0, 1], [1, 0]]) {
    const sys = new MemorySystem();
    const root = sys.container('system', 0x10000);
    const as = sys.addressSpace(root, 'memory');
    const a = mark(sys, 'a', 0x1000, 0xaa);
    const b = mark(sys, 'b', 0x1000, 0xbb);
    for (const i of order) {
      if (i === 0) root.addSubregion(a, 0x1000, 0);
      else root.addSubregion(b, 0x1000, 1);
    }
    t.equal(ramByte(as, 0x1800), 0xbb, `prio 1 beats prio 0 (order ${order})`);
  }
});

t.test('equal priority: the most recently added wins', async (t) => {
  const sys = new MemorySystem();
  const root = sys.container('system', 0x10000);
  const as = sys.addressSpace(root, 'memory');
  root.addSubregion(mark(sys, 'first', 0x1000, 0x11), 0x1000);
  root.addSubregion(mark(sys, 'second', 0x1000, 0x22), 0x1000);
  t.equal(ramByte(as, 0x1000), 0x22);
  t.same(root.subregions.map((r) => r.name), ['second', 'first']);
});

t.test('a higher-priority container shows lower siblings through its holes', async (t) => {
  const sys = new MemorySystem();
  const root = sys.container('system', 0x10000);
  const as = sys.addressSpace(root, 'memory');
  const low = mark(sys, 'low', 0x4000, 0x10);
  const high = sys.container('high', 0x4000);
  high.addSubregion(mark(sys, 'inner', 0x1000, 0x20), 0x1000);
  root.addSubregion(low, 0, 0);
  root.addSubregion(high, 0, 5);
  t.equal(ramByte(as, 0x0), 0x10, 'hole before inner shows low');
  t.equal(ramByte(as, 0x1000), 0x20, 'inner covers');
  t.equal(ramByte(as, 0x2000), 0x10, 'hole after inner shows low');
  t.same(as.view.ranges.map((r) => [r.mr.name, Number(r.start), Number(r.size), Number(r.offsetInRegion)]), [
    ['low', 0, 0x1000, 0],
    ['inner', 0x1000, 0x1000, 0],
    ['low', 0x2000, 0x2000, 0x2000],
  ]);
});

t.test('disabled regions vanish and come back', async (t) => {
  const sys = new MemorySystem();
  const root = sys.container('system', 0x10000);
  const as = sys.addressSpace(root, 'memory');
  root.addSubregion(mark(sys, 'under', 0x1000, 0x01), 0);
  const over = mark(sys, 'over', 0x1000, 0x02);
  root.addSubregion(over, 0, 1);
  t.equal(ramByte(as, 0), 0x02);
  over.setEnabled(false);
  t.equal(ramByte(as, 0), 0x01);
  over.setEnabled(true);
  t.equal(ramByte(as, 0), 0x02);
});

t.test('alias chains with offsets', async (t) => {
  const sys = new MemorySystem();
  const root = sys.container('system', 0x100000);
  const as = sys.addressSpace(root, 'memory');
  const ram = sys.ram('ram', 0x10000);
  for (let i = 0; i < 0x10000; i += 0x1000) ram.block.st32le(i, 0xc0de0000 + i);
  const a1 = sys.alias('a1', ram, 0x4000, 0x8000); // ram[0x4000..0xbfff]
  const a2 = sys.alias('a2', a1, 0x2000, 0x2000); // a1[0x2000..] = ram[0x6000..0x7fff]
  root.addSubregion(a2, 0x50000);
  t.equal(as.ld32(0x50000), 0xc0de6000);
  t.equal(as.ld32(0x51000), 0xc0de7000);
  t.equal(as.read(0x52000, 4).result, MEMTX_DECODE_ERROR, 'alias size clips');
  a1.setAliasOffset(0);
  t.equal(as.ld32(0x50000), 0xc0de2000, 'changing an inner alias offset re-renders');
  t.equal(as.write(0x50004, 4, 0x1234), MEMTX_OK);
  t.equal(ram.block.ld32le(0x2004), 0x1234, 'writes go through the chain');
});

t.test('unassigned accesses read zero with a decode error', async (t) => {
  const sys = new MemorySystem();
  const as = sys.addressSpace(sys.container('system', 0x10000), 'memory');
  const r = as.read(0x100, 4);
  t.equal(r.result, MEMTX_DECODE_ERROR);
  t.equal(r.lo, 0);
  t.equal(as.write(0x100, 4, 1), MEMTX_DECODE_ERROR);
});

t.test('ROM rejects writes; a readonly container makes its RAM readonly', async (t) => {
  const sys = new MemorySystem();
  const root = sys.container('system', 0x10000);
  const as = sys.addressSpace(root, 'memory');
  const rom = sys.ram('bios', 0x1000, { readonly: true });
  rom.block.st32le(0, 0x55aa55aa);
  root.addSubregion(rom, 0);
  t.equal(as.write(0, 4, 0), MEMTX_DECODE_ERROR);
  t.equal(as.ld32(0), 0x55aa55aa);
  const box = sys.container('box', 0x1000);
  box.addSubregion(sys.ram('inside', 0x1000), 0);
  box.setReadonly(true);
  root.addSubregion(box, 0x2000);
  t.equal(as.write(0x2000, 4, 7), MEMTX_DECODE_ERROR);
});

t.test('addresses above 2^53 resolve exactly through the bigint path', async (t) => {
  const sys = new MemorySystem();
  const root = sys.container('system', 1n << 64n);
  const as = sys.addressSpace(root, 'memory');
  const ram = sys.ram('high', 0x2000);
  root.addSubregion(ram, 0x0800_0000_0000_0000n);
  t.equal(as.write(0x0800_0000_0000_1004n, 4, 0xfeedbeef), MEMTX_OK);
  t.equal(ram.block.ld32le(0x1004), 0xfeedbeef);
  t.equal(as.ld32(0x0800_0000_0000_1004n), 0xfeedbeef);
  t.equal(as.ld32(0x0800_0000_0000_2000n), -1, 'one past the region fails');
});
