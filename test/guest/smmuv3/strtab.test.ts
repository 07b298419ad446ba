import t from 'tap';
import { GuestStreamTable, steWords } from '../../../src/guest/drivers/smmuv3/strtab.js';
import { cmdAtcInv, tlbiRangeCmds } from '../../../src/guest/drivers/smmuv3/cmdq.js';
import { PageAllocator } from '../../../src/guest/page-alloc.js';
import { parseCmdline } from '../../../src/machine/cmdline.js';
import { Machine } from '../../../src/machine/machine.js';

function port() {
  const m = Machine.create(parseCmdline(['-M', 'virt']).config);
  const p = m.guestPort();
  return { p, mem: new PageAllocator(p.ramRanges) };
}

t.test('stream table: linear for a small StreamID space, 2-level (SPLIT 8, span 9 L1 descriptors) for a large one', async (t) => {
  const { p, mem } = port();
  const lin = new GuestStreamTable(p, mem, 5);
  t.equal(lin.twoLevel, false);
  t.equal(lin.cfg, 5, 'STRTAB_BASE_CFG: FMT linear, LOG2SIZE 5');
  t.same(lin.read(31), [1, 0], 'unused STEs abort (V = 1, Config 0b000)');
  lin.write(3, { kind: 'bypass' });
  t.same(lin.read(3), [1 | (4 << 1), 0]);
  t.equal(lin.steAddress(3), lin.base + 3 * 64);
  const two = new GuestStreamTable(p, mem, 16);
  t.equal(two.twoLevel, true);
  t.equal(two.cfg, (1 << 16) | (8 << 6) | 16);
  const at = two.steAddress(0x0210);
  const l1 = p.read(two.base + 2 * 8, 8);
  t.equal(l1.lo & 0x1f, 9, 'L1STD span 9: 256 STEs');
  t.equal(at, (l1.lo & ~0x3f) + 0x10 * 64);
});

t.test('STE words for stage 1: CD pointer, S1Fmt, S1CDMax, S1DSS, EATS', async (t) => {
  const w = steWords({ kind: 's1', cdTable: 0x1_2345_6000 + (2 << 4), s1cdmax: 10, s1dss: 2, ats: true });
  t.same(w.slice(0, 3), [(1 | (5 << 1) | (2 << 4) | 0x23456000) >>> 0, (1 | (10 << 27)) >>> 0, (2 | (1 << 28)) >>> 0]);
});

t.test('TLBI range commands as Linux builds them (RIL: NUM/SCALE per 5-bit chunk; no RIL: one per page); ATC_INV spans', async (t) => {
  const r = tlbiRangeCmds(5, 0x100000, 0x23 * 4096, 12, true);
  t.same(r.map((c) => [(c[0] >>> 12) & 0x1f, (c[0] >>> 20) & 0x1f, c[2] & 0xfffff000]), [[2, 0, 0x100000], [0, 5, 0x103000]],
    '35 pages: (NUM 2 + 1) << 0, then (0 + 1) << 5 (the low five bits of the count at its lowest set bit, then the rest)');
  t.ok(r.every((c) => c[1] === 5 << 16 && ((c[2] >>> 10) & 3) === 1 && ((c[2] >>> 8) & 3) === 3), 'ASID 5, TG 4K, TTL 3');
  t.equal(tlbiRangeCmds(5, 0x100000, 3 * 4096, 12, false).length, 3);
  t.same(cmdAtcInv(8, undefined, 0x5000, 0x2000), [0x40, 8, 0x4000 | 2, 0], 'two pages across a 16K boundary: Size 2 at 0x4000');
  t.same(cmdAtcInv(8, 3, 0, 0), [0x40 | (1 << 11) | (3 << 12), 8, 52, 0], 'everything, with the PASID');
});
