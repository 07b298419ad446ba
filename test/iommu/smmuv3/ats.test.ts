import t from 'tap';
import {
  EINVAL, IOMMU_NOTIFIER_DEVIOTLB_UNMAP, IOMMU_NOTIFIER_MAP, IOMMU_NOTIFIER_UNMAP, iommuNotifierInit, SmmuGuest,
  type IOMMUNotifyEntry,
} from '../../../src/iommu/index.js';
import { IOMMU_RO, IOMMU_RW } from '../../../src/memory/index.js';
import { CD_BASE, DATA, ok, rig, type Rig } from './rig.js';

function atsRig(globals: string[] = ['ats=on'], eats = true) {
  const r = rig({ globals });
  const edu = r.pci[0]!;
  const pt = r.tables(12, 25);
  pt.map(0x200000, DATA);
  pt.map(0x201000, DATA + 0x1000, { write: false });
  r.g.cd(CD_BASE, { asid: 3, ttb0: pt.root, tsz: 25 });
  r.g.ste(r.sid(edu), 's1', { cd: CD_BASE, eats: eats ? 1 : 0 });
  r.g.enable();
  const ep = r.dev.endpointFor(edu.bus, edu.devfn);
  return { r, edu, ep, pt };
}

function devIotlbConsumer(ep: ReturnType<typeof atsRig>['ep']) {
  const got: IOMMUNotifyEntry[] = [];
  const n = iommuNotifierInit((_n, e) => got.push(e), IOMMU_NOTIFIER_DEVIOTLB_UNMAP, 0n, (1n << 48n) - 1n, 0);
  return { n, got, err: ep.region.registerNotifier(n) };
}

t.test('ats=off: DEVIOTLB_UNMAP is vetoed with QEMU\'s text, MAP with QEMU\'s device message; UNMAP is fine', async (t) => {
  const { r, ep } = atsRig([]);
  t.equal(r.g.r32(0) & (1 << 10), 0, 'IDR0.ATS = 0');
  const d = devIotlbConsumer(ep);
  t.same(d.err, { errno: -EINVAL, message: 'SMMUv3 does not support dev-iotlb yet' });
  t.equal(ep.region.registeredNotifiers.length, 0, 'the vetoed registration left no trace');
  const map = iommuNotifierInit(() => undefined, IOMMU_NOTIFIER_MAP | IOMMU_NOTIFIER_UNMAP, 0n, 100n, 0);
  t.same(ep.region.registerNotifier(map), { errno: -EINVAL, message: 'device 00.01.0 requires iommu MAP notifier which is not currently supported' });
  t.equal(ep.region.registerNotifier(iommuNotifierInit(() => undefined, IOMMU_NOTIFIER_UNMAP, 0n, 100n, 0)), null);
  r.g.cmd(SmmuGuest.atcInv(r.sid(r.pci[0]!), 0, 0), SmmuGuest.SYNC);
  t.equal(r.g.r32(0x9c) >>> 24, 1, 'CMD_ATC_INV without IDR0.ATS is CERROR_ILL (IHI 0070 4.5.1)');
  const q = atsRig(['x-qemu72=on']);
  q.r.g.cmd(SmmuGuest.atcInv(q.r.sid(q.edu), 0, 0), SmmuGuest.SYNC);
  t.equal(q.r.g.r32(0x9c), 2, 'x-qemu72: ignored, as QEMU 7.2 does');
});

t.test('ats=on: CMD_ATC_INV reaches DEVIOTLB_UNMAP consumers with the architected Size/Addr decoding', async (t) => {
  const { r, edu, ep } = atsRig();
  t.equal(r.g.r32(0) & (1 << 10), 1 << 10, 'IDR0.ATS = 1');
  const d = devIotlbConsumer(ep);
  t.equal(d.err, null, 'DEVIOTLB_UNMAP accepted');
  const sid = r.sid(edu);
  r.g.cmd(SmmuGuest.atcInv(sid, 0x5000, 0), SmmuGuest.atcInv(sid, 0x5000, 3), SmmuGuest.atcInv(sid, 0x12345000, 52),
    SmmuGuest.atcInv(sid, 0x200000, 0, 5), SmmuGuest.atcInv(sid + 1, 0, 0), SmmuGuest.atcInv(sid, 0x1_fffff000, 1), SmmuGuest.SYNC);
  t.equal(r.g.r32(0x9c) >>> 24, 0, 'no command error');
  t.same(d.got.map((e) => [e.iova, e.addrMask, e.pasid]), [
    [0x5000n, 0xfffn, undefined],
    [0x0n, 0x7fffn, undefined],
    [0n, (1n << 48n) - 1n, undefined],
    [0x200000n, 0xfffn, 5],
    [0x1_ffffe000n, 0x1fffn, undefined],
  ], 'Size 0: 4 KiB; Size 3 at 0x5000: 32 KiB aligned down; Size 52: all (cropped to the region); SSV: the PASID; other SIDs: nothing; address bits 31 and up');
  r.g.w32(0x20, 0xc);
  r.g.cmd(SmmuGuest.atcInv(sid, 0, 0), SmmuGuest.SYNC);
  t.equal(d.got.length, 5, 'IGNORED while SMMUEN = 0');
});

t.test('ats=on: Translation Requests need STE.EATS; Translated transactions are checked with CR0.ATSCHK', async (t) => {
  const { r, edu, ep } = atsRig();
  const tr = { addressType: 'translation-request' as const };
  const e = ep.region.translate(0x200000, IOMMU_RO, 2, tr);
  t.same([e.translatedAddr, e.perm], [DATA, IOMMU_RW], 'a Translation Request returns the translation and its permissions');
  t.equal(ep.region.translate(0x201000, IOMMU_RO, 2, tr).perm, IOMMU_RO, 'read-only page: R only granted');
  t.equal(ep.region.translate(0x202000, IOMMU_RO, 2, tr).perm, 0, 'a failing Translation Request...');
  t.equal(r.g.drainEvents().length, 0, '...records no fault (3.9.1)');
  t.ok(ok(r.dmaRead(edu, DATA, 4, { addressType: 'translated' }).result), 'ATSCHK = 0: Translated traffic passes');
  r.g.w32(0x20, 0xd | 0x10);
  t.ok(ok(r.dmaRead(edu, DATA, 4, { addressType: 'translated' }).result), 'ATSCHK = 1 with EATS = 1: passes');
  const n = atsRig(['ats=on'], false);
  n.r.g.w32(0x20, 0xd | 0x10);
  t.notOk(ok(n.r.dmaRead(n.edu, DATA, 4, { addressType: 'translated' }).result), 'EATS = 0: refused');
  t.equal(n.ep.region.translate(0x200000, IOMMU_RO, 2, tr).perm, 0, 'EATS = 0: Translation Request refused');
  const ev = n.r.g.drainEvents().map((w) => w[0]! & 0xff);
  t.same(ev, [0x07, 0x05], 'F_TRANSL_FORBIDDEN, F_BAD_ATS_TREQ');
  t.equal(ep.region.attrsToIndex({ addressType: 'translated' }), 1);
  t.equal(ep.region.attrsToIndex({ addressType: 'translation-request' }), 2);
  t.equal(ep.region.numIndexes(), 3);
});

/** A device-side ATC: caches Translation Request results, drops them on DEVIOTLB_UNMAP (the vhost device-IOTLB pattern). */
function atc(x: ReturnType<typeof atsRig>) {
  const cache = new Map<number, number>();
  const n = iommuNotifierInit((_n, e) => {
    for (const k of [...cache.keys()]) if (BigInt(k) >= e.iova && BigInt(k) <= e.iova + e.addrMask) cache.delete(k);
  }, IOMMU_NOTIFIER_DEVIOTLB_UNMAP, 0n, (1n << 48n) - 1n, 0);
  x.ep.region.registerNotifier(n);
  return {
    cache,
    /** Translated DMA read of iova through the ATC (a Translation Request on a miss). */
    read(r: Rig, iova: number): boolean {
      let pa = cache.get(iova);
      if (pa === undefined) {
        const e = x.ep.region.translate(iova, IOMMU_RO, 2, { addressType: 'translation-request' });
        if (!e.perm) return false;
        pa = e.translatedAddr;
        cache.set(iova, pa);
      }
      return ok(r.dmaRead(x.edu, pa, 4, { addressType: 'translated' }).result);
    },
  };
}

t.test('an ATC keeps a stale translation until the guest sends CMD_ATC_INV after its TLBI', async (t) => {
  const x = atsRig();
  const a = atc(x);
  t.ok(a.read(x.r, 0x200000), 'first use: Translation Request, then Translated');
  x.pt.unmap(0x200000);
  x.r.g.cmd(SmmuGuest.tlbiVa(3, 0x200000), SmmuGuest.SYNC);
  t.ok(a.read(x.r, 0x200000), 'the TLBI does not reach the device ATC');
  x.r.g.cmd(SmmuGuest.atcInv(x.r.sid(x.edu), 0x200000, 0), SmmuGuest.SYNC);
  t.equal(a.cache.size, 0, 'CMD_ATC_INV emptied it');
  t.notOk(a.read(x.r, 0x200000), 'the next Translation Request fails');
});
