import t from 'tap';
import { SmmuGuest } from '../../../src/iommu/index.js';
import { SMMU_IRQ_CMD_SYNC, SMMU_IRQ_EVTQ, SMMU_IRQ_GERROR } from '../../../src/iommu/smmuv3/regs.js';
import { CD_BASE, DATA, RAM, SMMU, ok, rig } from './rig.js';

// Register window details and the commands not covered elsewhere, through the
// register interface (IHI 0070 4.1-4.7, 6.3; ref/smmuv3-vtd.md A1, A2, A7).

/** Counts the rising edges of an IRQ line. */
function edges(line: { connect(h: (l: number) => void): unknown }): { n: number } {
  const c = { n: 0 };
  line.connect((l) => {
    if (l) c.n++;
  });
  return c;
}

t.test('page 1 aliases page 0; IRQ_CTRL is acknowledged at once in IRQ_CTRL_ACK', async (t) => {
  const r = rig();
  const mem = r.m.systemAs;
  mem.write(SMMU + 0x100a8, 4, 3);
  t.equal(r.g.r32(0xa8), 3, 'EVENTQ_PROD written through page 1 reads back in page 0');
  mem.write(SMMU + 0xac, 4, 2);
  t.equal(mem.read(SMMU + 0x100ac, 4).lo >>> 0, 2, 'EVENTQ_CONS written in page 0 reads back through page 1');
  t.equal(mem.read(SMMU + 0x10000, 4).lo >>> 0, r.g.r32(0), 'IDR0 through page 1');
  r.g.w32(0x50, 5);
  t.equal(r.g.r32(0x54), 5, 'IRQ_CTRL_ACK = IRQ_CTRL');
});

t.test('interrupts: EVTQ and GERROR pulse only when enabled in IRQ_CTRL; CMD_SYNC with CS = SIG_IRQ pulses, CS = 0 does not', async (t) => {
  const r = rig();
  const edu = r.pci[0]!;
  const evtq = edges(r.smmu.irqs[SMMU_IRQ_EVTQ]!);
  const gerr = edges(r.smmu.irqs[SMMU_IRQ_GERROR]!);
  const sync = edges(r.smmu.irqs[SMMU_IRQ_CMD_SYNC]!);
  r.g.ste(r.sid(edu), 'invalid');
  r.g.enable();
  r.dmaRead(edu, 0x1000, 4);
  t.equal(r.g.drainEvents().length, 1, 'C_BAD_STE recorded');
  t.equal(evtq.n, 0, 'EVENTQ_IRQEN = 0: no EVTQ interrupt');
  r.g.w32(0x50, 0x4);
  r.dmaRead(edu, 0x1000, 4);
  t.equal(evtq.n, 1, 'EVENTQ_IRQEN = 1: one EVTQ pulse');
  r.g.cmd([0x46, 0, 0, 0]);
  t.equal(sync.n, 0, 'CMD_SYNC CS = SIG_NONE: no interrupt');
  r.g.cmd([0x46 | (1 << 12), 0, 0, 0]);
  t.equal(sync.n, 1, 'CMD_SYNC CS = SIG_IRQ: the CMD_SYNC interrupt');
  r.g.cmd([0xff, 0, 0, 0]);
  t.equal(r.g.r32(0x60) & 1, 1, 'CMDQ_ERR');
  t.equal(gerr.n, 0, 'GERROR_IRQEN = 0: no GERROR interrupt');
  r.g.w32(0x50, 0x5);
  // Acknowledging restarts the queue on the same (still illegal) command: a new error, now signalled.
  r.g.w32(0x64, r.g.r32(0x60));
  t.equal(gerr.n, 1, 'GERROR_IRQEN = 1: one GERROR pulse');
  t.equal((r.g.r32(0x60) ^ r.g.r32(0x64)) & 1, 1, 'CMDQ_ERR pending again');
});

t.test('PREFETCH_CONFIG and PREFETCH_ADDR are accepted and consumed', async (t) => {
  const r = rig();
  r.g.enable();
  r.g.cmd([0x01, 8, 0, 0], [0x02, 8, 0x1000, 0], SmmuGuest.SYNC);
  t.equal(r.g.r32(0x9c), 3, 'CONS = PROD, no error');
  t.equal(r.g.r32(0x60), 0, 'no GERROR');
});

t.test('CFGI_STE_RANGE flushes the SIDs of the aligned 2^(Range+1) block only; CFGI_CD_ALL re-reads the SID\'s CDs', async (t) => {
  const r = rig({ devices: ['edu,addr=01.0', 'edu,addr=02.0'] });
  const [a, b] = r.pci as [typeof r.pci[0] & object, typeof r.pci[0] & object];
  t.same([r.sid(a), r.sid(b)], [0x08, 0x10]);
  for (const d of [a, b]) r.g.ste(r.sid(d), 'bypass');
  r.g.enable();
  for (const d of [a, b]) t.ok(ok(r.dmaRead(d, DATA, 4).result), 'bypass cached');
  for (const d of [a, b]) r.g.ste(r.sid(d), 'abort');
  // SID 9, Range 0: SIDs 8-9.
  r.g.cmd([0x04, 9, 0, 0], SmmuGuest.SYNC);
  t.same([a, b].map((d) => ok(r.dmaRead(d, DATA, 4).result)), [false, true], 'Range 0 at SID 9: SID 8 re-read, SID 0x10 still cached');
  // SID 0x1f, Range 3: SIDs 0x10-0x1f.
  r.g.cmd([0x04, 0x1f, 3, 0], SmmuGuest.SYNC);
  t.notOk(ok(r.dmaRead(b, DATA, 4).result), 'Range 3 at SID 0x1f: SID 0x10 re-read');
  // CFGI_CD_ALL: a CD made invalid behind the cache is seen only after it.
  const pt = r.tables(12, 25);
  pt.map(0x100000, DATA);
  pt.map(0x101000, DATA + 0x1000);
  r.g.cd(CD_BASE, { asid: 3, ttb0: pt.root, tsz: 25, r: true });
  r.g.ste(r.sid(a), 's1', { cd: CD_BASE });
  r.g.cmd(SmmuGuest.cfgiSte(r.sid(a)), SmmuGuest.SYNC);
  t.ok(ok(r.dmaRead(a, 0x100000, 4).result), 'stage-1 translation with the cached CD');
  r.m.systemAs.write(CD_BASE, 4, 0); // CD.V = 0 (and TTB0 configuration gone)
  t.ok(ok(r.dmaRead(a, 0x101000, 4).result), 'the cached CD is still used for a new page');
  r.g.cmd([0x06, r.sid(b), 0, 0], SmmuGuest.SYNC);
  t.ok(ok(r.dmaRead(a, 0x101000, 4).result), 'CFGI_CD_ALL of another SID: still cached');
  r.g.cmd([0x06, r.sid(a), 0, 0], SmmuGuest.SYNC);
  t.notOk(ok(r.dmaRead(a, 0x101000, 4).result), 'CFGI_CD_ALL of the SID: the invalid CD is read');
  const ev = r.g.drainEvents().map((e) => [e[0]! & 0xff, e[1]]);
  t.same(ev[ev.length - 1], [0x0a, r.sid(a)], 'C_BAD_CD for the SID');
});

t.test('the event queue wraps: PROD follows through the wrap bit, records land at base + index * 32', async (t) => {
  const r = rig();
  const edu = r.pci[0]!;
  const area = RAM + 0x180000;
  const g = new SmmuGuest(r.m.systemAs, SMMU, area, 8, 8, 1); // 2-entry event queue
  g.ste(r.sid(edu), 'invalid');
  g.enable();
  const prods: number[] = [];
  for (let i = 0; i < 5; i++) {
    r.dmaRead(edu, 0x1000 * (i + 1), 4);
    prods.push(g.r32(0xa8));
    const evs = g.drainEvents();
    t.same(evs.map((e) => [e[0]! & 0xff, e[4]]), [[0x04, 0]], `event ${i}: one C_BAD_STE`);
  }
  t.same(prods, [1, 2, 3, 0, 1], 'PROD: index and wrap bit (log2size 1)');
  t.equal(g.r32(0x60), 0, 'never full: no EVENTQ_ABT_ERR');
});

t.test('TLBI_NH_VA of one page inside a cached 2M block drops the block; other ASIDs\' blocks stay', async (t) => {
  const r = rig();
  const edu = r.pci[0]!;
  const pt = r.tables(12, 25);
  pt.mapBlock(0x200000, RAM + 0x400000, 2);
  r.g.cd(CD_BASE, { asid: 7, ttb0: pt.root, tsz: 25 });
  r.g.ste(r.sid(edu), 's1', { cd: CD_BASE });
  r.g.enable();
  r.m.systemAs.write(RAM + 0x4ff000, 4, 0x55);
  t.equal(r.dmaRead(edu, 0x2ff000, 4).data[0], 0x55, 'through the 2M block');
  r.g.st64(pt.root, 0); // the guest removes the whole table: only cached entries still translate
  // TLBI_NH_VA with Leaf = 0 (non-leaf walk entries go too), TG = 0.
  const va = (asid: number) => SmmuGuest.tlbiVa(asid, 0x234000).map((w, i) => (i === 2 ? w & ~1 : w));
  t.ok(ok(r.dmaRead(edu, 0x2ff000, 4).result), 'the cached block is used before the TLBI');
  r.g.cmd(va(8), SmmuGuest.SYNC);
  t.ok(ok(r.dmaRead(edu, 0x2ff000, 4).result), 'TLBI_NH_VA for ASID 8: ASID 7 keeps its block');
  r.g.cmd(va(7), SmmuGuest.SYNC);
  t.notOk(ok(r.dmaRead(edu, 0x2ff000, 4).result), 'TLBI_NH_VA at 0x234000, ASID 7: the block containing it is gone');
});
