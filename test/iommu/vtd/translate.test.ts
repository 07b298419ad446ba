import t from 'tap';
import { IOMMU_NONE, IOMMU_RO, IOMMU_RW, IOMMU_WO, MEMTX_OK } from '../../../src/memory/index.js';
import { CTX, R, ROOT, SRTP, TE, vtdMachine } from './helpers.js';

// Second-level translation through the device address space, every fault
// reason the lookup and the walk produce (spec 7.1.3; ref/smmuv3-vtd.md B2, B3, B7).

t.test('each fault reason of the root/context lookup and the walk, recorded in FRCD', async (t) => {
  const cases: [string, (v: ReturnType<typeof vtdMachine>) => number, number, boolean?][] = [
    ['root entry not present (1)', (v) => {
      v.bringUp();
      v.st64(ROOT, 0);
      return 0x1000;
    }, 1],
    ['context entry not present (2)', (v) => {
      v.bringUp();
      v.st64(CTX + 8 * 16, 0);
      return 0x1000;
    }, 2],
    ['AW=2 (4-level) with aw-bits 39: not in SAGAW (3)', (v) => {
      v.bringUp({ aw: 2 });
      return 0x1000;
    }, 3],
    ['TT=1 without device-iotlb (3)', (v) => {
      v.bringUp({ tt: 1 });
      return 0x1000;
    }, 3],
    ['TT=3 (3)', (v) => {
      v.bringUp({ tt: 3 });
      return 0x1000;
    }, 3],
    ['IOVA at 2^39 (4)', (v) => {
      v.bringUp();
      return 2 ** 39;
    }, 4],
    ['write to a read-only leaf (5)', (v) => {
      v.map(v.bringUp(), 3, 0x1000, 0x200000, 1);
      return -0x1000;
    }, 5],
    ['read of a not-present leaf (6)', (v) => {
      v.map(v.bringUp(), 3, 0x2000, 0x200000, 3);
      return 0x1000;
    }, 6],
    ['a table pointer outside RAM (7)', (v) => {
      const s = v.bringUp();
      v.st64(s, 0x7ff0000003n);
      return 0x1000;
    }, 7],
    ['the root table outside RAM (8)', (v) => {
      v.bringUp();
      v.w64(R.RTADDR, 0x7ff0000000);
      v.gcmdOr(SRTP);
      return 0x1000;
    }, 8],
    ['a context table outside RAM (9)', (v) => {
      v.bringUp();
      v.st64(ROOT, 0x7ff0000001);
      return 0x1000;
    }, 9],
    ['root entry hi not zero (0xa)', (v) => {
      v.bringUp();
      v.st64(ROOT + 8, 1);
      return 0x1000;
    }, 0xa],
    ['context entry hi bit 7 (0xb), recorded even with FPD', (v) => {
      v.bringUp({ fpd: true });
      v.st64(CTX + 8 * 16 + 8, 0x181);
      return 0x1000;
    }, 0xb],
    ['SNP (bit 11) in a leaf without snoop control (0xc)', (v) => {
      v.map(v.bringUp(), 3, 0x1000, 0x200000 | 0x800, 3);
      return 0x1000;
    }, 0xc],
    ['a 2M leaf with bits [20:12] set (0xc)', (v) => {
      v.map(v.bringUp(), 3, 0x200000, 0x401000, 3, 2);
      return 0x200000;
    }, 0xc],
    ['a 1G leaf with bits [29:12] set (0xc)', (v) => {
      v.map(v.bringUp(), 3, 0x40000000, 0x40001000, 3, 3);
      return 0x40000000;
    }, 0xc],
    ['TM (bit 62) in a leaf without device-iotlb (0xc)', (v) => {
      v.map(v.bringUp(), 3, 0x1000, 2 ** 62 + 0x200000, 3);
      return 0x1000;
    }, 0xc],
    ['PS in a level-4 entry (0xc)', (v) => {
      const s = v.bringUp({ aw: 2 });
      v.map(s, 4, 0x1000, 0x200000, 3);
      v.st64(s, BigInt(v.mem.read(s, 8).lo) | 0x80n);
      return 0x1000;
    }, 0xc, true],
    ['an output in the interrupt range (0xe)', (v) => {
      v.map(v.bringUp(), 3, 0x1000, 0xfee00000, 3);
      return 0x1000;
    }, 0xe],
  ];
  for (const [name, setup, reason, aw48] of cases) {
    const v = vtdMachine(aw48 ? 'aw-bits=48' : '');
    const at = setup(v);
    const res = at < 0 ? v.dmaWrite(-at, [1]) : v.dmaRead(at).res;
    t.not(res, MEMTX_OK, `${name}: the access fails`);
    const f = v.frcd();
    t.same(f && [f.reason, f.sid, f.read], [reason, 8, at < 0 ? 0 : 1], name);
  }
});

t.test('FPD suppresses qualified faults only', async (t) => {
  for (const [what, reason] of [['context not present', 2], ['not-present leaf', 6], ['paging reserved', 0xc]] as const) {
    const v = vtdMachine();
    const s = v.bringUp({ fpd: true });
    if (reason === 2) v.st64(CTX + 8 * 16, 2);
    if (reason === 0xc) v.map(s, 3, 0x1000, 0x200800, 3);
    t.not(v.dmaRead(0x1000).res, MEMTX_OK);
    t.equal(v.frcd(), undefined, `${what} (0x${reason.toString(16)}) not recorded with FPD`);
  }
  const v = vtdMachine();
  v.bringUp({ fpd: true });
  v.st64(ROOT, 0x7ff0000001);
  v.dmaRead(0x1000);
  t.equal(v.frcd()?.reason, 9, 'a context-table read error is recorded anyway');
});

t.test('faults: one register, collapsed per SID, PFO when it is still full', async (t) => {
  const v = vtdMachine();
  v.bringUp();
  v.dmaRead(0x1000);
  v.dmaRead(0x2000);
  t.equal(v.frcd()?.addr, 0x1000, 'the second fault of the same SID collapsed');
  t.equal(v.vtd.faults.counts.dropped, 1);
  v.w32(R.FSTS, 0x2);
  t.equal(v.r32(R.FSTS), 0x2, 'PPF is not writable');
  const edu2 = v.m.addDevice({ driver: 'edu', props: { addr: '05.0' }, origin: 'test', json: false });
  (edu2 as typeof v.edu).configWrite(4, 6, 2);
  (edu2 as typeof v.edu).dmaRead(0x1000, new Uint8Array(4));
  t.equal(v.r32(R.FSTS) & 1, 1, 'another SID while the only FRCD is full: PFO');
  v.clearFault();
  t.equal(v.r32(R.FSTS), 0, 'F and PFO cleared');
  v.dmaRead(0x3000);
  t.same([v.frcd()?.addr, v.r32(R.FSTS)], [0x3000, 2], 'recording resumes at FRCD 0');
});

t.test('translation: 4K, 2M and 1G leaves; permission is the AND across levels; IOMMU_NONE reports it', async (t) => {
  const v = vtdMachine();
  const s = v.bringUp();
  v.map(s, 3, 0x1000, 0x300000, 3);
  v.map(s, 3, 0x400000, 0x600000, 1, 2);
  v.map(s, 3, 0x40000000, 0x40000000, 3, 3);
  const r = v.das().iommu;
  const e1 = r.translate(0x1234, IOMMU_RO, 0, {});
  t.same([e1.iova, e1.translatedAddr, e1.addrMask, e1.perm], [0x1000, 0x300000, 0xfff, IOMMU_RW]);
  const e2 = r.translate(0x4abcde, IOMMU_RO, 0, {});
  t.same([e2.iova, e2.translatedAddr, e2.addrMask, e2.perm], [0x400000, 0x600000, 0x1fffff, IOMMU_RO], '2M read-only block');
  const e3 = r.translate(0x7fff0000, IOMMU_WO, 0, {});
  t.same([e3.iova, e3.translatedAddr, e3.addrMask, e3.perm], [0x40000000, 0x40000000, 0x3fffffff, IOMMU_RW], '1G block');
  // Make the level-3 entry over IOVA 0x1000 read-only: the write fails though the leaf has W.
  const l3 = v.mem.read(s, 8).lo;
  v.st64(s, (l3 & ~3) | 1);
  v.m.systemAs.write(0xfed90000 + R.IOTLB, 8, 0, 0x90000000);
  t.equal(r.translate(0x1000, IOMMU_WO, 0, {}).perm, IOMMU_NONE, 'W missing at level 3');
  t.equal(v.frcd()?.reason, 5);
  t.equal(r.translate(0x1000, IOMMU_NONE, 0, {}).perm, IOMMU_RO, 'IOMMU_NONE reports R only');
});

t.test('TT=2 pass-through: identity, no IOTLB, the no-DMAR fast path; refused with pt=off', async (t) => {
  const v = vtdMachine();
  v.bringUp({ tt: 2 });
  v.st64(0x7000, 0xabcd);
  t.equal(v.dmaRead(0x7000).buf[0], 0xcd, 'identity');
  t.notOk(v.das().useIommu, 'switched to vtd-nodmar');
  t.equal(v.vtd.engine.iotlb.entries, 0);
  const off = vtdMachine('pt=off');
  off.bringUp({ tt: 2 });
  t.not(off.dmaRead(0x7000).res, MEMTX_OK);
  t.equal(off.frcd()?.reason, 3);
});

t.test('TT=1 with device-iotlb: untranslated requests walk; translated requests pass; elsewhere they fault', async (t) => {
  const v = vtdMachine('device-iotlb=on');
  v.map(v.bringUp({ tt: 1 }), 3, 0x1000, 0x300000);
  const r = v.das().iommu;
  t.equal(r.translate(0x1000, IOMMU_RO, 0, {}).translatedAddr, 0x300000);
  const tr = r.translate(0x5000, IOMMU_RO, r.attrsToIndex({ addressType: 'translated' }), {});
  t.same([tr.translatedAddr, tr.perm], [0x5000, IOMMU_RW], 'a translated request keeps its address');
  const w = vtdMachine('device-iotlb=on');
  w.bringUp({ tt: 0 });
  t.equal(w.das().iommu.translate(0x5000, IOMMU_RO, 1, {}).perm, IOMMU_NONE);
  t.equal(w.frcd()?.reason, 0xd);
});

t.test('an IOTLB hit lacking the permission: a recorded fault (spec); x-iotlb-hit-no-fault=on is QEMU\'s silent failure', async (t) => {
  for (const [props, recorded] of [['', true], ['x-iotlb-hit-no-fault=on', false]] as const) {
    const v = vtdMachine(props);
    v.map(v.bringUp(), 3, 0x1000, 0x300000, 1);
    t.equal(v.dmaRead(0x1000).res, MEMTX_OK, 'the read fills the IOTLB');
    t.equal(v.vtd.engine.iotlb.entries, 1);
    t.not(v.dmaWrite(0x1000, [1]), MEMTX_OK, `${props || 'default'}: the write fails`);
    t.equal(v.frcd() !== undefined, recorded, `${props || 'default'}: fault ${recorded ? '' : 'not '}recorded`);
  }
});

t.test('the context cache: a changed context entry is used only after a context-cache invalidation', async (t) => {
  const v = vtdMachine();
  const s = v.bringUp({ did: 1 });
  v.map(s, 3, 0x1000, 0x300000);
  const s2 = v.page();
  v.map(s2, 3, 0x1000, 0x400000);
  t.equal(v.das().iommu.translate(0x1000, IOMMU_RO, 0, {}).translatedAddr, 0x300000);
  v.st64(CTX + 8 * 16, s2 | 1);
  v.st64(CTX + 8 * 16 + 8, (2 << 8) | 1);
  t.equal(v.das().iommu.translate(0x1000, IOMMU_RO, 0, {}).translatedAddr, 0x300000, 'cached context and IOTLB still used');
  v.w64(R.CCMD, 0xe000000000080000n);
  t.equal(v.r64(R.CCMD) >> 56n, 0x78n, 'device-selective, CAIG device');
  t.equal(v.das().iommu.translate(0x1000, IOMMU_RO, 0, {}).translatedAddr, 0x400000, 'new context: new domain, new table');
  t.equal(v.vtd.ctxsOfDomain(2).length, 1);
  t.equal(v.vtd.ctxsOfDomain(1).length, 0);
});

t.test('IOTLB invalidation: a cleared PTE is used until PSI, DSI or global; other domains keep theirs', async (t) => {
  for (const how of ['psi-register', 'psi-queue', 'dsi-queue', 'global-queue', 'other-domain'] as const) {
    const v = vtdMachine();
    const s = v.bringUp({ did: 3 });
    // Enabling QI writes GCMD = GSTS | QIE, which re-runs SRTP and drops every cache: do it first.
    if (how !== 'psi-register') v.qiOn();
    v.map(s, 3, 0x1000, 0x300000);
    v.map(s, 3, 0x2000, 0x301000);
    const r = v.das().iommu;
    t.equal(r.translate(0x1000, IOMMU_RO, 0, {}).translatedAddr, 0x300000);
    v.map(s, 3, 0x1000, 0, 0);
    t.equal(r.translate(0x1000, IOMMU_RO, 0, {}).translatedAddr, 0x300000, `${how}: stale entry before the invalidation`);
    if (how === 'psi-register') {
      v.w64(R.IVA, 0x1000);
      v.w64(R.IOTLB, 0xb000000300000000n);
    } else {
      if (how === 'psi-queue') v.submit(v.psi(3, 0x1000, 0), v.waitDesc());
      if (how === 'dsi-queue') v.submit(v.dsi(3), v.waitDesc());
      if (how === 'global-queue') v.submit([0x12n, 0n], v.waitDesc());
      if (how === 'other-domain') v.submit(v.psi(4, 0x1000, 0), v.waitDesc());
    }
    const after = r.translate(0x1000, IOMMU_RO, 0, {}).perm;
    t.equal(after, how === 'other-domain' ? IOMMU_RW : IOMMU_NONE, `${how}: ${how === 'other-domain' ? 'untouched' : 'gone'}`);
  }
});

t.test('unplug drops the requester\'s context and IOTLB entries: a new device at the same BDF starts clean', async (t) => {
  const v = vtdMachine('', ['-device', 'pcie-root-port,id=rp0,chassis=1,addr=03.0']);
  const s = v.bringUp();
  v.map(s, 3, 0x1000, 0x300000);
  v.st64(0x300000, 0xaa);
  v.st64(0x400000, 0xbb);
  t.equal(v.dmaRead(0x1000).buf[0], 0xaa);
  const bus = v.edu.bus;
  bus.unplug(v.edu);
  t.equal(v.vtd.engine.iotlb.entries, 0, 'IOTLB entries of the SID dropped');
  v.map(s, 3, 0x1000, 0x400000);
  const edu = v.m.addDevice({ driver: 'edu', props: { addr: '01.0' }, origin: 'test', json: false }) as typeof v.edu;
  edu.configWrite(4, 6, 2);
  const buf = new Uint8Array(1);
  edu.dmaRead(0x1000, buf);
  t.equal(buf[0], 0xbb, 'the new device sees the current tables, not the departed one\'s cached translation');
  t.ok(v.r32(R.GSTS) & TE);
});
