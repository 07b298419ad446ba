import t from 'tap';
import { MEMTX_DECODE_ERROR, MEMTX_OK, RamBlock, word64 } from '../../src/memory/index.js';

t.test('accessors at both ends of a block and one byte past it', async (t) => {
  const b = new RamBlock('ram', 0x1000);
  t.ok(b.sab instanceof SharedArrayBuffer, 'backed by a SharedArrayBuffer');
  t.equal(b.st32le(0, 0x11223344), MEMTX_OK);
  t.equal(b.ld32le(0), 0x11223344);
  t.equal(b.ld32be(0), 0x44332211);
  t.equal(b.st32le(0xffc, 0xa1b2c3d4), MEMTX_OK, 'last word');
  t.equal(b.ld32le(0xffc), 0xa1b2c3d4);
  t.equal(b.ld8(0xfff), 0xa1, 'last byte');
  t.equal(b.ld8(0x1000), -1, 'one past the end');
  t.equal(b.ld32le(0xffd), -1, 'a word straddling the end');
  t.equal(b.st32le(0xffd, 0), MEMTX_DECODE_ERROR);
  t.equal(b.ld32le(0xffc), 0xa1b2c3d4, 'a refused store changed nothing');
  t.equal(b.ld8(-1), -1, 'negative offsets are out of range');
  t.equal(b.ld32le(0.5), -1, 'fractional offsets are out of range');
});

t.test('64-bit values as halves and as bigint, both byte orders', async (t) => {
  const b = new RamBlock('ram', 0x100);
  b.st64le(8, 0x89abcdef, 0x01234567);
  t.equal(b.ld64leBig(8), 0x0123456789abcdefn);
  t.equal(b.ld64beBig(8), 0xefcdab8967452301n);
  const w = word64(0);
  t.equal(b.ld64le(8, w), MEMTX_OK);
  t.same(w, { lo: 0x89abcdef, hi: 0x01234567 });
  b.st64be(16, 0x89abcdef, 0x01234567);
  t.same([...b.u8.subarray(16, 24)], [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]);
  t.equal(b.ld64be(16, w), MEMTX_OK);
  t.same(w, { lo: 0x89abcdef, hi: 0x01234567 });
  b.st64leBig(0xf8, 0xffff_ffff_ffff_ffffn);
  t.equal(b.ld64leBig(0xf8), 0xffff_ffff_ffff_ffffn, 'no precision loss at 2^64-1');
  t.equal(b.ld64le(0xf9, w), MEMTX_DECODE_ERROR);
  t.equal(b.ld64leBig(0xf9), undefined);
});

t.test('bulk read, write and fill with bounds', async (t) => {
  const b = new RamBlock('ram', 0x20);
  t.equal(b.write(0x1c, Uint8Array.of(1, 2, 3, 4)), MEMTX_OK);
  t.equal(b.write(0x1d, Uint8Array.of(1, 2, 3, 4)), MEMTX_DECODE_ERROR);
  const out = new Uint8Array(4);
  t.equal(b.read(0x1c, out), MEMTX_OK);
  t.same([...out], [1, 2, 3, 4]);
  t.equal(b.fill(0, 0x20, 0x5a), MEMTX_OK);
  t.equal(b.fill(0, 0x21, 0), MEMTX_DECODE_ERROR);
  t.equal(b.ld8(0x1f), 0x5a);
});
