import t from 'tap';
import { cdWords, SmmuGuest } from '../../../src/iommu/index.js';
import { AREA, CD_BASE, DATA, ok, RAM, rig } from './rig.js';

function s1rig(cd: Parameters<SmmuGuest['cd']>[1] | null = null, globals: string[] = []) {
  const r = rig({ globals });
  const edu = r.pci[0]!;
  const pt = r.tables(12, 25);
  pt.map(0x1000, DATA);
  r.g.cd(CD_BASE, cd ?? { asid: 1, ttb0: pt.root, tsz: 25 });
  r.g.ste(r.sid(edu), 's1', { cd: CD_BASE });
  r.g.enable();
  return { r, edu, pt };
}

const types = (r: ReturnType<typeof rig>) => r.g.drainEvents().map((w) => w[0]! & 0xff);

t.test('every C_BAD_CD case of a CD', async (t) => {
  const { r, edu } = s1rig();
  const ttb = 0x40300000;
  const cases: [string, (w: number[]) => void][] = [
    ['V = 0', (w) => (w[0] = w[0]! & 0x7fffffff)],
    ['AA64 = 0', (w) => (w[1] = w[1]! & ~(1 << 9))],
    ['A = 0', (w) => (w[1] = w[1]! & ~(1 << 14))],
    ['S = 1', (w) => (w[1] = w[1]! | (1 << 12))],
    ['HA = 1', (w) => (w[1] = w[1]! | (1 << 11))],
    ['HD = 1', (w) => (w[1] = w[1]! | (1 << 10))],
    ['T0SZ = 15', (w) => (w[0] = (w[0]! & ~0x3f) | 15)],
    ['T0SZ = 40', (w) => (w[0] = (w[0]! & ~0x3f) | 40)],
    ['TG0 = 3 (reserved)', (w) => (w[0] = w[0]! | (3 << 6))],
    ['ENDI = 1', (w) => (w[0] = w[0]! | (1 << 15))],
    ['TTB0 beyond the 44-bit OAS', (w) => (w[3] = 0x1000)],
    ['TTB0 beyond a 32-bit IPS', (w) => ((w[1] = (w[1]! & ~7) | 0), (w[3] = 1))],
    ['T1SZ = 10 with TT1 enabled', (w) => (w[0] = (w[0]! & ~(1 << 30) & ~(0x3f << 16)) | (10 << 16) | (2 << 22))],
    ['TG1 = 0 (reserved) with TT1 enabled', (w) => (w[0] = (w[0]! & ~(1 << 30) & ~(3 << 22)) | (25 << 16))],
  ];
  for (const [name, patch] of cases) {
    const w = cdWords({ asid: 1, ttb0: ttb, tsz: 25 });
    patch(w);
    r.g.st64(CD_BASE, w[0]! >>> 0, w[1]! >>> 0);
    r.g.st64(CD_BASE + 8, w[2]! >>> 0, w[3]! >>> 0);
    r.g.cmd(SmmuGuest.cfgiAll(), SmmuGuest.SYNC);
    t.notOk(ok(r.dmaRead(edu, 0x1000, 4).result), `${name}: terminated`);
    t.same(types(r), [0x0a], `${name}: C_BAD_CD`);
  }
  const w = cdWords({ asid: 1, ttb0: ttb, tsz: 25, epd0: true });
  r.g.st64(CD_BASE, w[0]!, w[1]!);
  r.g.cmd(SmmuGuest.cfgiAll(), SmmuGuest.SYNC);
  t.notOk(ok(r.dmaRead(edu, 0x1000, 4).result));
  t.same(types(r), [0x10], 'EPD0 = 1: a valid CD whose TT0 translates nothing (F_TRANSLATION)');
});

t.test('STE decoding: abort (no event), bypass, stage 2 refused, S1STALLD, reserved S1DSS', async (t) => {
  const r = rig({ globals: ['ssidsize=4'] });
  const edu = r.pci[0]!;
  const sid = r.sid(edu);
  r.g.enable();
  r.m.systemAs.write(DATA, 4, 0x77);
  const run = (w0: number, w1 = 0, w2 = 0) => {
    r.g.st64(r.g.strtab + sid * 64, w0, w1);
    r.g.st64(r.g.strtab + sid * 64 + 8, w2, 0);
    r.g.cmd(SmmuGuest.cfgiSte(sid), SmmuGuest.SYNC);
    return { ok: ok(r.dmaRead(edu, DATA, 4).result), ev: types(r) };
  };
  t.same(run(1), { ok: false, ev: [] }, 'Config 0b000: abort, no event');
  t.same(run(1 | (2 << 1)), { ok: false, ev: [] }, 'Config 0b010: abort');
  t.same(run(1 | (4 << 1)), { ok: true, ev: [] }, 'Config 0b100: bypass');
  t.same(run(1 | (6 << 1)), { ok: false, ev: [0x04] }, 'Config 0b110 (stage 2, S2P = 0): C_BAD_STE');
  t.match(r.smmu.lastGuestError, /does not support stage 2/);
  t.same(run(1 | (7 << 1)), { ok: false, ev: [0x04] }, 'Config 0b111 (nested): C_BAD_STE');
  for (const stage of ['2', 'nested']) {
    t.throws(() => rig({ globals: [`stage=${stage}`] }), /stage=.*implements stage 1 only \(IDR0\.S2P = 0\); use stage=1/,
      `-global arm-smmuv3.stage=${stage} is refused with a clear message`);
  }
  t.equal(rig({ globals: ['stage=1'] }).g.r32(0) & 3, 2, 'stage=1: IDR0.S1P only');
  t.same(run(1 | (5 << 1) | CD_BASE, 0, 1 << 27), { ok: false, ev: [0x04] }, 'S1STALLD with no stall model: C_BAD_STE');
  t.same(run(1 | (5 << 1) | CD_BASE, 2 << 27, 3), { ok: false, ev: [0x04] }, 'S1DSS = 0b11 with substreams: C_BAD_STE');
  t.same(run(1 | (5 << 1) | CD_BASE, 5 << 27, 2), { ok: false, ev: [0x04] }, 'S1CDMax 5 > SSIDSIZE 4: C_BAD_STE');
  const q = rig({ globals: ['x-qemu72=on'] });
  q.g.enable();
  q.g.st64(q.g.strtab + q.sid(q.pci[0]!) * 64, 1 | (5 << 1) | CD_BASE, 1 << 27);
  t.notOk(ok(q.dmaRead(q.pci[0]!, 0, 4).result));
  t.same(types(q), [0x04], 'x-qemu72: S1CDMax != 0 with SSIDSIZE 0 is C_BAD_STE (the spec ignores it)');
});

t.test('2-level stream table: L1STD span, L2 range, F_STE_FETCH', async (t) => {
  const r = rig({ devices: ['edu,addr=3'] });
  const edu = r.pci[0]!;
  const sid = r.sid(edu);
  const { pt } = { pt: r.tables() };
  pt.map(0x2000, DATA);
  r.g.cd(CD_BASE, { asid: 2, ttb0: pt.root, tsz: 25 });
  const l1 = RAM + 0x500000;
  const l2 = RAM + 0x510000;
  r.g.enable(0xc);
  r.g.w32(0x88, (1 << 16) | (6 << 6) | 16); // 2-level, SPLIT 6, 2^16 SIDs
  r.g.w64(0x80, l1);
  r.g.w32(0x2c, 2); // RECINVSID
  r.g.w32(0x20, 0xd);
  r.g.st64(l1, l2 + 7, 0); // span 7: 64 STEs
  r.g.st64(l2 + sid * 64, (1 | (5 << 1) | CD_BASE) >>> 0, 0);
  t.ok(ok(r.dmaRead(edu, 0x2000, 4).result), 'SID 0x18 through L1STD 0 and its L2 table');
  r.g.st64(l1, l2 + 4, 0); // span 4: 8 STEs, SID 0x18 (index 24) beyond
  r.g.cmd(SmmuGuest.cfgiSte(sid), SmmuGuest.SYNC);
  t.notOk(ok(r.dmaRead(edu, 0x2000, 4).result));
  t.same(types(r), [0x02], 'beyond the L2 span: C_BAD_STREAMID (5.1.1)');
  r.g.st64(l1, l2, 0); // span 0
  r.g.cmd(SmmuGuest.cfgiSte(sid), SmmuGuest.SYNC);
  t.notOk(ok(r.dmaRead(edu, 0x2000, 4).result));
  t.same(types(r), [0x02], 'span 0: C_BAD_STREAMID');
  r.g.st64(l1, 0x7000_0007, 0); // L2 outside RAM
  r.g.cmd(SmmuGuest.cfgiSte(sid), SmmuGuest.SYNC);
  t.notOk(ok(r.dmaRead(edu, 0x2000, 4).result));
  const [e] = r.g.drainEvents();
  t.same([e![0]! & 0xff, e![6], e![7]], [0x03, 0x7000_0000 + sid * 64, 0], 'F_STE_FETCH with the STE address in ADDR2');
  r.g.w32(0x20, 0xc);
  r.g.w32(0x88, 5);
  t.equal(r.smmu.twoLevel, false, 'FMT = 0 returns to a linear table (QEMU 7.2 stays 2-level)');
});

t.test('F_CD_FETCH (FetchAddr in ADDR2; ADDR with x-qemu72) and F_WALK_EABT (CLASS TT, FetchAddr)', async (t) => {
  for (const q of [false, true]) {
    const r = rig({ globals: q ? ['x-qemu72=on'] : [] });
    const edu = r.pci[0]!;
    r.g.ste(r.sid(edu), 's1', { cd: 0x7000_0000 });
    r.g.enable();
    t.notOk(ok(r.dmaRead(edu, 0x1000, 4).result));
    const [e] = r.g.drainEvents();
    t.equal(e![0]! & 0xff, 0x09, 'F_CD_FETCH');
    t.same([e![4], e![6]], q ? [0x7000_0000, 0] : [0x1000, 0x7000_0000], q ? 'x-qemu72: the CD address in ADDR' : 'FetchAddr in ADDR2, InputAddr in ADDR');
  }
  const r = rig();
  const edu = r.pci[0]!;
  r.g.cd(CD_BASE, { asid: 1, ttb0: 0x7000_0000, tsz: 25, r: false });
  r.g.ste(r.sid(edu), 's1', { cd: CD_BASE });
  r.g.enable();
  t.notOk(ok(r.dmaRead(edu, 0x1000, 4).result));
  const [e] = r.g.drainEvents();
  t.same([e![0]! & 0xff, (e![3]! >>> 8) & 3, e![4], e![6]], [0x0b, 1, 0x1000, 0x7000_0000], 'F_WALK_EABT is recorded even with CD.R = 0');
});

t.test('the configuration cache: used until CFGI; dropped by STRTAB_BASE writes and SMMUEN toggles (kept with x-qemu72)', async (t) => {
  for (const q of [false, true]) {
    const r = rig({ globals: q ? ['x-qemu72=on'] : [] });
    const edu = r.pci[0]!;
    r.g.ste(r.sid(edu), 'bypass');
    r.g.enable();
    t.ok(ok(r.dmaRead(edu, DATA, 4).result), 'bypass STE cached');
    r.g.ste(r.sid(edu), 'abort');
    t.ok(ok(r.dmaRead(edu, DATA, 4).result), 'changed without CFGI: the cached STE is still used');
    r.g.w64(0x80, r.g.strtab);
    t.equal(ok(r.dmaRead(edu, DATA, 4).result), q, q ? 'x-qemu72: a STRTAB_BASE write keeps the cache' : 'a STRTAB_BASE write drops the cache');
    r.g.ste(r.sid(edu), 'bypass');
    r.g.cmd(SmmuGuest.cfgiSte(r.sid(edu)), SmmuGuest.SYNC);
    t.ok(ok(r.dmaRead(edu, DATA, 4).result));
    r.g.ste(r.sid(edu), 'abort');
    r.g.w32(0x20, 0xc);
    r.g.w32(0x20, 0xd);
    t.equal(ok(r.dmaRead(edu, DATA, 4).result), q, q ? 'x-qemu72: SMMUEN toggle keeps it' : 'an SMMUEN toggle drops it');
    r.g.cmd([0x04, 0, 31, 0], SmmuGuest.SYNC);
    t.notOk(ok(r.dmaRead(edu, DATA, 4).result), 'CFGI_ALL (CFGI_STE_RANGE, Range 31)');
  }
});

t.test('granules 4K/16K/64K, blocks, Access flag and Address Size faults', async (t) => {
  for (const granule of [12, 14, 16]) {
    const r = rig();
    const edu = r.pci[0]!;
    const pt = r.tables(granule, 25);
    const size = 2 ** granule;
    pt.map(4 * size, DATA);
    pt.map(5 * size, DATA + size, { af: false });
    pt.map(6 * size, 0x100000000000); // 2^44: beyond the OAS
    const blockLevel = 2;
    const blockSize = 2 ** (granule + (granule - 3));
    pt.mapBlock(2 * blockSize, RAM, blockLevel); // RAM's base is aligned for every block size here
    r.g.cd(CD_BASE, { asid: 4, ttb0: pt.root, tsz: 25, granule });
    r.g.ste(r.sid(edu), 's1', { cd: CD_BASE });
    r.g.enable();
    r.m.systemAs.write(DATA + 0x10, 4, 0x1234);
    const x = r.dmaRead(edu, 4 * size + 0x10, 4);
    t.ok(ok(x.result), `${size / 1024}K page`);
    t.equal(new DataView(x.data.buffer).getUint32(0, true), 0x1234);
    t.ok(ok(r.dmaRead(edu, 2 * blockSize + 5 * size, 4).result), `${size / 1024}K: a level-2 block`);
    t.notOk(ok(r.dmaRead(edu, 5 * size, 4).result));
    t.notOk(ok(r.dmaRead(edu, 6 * size, 4).result));
    t.same(types(r), [0x12, 0x11], 'F_ACCESS (AF = 0), F_ADDR_SIZE (output >= 2^44)');
  }
});

t.test('queues: CERROR_ABT on an unreadable command; a full event queue sets GERROR.EVENTQ_ABT_ERR', async (t) => {
  const r = rig();
  const edu = r.pci[0]!;
  r.g.ste(r.sid(edu), 'invalid');
  r.g.enable();
  r.g.w32(0x20, 0xc);
  r.g.w64(0xa0, AREA + 0x80000 + 1); // 2 entries
  r.g.w32(0x20, 0xd);
  for (let i = 0; i < 3; i++) r.dmaRead(edu, 0, 4);
  t.equal(r.g.r32(0xa8), 2, 'two records: the queue is full (wrap bit set, index 0)');
  t.equal(r.g.r32(0x60) & 4, 4, 'the third toggled GERROR.EVENTQ_ABT_ERR');
  t.equal(r.smmu.stats.eventsDropped, 1);
  r.g.w32(0x20, 0);
  r.g.w64(0x90, 0x7000_0000 + 2);
  r.g.w32(0x98, 1);
  r.g.w32(0x20, 0xd);
  t.equal(r.g.r32(0x9c), 2 << 24, 'CONS.ERR = CERROR_ABT');
  t.equal(r.g.r32(0x60) & 1, 1, 'GERROR.CMDQ_ERR');
});

t.test('the command queue wraps: CONS follows PROD through the wrap bit', async (t) => {
  const r = rig();
  const g = new SmmuGuest(r.m.systemAs, 0x09050000, AREA + 0x40000, 8, 2, 2); // 4 commands, 4 events
  g.enable();
  for (let i = 0; i < 5; i++) g.cmd(SmmuGuest.cfgiAll(), SmmuGuest.cfgiSte(i), SmmuGuest.SYNC);
  t.equal(g.r32(0x98), 15 % 8, 'PROD: 15 commands in a 4-entry queue: index 3, wrap 1');
  t.equal(g.r32(0x9c), g.r32(0x98), 'CONS caught up (empty), wrap included');
  t.equal(r.smmu.stats.commands, 15);
});
