import t from 'tap';
import {
  IOMMU_NOTIFIER_UNMAP, iommuNotifierInit, SmmuGuest, TranslationPool, type IOMMUNotifyEntry,
} from '../../../src/iommu/index.js';
import { IOMMU_RO } from '../../../src/memory/index.js';
import { CD_BASE, DATA, ok, rig } from './rig.js';

function withNotifier(granule = 12) {
  const r = rig();
  const edu = r.pci[0]!;
  const pt = r.tables(granule, 25);
  for (let i = 0; i < 16; i++) pt.map((0x100 + i) * 2 ** granule, DATA + i * 2 ** granule);
  r.g.cd(CD_BASE, { asid: 9, ttb0: pt.root, tsz: 25, granule });
  r.g.ste(r.sid(edu), 's1', { cd: CD_BASE });
  r.g.enable();
  const got: IOMMUNotifyEntry[] = [];
  const ep = r.dev.endpointFor(edu.bus, edu.devfn);
  ep.region.registerNotifier(iommuNotifierInit((_n, e) => got.push(e), IOMMU_NOTIFIER_UNMAP, 0n, (1n << 48n) - 1n, 0));
  return { r, edu, pt, got, ep };
}

t.test('range invalidation (TG, NUM, SCALE): ranged UNMAPs in naturally aligned power-of-two chunks, IOTLB entries gone', async (t) => {
  const { r, edu, got } = withNotifier();
  for (let i = 0; i < 16; i++) t.ok(ok(r.dmaRead(edu, (0x100 + i) * 4096, 4).result));
  t.equal(r.smmu.coherence.engine.iotlb.entries, 16);
  // 5 pages from page 0x103: (NUM + 1) << SCALE = 5 with NUM 4, SCALE 0.
  r.g.cmd(SmmuGuest.tlbiVa(9, 0x103000, { granule: 12, num: 4, scale: 0 }), SmmuGuest.SYNC);
  t.same(got.map((e) => [e.iova, e.addrMask]), [[0x103000n, 0xfffn], [0x104000n, 0x3fffn]], '0x103000 + 4K, then 0x104000 + 16K');
  t.equal(r.smmu.coherence.engine.iotlb.entries, 11, 'the 5 pages left the IOTLB');
  got.length = 0;
  // 2 << 3 = 16 pages from 0x100000 (NUM 1, SCALE 3): one 64 KiB chunk.
  r.g.cmd(SmmuGuest.tlbiVa(null, 0x100000, { granule: 12, num: 1, scale: 3 }), SmmuGuest.SYNC);
  t.same(got.map((e) => [e.iova, e.addrMask]), [[0x100000n, 0xffffn]], 'TLBI_NH_VAA: one aligned 64 KiB chunk');
  t.equal(r.smmu.coherence.engine.iotlb.entries, 0);
});

t.test('TG = 0 uses the granule of the endpoint\'s CD for the notifier (16K), and TLBI_NH_ASID / NSNH_ALL unmap whole ranges', async (t) => {
  const { r, got } = withNotifier(14);
  r.g.cmd(SmmuGuest.tlbiVa(9, 0x400000), SmmuGuest.SYNC);
  t.same(got.map((e) => [e.iova, e.addrMask]), [[0x400000n, 0x3fffn]]);
  got.length = 0;
  r.g.cmd([0x11, 9 << 16, 0, 0], [0x30, 0, 0, 0], SmmuGuest.tlbiNhAll(), SmmuGuest.SYNC);
  t.same(got.map((e) => [e.iova, e.addrMask]), [[0n, (1n << 48n) - 1n], [0n, (1n << 48n) - 1n], [0n, (1n << 48n) - 1n]],
    'NH_ASID, NSNH_ALL, NH_ALL: the whole notifier range each');
});

t.test('TLBI by ASID leaves other ASIDs\' translations', async (t) => {
  const { r, edu } = withNotifier();
  t.ok(ok(r.dmaRead(edu, 0x100000, 4).result));
  r.g.cmd([0x11, 8 << 16, 0, 0], SmmuGuest.SYNC);
  t.equal(r.smmu.coherence.engine.iotlb.entries, 1, 'ASID 8: nothing of ASID 9 dropped');
  r.g.cmd([0x11, 9 << 16, 0, 0], SmmuGuest.SYNC);
  t.equal(r.smmu.coherence.engine.iotlb.entries, 0);
});

t.test('unplug drops the StreamID\'s configuration and translations: a new function at the same BDF starts clean', async (t) => {
  const { r, edu } = withNotifier();
  t.ok(ok(r.dmaRead(edu, 0x100000, 4).result));
  const sid = r.sid(edu);
  t.ok(r.smmu.cache.get(sid), 'configuration cached');
  r.g.ste(sid, 'abort'); // the guest changes the STE without CFGI
  edu.bus.unplug(edu);
  t.equal(r.smmu.cache.get(sid), undefined, 'configuration dropped');
  t.equal(r.smmu.coherence.engine.iotlb.entries, 0, 'translations dropped');
  const again = r.m.addDevice({ driver: 'edu', props: { addr: '01.0' }, origin: '-device', json: false }) as typeof edu;
  again.configWrite(4, 6, 2);
  t.notOk(ok(r.dmaRead(again, 0x100000, 4).result), 'the new function sees the current (abort) STE, not the old cached one');
});

t.test('CMD_SYNC quiesces the translation workers: after TLBI + CMD_SYNC no worker uses the removed entry', async (t) => {
  const { r, edu, pt } = withNotifier();
  const pool = await TranslationPool.start({ workers: 1, ram: r.smmu.coherence.engine.ram, coherence: r.smmu.coherence });
  try {
    const ctx = r.smmu.translator.contextFor(r.sid(edu));
    const iovas = new Float64Array(new SharedArrayBuffer(8 * 4));
    iovas.fill(0x100000);
    const out = new Float64Array(new SharedArrayBuffer(8 * 4));
    t.equal((await pool.translate(ctx, IOMMU_RO, iovas, out)).faults, 0, 'the worker translates and caches');
    t.equal(out[0], DATA);
    pt.unmap(0x100000);
    r.g.cmd(SmmuGuest.tlbiVa(9, 0x100000), SmmuGuest.SYNC);
    t.equal((await pool.translate(ctx, IOMMU_RO, iovas, out)).faults, 4, 'after the CMD_SYNC the worker walks again and faults');
  } finally {
    await pool.close();
  }
});
