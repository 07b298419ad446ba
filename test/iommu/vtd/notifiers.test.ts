import t from 'tap';
import {
  IOMMU_NOTIFIER_IOTLB_EVENTS, IOMMU_NOTIFIER_NONE, IOMMU_NOTIFIER_UNMAP, iommuNotifierInit, registerIommuNotifier,
  unregisterIommuNotifier, type IOMMUNotifier, type IOMMUNotifyEntry,
} from '../../../src/iommu/index.js';
import { R, TE, vtdMachine } from './helpers.js';

// Notifier policy (vtd_iommu_notify_flag_changed) and the events VT-d sends
// (ref/smmuv3-vtd.md B6, ref/qemu-core.md section 4).

const ALL = (1n << 64n) - 1n;
type Ev = [string, bigint, bigint, bigint?];

function recorder(flags: number, start = 0n, end = ALL) {
  const events: Ev[] = [];
  const n: IOMMUNotifier = iommuNotifierInit((_n, e: IOMMUNotifyEntry) => {
    events.push(e.perm ? ['MAP', e.iova, e.addrMask, e.translatedAddr] : ['UNMAP', e.iova, e.addrMask]);
  }, flags, start, end, 0);
  return { n, events };
}

t.test('MAP needs caching-mode: QEMU\'s text, -ENOTSUP, no trace; accepted with caching-mode=on', async (t) => {
  const v = vtdMachine();
  const { n } = recorder(IOMMU_NOTIFIER_IOTLB_EVENTS);
  const r = v.das().iommu;
  t.same(registerIommuNotifier(r, n), { errno: -95, message: 'device 00.01.0 requires caching mode' });
  t.same(r.registeredNotifiers, []);
  t.equal(r.iommuNotifyFlags, IOMMU_NOTIFIER_NONE);
  t.same(v.vtd.withNotifiers, []);
  const u = recorder(IOMMU_NOTIFIER_UNMAP);
  t.equal(registerIommuNotifier(r, u.n), null, 'UNMAP alone is fine');
  t.same(v.vtd.withNotifiers, [v.das()]);
  unregisterIommuNotifier(r, u.n);
  t.same(v.vtd.withNotifiers, [], 'off the list once the union is NONE');
  const cm = vtdMachine('caching-mode=on');
  t.equal(registerIommuNotifier(cm.das().iommu, recorder(IOMMU_NOTIFIER_IOTLB_EVENTS).n), null);
  t.equal(cm.das().iommu.iommuNotifyFlags, IOMMU_NOTIFIER_IOTLB_EVENTS);
});

t.test('snoop-control refuses every notifier', async (t) => {
  const v = vtdMachine('snoop-control=on');
  t.same(registerIommuNotifier(v.das().iommu, recorder(IOMMU_NOTIFIER_UNMAP).n),
    { errno: -95, message: 'Snoop Control with vhost or VFIO is not supported' });
});

t.test('PSI to an UNMAP-only notifier: one UNMAP {addr, 2^AM pages}, no walk', async (t) => {
  const v = vtdMachine();
  const s = v.bringUp({ did: 5 });
  v.qiOn();
  v.map(s, 3, 0x10000, 0x300000);
  const { n, events } = recorder(IOMMU_NOTIFIER_UNMAP);
  registerIommuNotifier(v.das().iommu, n);
  v.submit(v.psi(5, 0x10000, 2), v.waitDesc());
  t.same(events, [['UNMAP', 0x10000n, 0x3fffn]]);
  events.length = 0;
  v.submit(v.psi(6, 0x10000, 0), v.waitDesc());
  t.same(events, [], 'another domain: nothing');
  v.submit(v.dsi(5), v.waitDesc());
  t.same(events, [['UNMAP', 0n, (1n << 39n) - 1n]], 'DSI: the whole range, cut to aw-bits 39');
  events.length = 0;
  v.w32(R.GCMD, (v.r32(R.GSTS) & ~TE & ~0x40000000) >>> 0);
  t.same(events, [['UNMAP', 0n, (1n << 39n) - 1n]], 'TE off: unmap all');
});

t.test('shadow sync to a MAP notifier: replay MAPs, no duplicate MAPs, a changed mapping is UNMAP+MAP, an unmap is UNMAP', async (t) => {
  const v = vtdMachine('caching-mode=on');
  const s = v.bringUp({ did: 1 });
  v.qiOn();
  v.map(s, 3, 0x1000, 0x300000);
  v.map(s, 3, 0x200000, 0x400000, 1, 2);
  const { n, events } = recorder(IOMMU_NOTIFIER_IOTLB_EVENTS);
  const r = v.das().iommu;
  t.equal(registerIommuNotifier(r, n), null);
  t.equal(r.replay(n), null);
  t.same(events, [['UNMAP', 0n, (1n << 39n) - 1n], ['MAP', 0x1000n, 0xfffn, 0x300000n], ['MAP', 0x200000n, 0x1fffffn, 0x400000n]],
    'replay: the range released, then every present mapping');
  events.length = 0;
  v.map(s, 3, 0x2000, 0x301000);
  v.submit(v.psi(1, 0x0, 4), v.waitDesc());
  t.same(events, [['MAP', 0x2000n, 0xfffn, 0x301000n]], 'a new page: one MAP, the existing one is not sent again');
  events.length = 0;
  v.submit(v.psi(1, 0x0, 4), v.waitDesc());
  t.same(events, [], 'nothing changed: nothing sent');
  v.map(s, 3, 0x1000, 0x500000);
  v.submit(v.psi(1, 0x1000, 0), v.waitDesc());
  t.same(events, [['UNMAP', 0x1000n, 0xfffn], ['MAP', 0x1000n, 0xfffn, 0x500000n]], 'changed translation: UNMAP then MAP');
  events.length = 0;
  v.map(s, 3, 0x2000, 0, 0);
  v.submit(v.psi(1, 0x2000, 0), v.waitDesc());
  t.same(events, [['UNMAP', 0x2000n, 0xfffn]], 'unmapped: UNMAP');
  events.length = 0;
  v.submit(v.psi(1, 0x8000, 0), v.waitDesc());
  t.same(events, [], 'an UNMAP of a range never mapped is skipped');
  v.submit(v.dsi(1), v.waitDesc());
  t.same(events, [], 'DSI resyncs the whole space: nothing changed');
  t.equal(v.das().iovaTree.size, 2);
});

t.test('context invalidation with the context entry cleared: the MAP notifier gets everything unmapped', async (t) => {
  const v = vtdMachine('caching-mode=on');
  const s = v.bringUp({ did: 1 });
  v.qiOn();
  v.map(s, 3, 0x1000, 0x300000);
  const { n, events } = recorder(IOMMU_NOTIFIER_IOTLB_EVENTS);
  registerIommuNotifier(v.das().iommu, n);
  v.das().iommu.replay(n);
  events.length = 0;
  v.st64(0x101000 + 8 * 16, 0);
  v.submit([(0x0008n << 32n) | 0x31n, 0n], v.waitDesc());
  t.same(events, [['UNMAP', 0n, (1n << 39n) - 1n]]);
  t.equal(v.das().iovaTree.size, 0);
});

t.test('a notifier over part of the space sees cropped events', async (t) => {
  const v = vtdMachine();
  const s = v.bringUp({ did: 2 });
  v.qiOn();
  v.map(s, 3, 0x4000, 0x300000);
  const { n, events } = recorder(IOMMU_NOTIFIER_UNMAP, 0x5000n, 0x5fffn);
  registerIommuNotifier(v.das().iommu, n);
  v.submit(v.psi(2, 0x4000, 2), v.waitDesc());
  t.same(events, [['UNMAP', 0x5000n, 0xfffn]]);
  events.length = 0;
  v.submit(v.dsi(2), v.waitDesc());
  t.same(events, [['UNMAP', 0x5000n, 0xfffn]], 'the unmap of a notifier range uses that range');
});

t.test('caching-mode=on sets CAP.CM (bit 7)', async (t) => {
  t.equal(vtdMachine('caching-mode=on').r64(R.CAP), 0x00d2008c22260286n);
  t.equal(vtdMachine().r64(R.CAP) & 0x80n, 0n);
});
