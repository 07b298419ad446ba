import t from 'tap';
import { MemorySystem, MEMTX_DECODE_ERROR, MEMTX_OK, type MmioOps } from '../../src/memory/index.js';

interface Call { op: 'r' | 'w'; off: number; size: number; value?: number }

/** A register file of 32-bit registers that only takes 4-byte accesses. */
function regs32(calls: Call[], extra: Partial<MmioOps> = {}): MmioOps {
  const mem = new Uint32Array(16);
  return {
    read(off, size) {
      calls.push({ op: 'r', off, size });
      return mem[off >> 2]!;
    },
    write(off, size, value) {
      calls.push({ op: 'w', off, size, value });
      mem[off >> 2] = value;
    },
    valid: { min: 4, max: 8 },
    impl: { min: 4, max: 4 },
    ...extra,
  };
}

t.test('an 8-byte access to a 4-byte-only region is split, low half first', async (t) => {
  const sys = new MemorySystem();
  const root = sys.container('system', 0x10000);
  const as = sys.addressSpace(root, 'memory');
  const calls: Call[] = [];
  root.addSubregion(sys.mmio('dev', 0x40, regs32(calls)), 0x1000);
  t.equal(as.write(0x1008, 8, 0x11223344, 0x55667788), MEMTX_OK);
  t.same(calls, [
    { op: 'w', off: 8, size: 4, value: 0x11223344 },
    { op: 'w', off: 12, size: 4, value: 0x55667788 },
  ]);
  calls.length = 0;
  const r = as.read(0x1008, 8);
  t.same([r.result, r.lo, r.hi], [MEMTX_OK, 0x11223344, 0x55667788]);
  t.same(calls.map((c) => c.off), [8, 12]);
});

t.test('accesses outside the valid sizes are decode errors that read zero', async (t) => {
  const sys = new MemorySystem();
  const root = sys.container('system', 0x10000);
  const as = sys.addressSpace(root, 'memory');
  const calls: Call[] = [];
  root.addSubregion(sys.mmio('dev', 0x40, regs32(calls)), 0);
  const r = as.read(0x0, 2);
  t.equal(r.result, MEMTX_DECODE_ERROR);
  t.equal(r.lo, 0);
  t.equal(as.read(0x2, 4).result, MEMTX_DECODE_ERROR, 'unaligned');
  t.same(calls, [], 'the device never saw them');
});

t.test('a device with 64-bit callbacks gets one 8-byte access', async (t) => {
  const sys = new MemorySystem();
  const root = sys.container('system', 0x10000);
  const as = sys.addressSpace(root, 'memory');
  const seen: string[] = [];
  root.addSubregion(sys.mmio('dev64', 0x10, {
    read: () => 0,
    write: () => undefined,
    read64: (off) => { seen.push(`r64 ${off}`); return { lo: 0xdeadbeef, hi: 0x01020304 }; },
    write64: (off, lo, hi) => { seen.push(`w64 ${off} ${lo.toString(16)} ${hi.toString(16)}`); },
    valid: { min: 4, max: 8 },
  }), 0);
  const r = as.read(0, 8);
  t.same([r.lo, r.hi], [0xdeadbeef, 0x01020304]);
  as.write(8, 8, 0xaabbccdd, 0x11);
  t.same(seen, ['r64 0', 'w64 8 aabbccdd 11']);
});

t.test('narrow accesses to a wide-only device read and extract the right bytes', async (t) => {
  const sys = new MemorySystem();
  const root = sys.container('system', 0x10000);
  const as = sys.addressSpace(root, 'memory');
  const calls: Call[] = [];
  const ops = regs32(calls, { valid: { min: 1, max: 4 } });
  root.addSubregion(sys.mmio('dev', 0x40, ops), 0);
  as.write(0, 4, 0x44332211);
  t.equal(as.read(2, 1).lo, 0x33);
  t.equal(as.read(2, 2).lo, 0x4433);
});

t.test('big-endian device registers appear byte-swapped in memory order', async (t) => {
  const sys = new MemorySystem();
  const root = sys.container('system', 0x10000);
  const as = sys.addressSpace(root, 'memory');
  root.addSubregion(sys.mmio('be', 0x10, {
    read: (_off, size) => (size === 4 ? 0x11223344 : 0x1122),
    write: () => undefined,
    endianness: 'big',
  }), 0);
  const bytes = new Uint8Array(4);
  as.readBytes(0, bytes);
  t.same([...bytes], [0x11, 0x22, 0x33, 0x44], 'most significant byte at the lowest address');
});

t.test('bulk reads across RAM and MMIO and holes', async (t) => {
  const sys = new MemorySystem();
  const root = sys.container('system', 0x10000);
  const as = sys.addressSpace(root, 'memory');
  const ram = sys.ram('ram', 0x10);
  ram.block.write(0, Uint8Array.from({ length: 16 }, (_, i) => i + 1));
  root.addSubregion(ram, 0);
  root.addSubregion(sys.mmio('dev', 0x8, { read: (off) => 0xa0 + off, write: () => undefined, valid: { min: 1, max: 1 } }), 0x18);
  const buf = new Uint8Array(0x20).fill(0xee);
  const res = as.readBytes(0, buf);
  t.equal(res, MEMTX_DECODE_ERROR, 'the hole is reported');
  t.same([...buf.subarray(0, 16)], Array.from({ length: 16 }, (_, i) => i + 1));
  t.same([...buf.subarray(16, 24)], [0, 0, 0, 0, 0, 0, 0, 0], 'the hole reads zero');
  t.same([...buf.subarray(24, 32)], [0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7]);
});
