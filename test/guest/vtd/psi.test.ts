import t from 'tap';
import { psiBlock } from '../../../src/guest/drivers/vtd/domain.js';

// The page-selective invalidation block the guest driver sends for an unmap,
// as Linux's calculate_psi_aligned_address computes it (drivers/iommu/intel/
// cache.c): the smallest naturally aligned 2^AM-page block covering the range.
t.test('psiBlock: the aligned 2^AM block covering [start, end], as Linux computes it', async (t) => {
  const cases: [number, number, number, number][] = [
    [0x0, 0xfff, 0x0, 0],
    [0x1000, 0x1fff, 0x1000, 0],
    [0x2000, 0x3fff, 0x2000, 1],
    [0x1000, 0x2fff, 0x0, 2], // two pages straddling a 2-page boundary: AM 2 from 0
    [0x3000, 0x4fff, 0x0, 3],
    [0x7000, 0x8fff, 0x0, 4],
    [0x200000, 0x3fffff, 0x200000, 9],
    [0x1ff000, 0x200fff, 0x0, 10],
  ];
  for (const [start, end, addr, am] of cases) {
    t.same(psiBlock(start, end), { addr, am }, `[0x${start.toString(16)}, 0x${end.toString(16)}]`);
  }
});
