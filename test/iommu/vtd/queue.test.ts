import t from 'tap';
import { IOMMU_NONE, IOMMU_RO, MEMTX_OK } from '../../../src/memory/index.js';
import { CTX, QUEUE, R, STATUS, vtdMachine } from './helpers.js';

// The invalidation queue's error rules and the descriptors' granularities
// (spec 6.5.2; ref/smmuv3-vtd.md B4, B5), and register-based invalidation
// while QI is on (B1), driven through the registers and descriptors in RAM.

const IQE = 0x10;

t.test('a descriptor with reserved bits set raises IQE, IQH stays on it; the descriptors before it ran', async (t) => {
  // [name, lo, hi]: one reserved bit of each descriptor type (spec 6.5.2.1-6.5.2.8; QEMU's *_RSVD masks).
  const cases: [string, bigint, bigint][] = [
    ['context-cache lo bit 6', 0x11n | 0x40n, 0n],
    ['context-cache lo bit 50', 0x31n | (1n << 50n), 0n],
    ['context-cache hi not zero', 0x11n, 1n],
    ['IOTLB lo bit 8', 0x12n | 0x100n, 0n],
    ['IOTLB lo bit 32', 0x12n | (1n << 32n), 0n],
    ['IOTLB hi bit 7', 0x32n | (1n << 16n), 0x1080n],
    ['IOTLB AM 19 > MAMV', 0x32n | (1n << 16n), 0x1000n | 19n],
    ['device-TLB lo bit 4', 0x3n | 0x10n, 0n],
    ['device-TLB lo bit 48', 0x3n | (1n << 48n), 0n],
    ['device-TLB hi bit 1', 0x3n | (8n << 32n), 0x1002n],
    ['IEC lo bit 5', 0x4n | 0x20n, 0n],
    ['IEC lo bit 12', 0x4n | 0x1000n, 0n],
    ['IEC lo bit 48', 0x4n | (1n << 48n), 0n],
    ['IEC hi not zero', 0x4n, 1n],
    ['wait lo bit 7 (PD without ECAP.PDS)', 0x25n | 0x80n, BigInt(STATUS)],
    ['wait status address bit 0', 0x25n, BigInt(STATUS) | 1n],
    ['type 6 (256-bit PASID-IOTLB in a 128-bit queue)', 0x6n, 0n],
    ['type 0x10 (lo[11:9] = 1)', 0x200n, 0n],
  ];
  for (const [name, lo, hi] of cases) {
    const v = vtdMachine();
    v.qiOn();
    v.submit([0x0000000100000025n, BigInt(STATUS)], [lo, hi], [0x0000000200000025n, BigInt(STATUS)]);
    t.equal(v.r32(R.FSTS) & IQE, IQE, `${name}: IQE`);
    t.equal(Number(v.r64(R.IQH)), 0x10, `${name}: IQH on the bad descriptor`);
    t.equal(v.ld32(STATUS), 1, `${name}: the wait before it ran, the one after it did not`);
  }
  // The same descriptors with the reserved bit cleared are accepted.
  const v = vtdMachine('device-iotlb=on');
  v.qiOn();
  v.submit([0x11n, 0n], [0x12n, 0n], [0x32n | (1n << 16n), 0x1000n | 18n], [0x3n | (8n << 32n), 0x1001n], [0x4n, 0n],
    [0x14n | (7n << 27n) | (5n << 32n), 0n], [0x0000000300000025n, BigInt(STATUS)]);
  t.equal(v.r32(R.FSTS), 0, 'the valid forms: no error');
  t.equal(Number(v.r64(R.IQH)), 0x70);
  t.equal(v.ld32(STATUS), 3);
  t.equal(v.vtd.inv.iec, 2, 'both IEC descriptors (global, index-selective) counted');
});

t.test('a tail beyond the queue raises IQE and processes nothing; fixed, processing resumes from the head', async (t) => {
  const v = vtdMachine();
  v.qiOn();
  v.st64(QUEUE, 0x0000abcd00000025n);
  v.st64(QUEUE + 8, STATUS);
  // IQA.QS = 0: 256 entries; IQT 0x1000 is entry 256.
  v.w64(R.IQT, 0x1000);
  t.equal(v.r32(R.FSTS) & IQE, IQE, 'IQE');
  t.equal(Number(v.r64(R.IQH)), 0, 'IQH unchanged');
  t.equal(v.ld32(STATUS), 0, 'nothing processed');
  v.w32(R.FSTS, IQE);
  v.w64(R.IQT, 0x10);
  t.equal(v.r32(R.FSTS), 0);
  t.equal(v.ld32(STATUS), 0xabcd, 'the queued wait ran once the tail is valid');
  t.equal(Number(v.r64(R.IQH)), 0x10);
});

t.test('context-cache invalidation: device-selective with FM masks function bits; domain-selective acts as global', async (t) => {
  // Two functions of one device (00:02.0 and 00:02.5): each one's context entry changes behind the cache.
  const setUp = () => {
    const v = vtdMachine('', ['-device', 'edu,addr=02.0,multifunction=on', '-device', 'edu,addr=02.5']);
    const edus = v.m.pciDevices().filter((d) => d.typeName === 'edu' && d.devfn >= 0x10);
    for (const e of edus) e.configWrite(4, 6, 2);
    const old = v.page();
    v.map(old, 3, 0x1000, 0x300000);
    const neu = v.page();
    v.map(neu, 3, 0x1000, 0x400000);
    for (const e of edus) v.context(e.devfn, old | 1, (1 << 8) | 1);
    v.bringUp();
    v.qiOn();
    const at = (e: (typeof edus)[number]) => v.vtd.addressSpace(e.bus, e.devfn).iommu.translate(0x1000, IOMMU_RO, 0, {}).translatedAddr;
    for (const e of edus) t.equal(at(e), 0x300000);
    for (const e of edus) {
      v.st64(CTX + e.devfn * 16, neu | 1);
      v.st64(CTX + e.devfn * 16 + 8, (2 << 8) | 1);
    }
    return { v, edus, at };
  };
  const cc = (g: number, sid: number, fm: number): [bigint, bigint] => [0x1n | (BigInt(g) << 4n) | (BigInt(sid) << 32n) | (BigInt(fm) << 48n), 0n];
  // FM = 0: only 02.0 (SID 0x10).
  let { v, edus, at } = setUp();
  v.submit(cc(3, 0x10, 0), v.waitDesc());
  t.same(edus.map(at), [0x400000, 0x300000], 'FM 0: only the SID named; the sibling keeps its cached context');
  // FM = 3 masks devfn bits 2:0: every function of device 2.
  ({ v, edus, at } = setUp());
  v.submit(cc(3, 0x10, 3), v.waitDesc());
  t.same(edus.map(at), [0x400000, 0x400000], 'FM 3: every function of the device');
  // FM = 2 masks bits 2:1: 02.0 covers functions 0-1 only... and 02.5 is not among them.
  ({ v, edus, at } = setUp());
  v.submit(cc(3, 0x10, 2), v.waitDesc());
  t.same(edus.map(at), [0x400000, 0x300000], 'FM 2: functions 0-1, not 5');
  // Domain-selective (G = 2) for a domain neither function is in: done as global.
  ({ v, edus, at } = setUp());
  v.submit([0x21n | (77n << 16n), 0n], v.waitDesc());
  t.same(edus.map(at), [0x400000, 0x400000], 'domain-selective is global');
  t.equal(v.r32(R.FSTS), 0);
});

t.test('a PSI with IH set still drops the leaf; AM covers 2^AM pages aligned down', async (t) => {
  const v = vtdMachine();
  const s = v.bringUp({ did: 5 });
  v.qiOn();
  for (let p = 0; p < 8; p++) v.map(s, 3, 0x10000 + p * 0x1000, 0x300000 + p * 0x1000);
  v.map(s, 3, 0x18000, 0x308000);
  const r = v.das().iommu;
  for (let p = 0; p < 9; p++) r.translate(0x10000 + p * 0x1000, IOMMU_RO, 0, {});
  for (let p = 0; p < 9; p++) v.map(s, 3, 0x10000 + p * 0x1000, 0, 0);
  // AM = 2 at 0x16000: the 4 pages 0x14000-0x17fff, with IH = 1 (only leaves changed).
  v.submit(v.psi(5, 0x16000, 2, true), v.waitDesc());
  const perms = Array.from({ length: 9 }, (_, p) => r.translate(0x10000 + p * 0x1000, IOMMU_RO, 0, {}).perm);
  t.same(perms.map((x) => (x === IOMMU_NONE ? 'gone' : 'cached')),
    ['cached', 'cached', 'cached', 'cached', 'gone', 'gone', 'gone', 'gone', 'cached']);
});

t.test('register-based invalidation is ignored while QI is on: ICC and IVT stay set, the caches are untouched', async (t) => {
  const v = vtdMachine();
  const s = v.bringUp({ did: 3 });
  v.qiOn();
  v.map(s, 3, 0x1000, 0x300000);
  const r = v.das().iommu;
  t.equal(r.translate(0x1000, IOMMU_RO, 0, {}).translatedAddr, 0x300000);
  v.map(s, 3, 0x1000, 0, 0);
  v.w64(R.IOTLB, 0x9000000000000000n); // IVT, global
  t.equal(v.r64(R.IOTLB) >> 63n, 1n, 'IVT stays set');
  v.w64(R.CCMD, 0xa000000000000000n); // ICC, global
  t.equal(v.r64(R.CCMD) >> 63n, 1n, 'ICC stays set');
  t.equal(r.translate(0x1000, IOMMU_RO, 0, {}).translatedAddr, 0x300000, 'the cached translation is still used');
  t.equal(v.vtd.inv.ignoredRegister, 2);
  // With QI off the same global IOTLB write completes: IVT clears, IAIG = global.
  const w = vtdMachine();
  const s2 = w.bringUp({ did: 3 });
  w.map(s2, 3, 0x1000, 0x300000);
  t.equal(w.dmaRead(0x1000).res, MEMTX_OK);
  w.map(s2, 3, 0x1000, 0, 0);
  w.w64(R.IOTLB, 0x9000000000000000n);
  t.equal((w.r64(R.IOTLB) >> 57n).toString(16), '9', 'IVT clear, IIRG as written, IAIG = 1 (global)');
  t.not(w.dmaRead(0x1000).res, MEMTX_OK, 'the cleared PTE is seen');
});

t.test('a PSI of one 4K page inside a cached 2M leaf drops the whole 2M entry', async (t) => {
  const v = vtdMachine();
  const s = v.bringUp({ did: 2 });
  v.qiOn();
  v.map(s, 3, 0x200000, 0x400000, 3, 2);
  const r = v.das().iommu;
  t.equal(r.translate(0x2ff000, IOMMU_RO, 0, {}).addrMask, 0x1fffff, 'a 2M entry cached');
  v.map(s, 3, 0x200000, 0, 0, 2);
  t.equal(r.translate(0x2ff000, IOMMU_RO, 0, {}).translatedAddr, 0x400000, 'stale 2M entry before the PSI');
  v.submit(v.psi(2, 0x234000, 0), v.waitDesc());
  t.equal(r.translate(0x2ff000, IOMMU_RO, 0, {}).perm, IOMMU_NONE, 'a PSI for 0x234000 removed the large page containing it');
});

t.test('a superpage whose output overlaps the interrupt range faults with INTERRUPT_ADDR', async (t) => {
  const v = vtdMachine();
  v.map(v.bringUp(), 3, 0xc0000000, 0xc0000000, 3, 3);
  t.not(v.dmaRead(0xc0001000).res, MEMTX_OK, 'a 1G leaf at 0xc0000000 covers 0xfee00000');
  t.equal(v.frcd()?.reason, 0xe);
});
