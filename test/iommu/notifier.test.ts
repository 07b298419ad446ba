import t from 'tap';
import { IOMMU_NONE, IOMMU_RO, IOMMU_RW, MemorySystem, type IOMMUTLBEntry } from '../../src/memory/index.js';
import {
  EINVAL, ENOTSUP, IOMMU_NOTIFIER_DEVIOTLB_UNMAP, IOMMU_NOTIFIER_MAP, IOMMU_NOTIFIER_NONE, IOMMU_NOTIFIER_UNMAP,
  IommuMemoryRegion, iommuError, iommuNotifierInit, registerIommuNotifier, unregisterIommuNotifier, U64_MAX,
  type IOMMUNotifier, type IOMMUNotifyEntry, type IOMMUTLBEvent,
} from '../../src/iommu/index.js';

/** An SMMUv3-like region: vetoes DEVIOTLB and MAP (ref/qemu-core.md section 4), records flag changes. */
function setup(opts: { numIndexes?: number } = {}) {
  const sys = new MemorySystem();
  const system = sys.container('system', 1n << 64n);
  const memory = sys.addressSpace(system, 'memory');
  const changes: string[] = [];
  const region = new IommuMemoryRegion(sys, 'smmuv3-iommu-memory-region-16-0', 1n << 64n, {
    targetAs: memory,
    ops: {
      numIndexes: () => opts.numIndexes ?? 1,
      notifyFlagChanged(oldF, newF) {
        if (newF & IOMMU_NOTIFIER_DEVIOTLB_UNMAP) return iommuError(EINVAL, 'SMMUv3 does not support dev-iotlb yet');
        if (newF & IOMMU_NOTIFIER_MAP) {
          return iommuError(EINVAL, 'device 00.02.0 requires iommu MAP notifier which is not currently supported');
        }
        changes.push(`${oldF}->${newF}`);
        return null;
      },
    },
  });
  return { sys, memory, region, changes };
}

function recorder(flags: number, start: bigint, end: bigint, idx = 0, log: string[] = [], tag = 'n') {
  const got: IOMMUNotifyEntry[] = [];
  const n = iommuNotifierInit((_n, e) => {
    got.push({ ...e });
    log.push(tag);
  }, flags, start, end, idx);
  return { n, got };
}

const unmap = (iova: bigint, mask: bigint, perm = IOMMU_NONE): IOMMUTLBEvent => ({
  type: IOMMU_NOTIFIER_UNMAP, entry: { targetAs: null, iova, translatedAddr: 0n, addrMask: mask, perm },
});

t.test('a vetoed registration returns the error and leaves no trace', async (t) => {
  const { region, changes } = setup();
  const a = recorder(IOMMU_NOTIFIER_UNMAP, 0n, U64_MAX);
  t.equal(region.registerNotifier(a.n), null);
  t.equal(region.iommuNotifyFlags, IOMMU_NOTIFIER_UNMAP);
  const b = recorder(IOMMU_NOTIFIER_DEVIOTLB_UNMAP, 0n, U64_MAX);
  const err = region.registerNotifier(b.n);
  t.same(err, { errno: -EINVAL, message: 'SMMUv3 does not support dev-iotlb yet' });
  t.same(region.registeredNotifiers, [a.n], 'the vetoed notifier is not listed');
  t.equal(region.iommuNotifyFlags, IOMMU_NOTIFIER_UNMAP, 'the cached union is untouched');
  t.same(changes, ['0->1']);
  const devIotlb: IOMMUTLBEvent = { ...unmap(0n, 0xfffn), type: IOMMU_NOTIFIER_DEVIOTLB_UNMAP };
  region.notify(0, devIotlb);
  t.equal(b.got.length, 0, 'it receives nothing afterwards');
  const m = recorder(IOMMU_NOTIFIER_MAP | IOMMU_NOTIFIER_UNMAP, 0n, U64_MAX);
  t.match(region.registerNotifier(m.n)?.message, /requires iommu MAP notifier/);
  t.same(region.registeredNotifiers, [a.n]);
});

t.test('unregistration recomputes the union; the transition to NONE reaches the vIOMMU', async (t) => {
  const sys = new MemorySystem();
  const seen: [number, number][] = [];
  const region = new IommuMemoryRegion(sys, 'vtd', 1n << 64n, {
    ops: { notifyFlagChanged: (o, n) => (seen.push([o, n]), null) },
  });
  const a = recorder(IOMMU_NOTIFIER_UNMAP, 0n, U64_MAX);
  const b = recorder(IOMMU_NOTIFIER_MAP | IOMMU_NOTIFIER_UNMAP, 0n, U64_MAX);
  const c = recorder(IOMMU_NOTIFIER_UNMAP, 0x1000n, 0x1fffn);
  region.registerNotifier(a.n);
  region.registerNotifier(b.n);
  region.registerNotifier(c.n);
  region.unregisterNotifier(b.n);
  region.unregisterNotifier(a.n);
  region.unregisterNotifier(c.n);
  t.same(seen, [[0, 1], [1, 3], [3, 1], [1, 0]], 'only changes of the union are offered, ending at NONE');
  t.equal(region.iommuNotifyFlags, IOMMU_NOTIFIER_NONE);
});

t.test('events are cropped to the notifier range', async (t) => {
  const { region } = setup();
  const r = recorder(IOMMU_NOTIFIER_UNMAP, 0x1000n, 0x1fffn);
  region.registerNotifier(r.n);
  t.equal(region.notify(0, unmap(0n, 0x3fffn)), null);
  t.same(r.got.map((e) => [e.iova, e.addrMask, e.perm]), [[0x1000n, 0xfffn, IOMMU_NONE]]);
  region.notify(0, unmap(0x1800n, 0x7ffffn));
  t.same(r.got[1] && [r.got[1].iova, r.got[1].addrMask], [0x1800n, 0x7ffn], 'a crop need not be 2^n - 1');
  region.notify(0, unmap(0x2000n, 0xfffn));
  region.notify(0, unmap(0n, 0xfffn));
  t.equal(r.got.length, 2, 'events that miss the range are dropped');
});

t.test('a full-range event reaches a full-range notifier exactly, without overflow', async (t) => {
  const { region } = setup();
  const r = recorder(IOMMU_NOTIFIER_UNMAP, 0n, U64_MAX);
  region.registerNotifier(r.n);
  region.notify(0, unmap(0n, U64_MAX));
  t.same(r.got.map((e) => [e.iova, e.addrMask]), [[0n, U64_MAX]]);
});

t.test('event types outside the notifier flags are dropped', async (t) => {
  const sys = new MemorySystem();
  const region = new IommuMemoryRegion(sys, 'viommu', 1n << 64n);
  const u = recorder(IOMMU_NOTIFIER_UNMAP, 0n, U64_MAX);
  const d = recorder(IOMMU_NOTIFIER_DEVIOTLB_UNMAP, 0n, U64_MAX);
  const m = recorder(IOMMU_NOTIFIER_MAP, 0n, U64_MAX);
  for (const x of [u, d, m]) region.registerNotifier(x.n);
  region.notify(0, unmap(0x4000n, 0xfffn));
  region.notify(0, { type: IOMMU_NOTIFIER_DEVIOTLB_UNMAP, entry: unmap(0x8000n, 0x7fffn).entry });
  region.notify(0, { type: IOMMU_NOTIFIER_MAP, entry: { targetAs: null, iova: 0n, translatedAddr: 0x5000n, addrMask: 0xfffn, perm: IOMMU_RW } });
  t.same(u.got.map((e) => e.iova), [0x4000n]);
  t.same(d.got.map((e) => e.iova), [0x8000n]);
  t.same(m.got.map((e) => e.translatedAddr), [0x5000n]);
});

t.test('events on one index skip notifiers of another; newest is called first', async (t) => {
  const { region } = setup({ numIndexes: 3 });
  const log: string[] = [];
  const first = recorder(IOMMU_NOTIFIER_UNMAP, 0n, U64_MAX, 0, log, 'first');
  const other = recorder(IOMMU_NOTIFIER_UNMAP, 0n, U64_MAX, 1, log, 'idx1');
  const second = recorder(IOMMU_NOTIFIER_UNMAP, 0n, U64_MAX, 0, log, 'second');
  for (const x of [first, other, second]) t.equal(region.registerNotifier(x.n), null);
  region.notify(0, unmap(0n, 0xfffn));
  t.same(log, ['second', 'first']);
  region.notify(1, unmap(0n, 0xfffn));
  t.same(log, ['second', 'first', 'idx1']);
  t.throws(() => region.registerNotifier(recorder(IOMMU_NOTIFIER_UNMAP, 0n, 1n, 3).n), /index 3/, 'index beyond num_indexes');
});

t.test('an UNMAP carrying a permission is an error result and delivers nothing', async (t) => {
  const { region } = setup();
  const r = recorder(IOMMU_NOTIFIER_UNMAP, 0x100000n, 0x1fffffn);
  region.registerNotifier(r.n);
  const err = region.notify(0, unmap(0n, 0xfffn, IOMMU_RO));
  t.equal(err?.errno, -EINVAL, 'refused even though the range misses the notifier (checked first)');
  t.equal(r.got.length, 0);
});

t.test('registration through an alias reaches the target region', async (t) => {
  const { sys, region, changes } = setup();
  const alias = sys.alias('bus master', region.mr, 0, 1n << 64n);
  const alias2 = sys.alias('bus master 2', alias, 0, 1n << 64n);
  const r = recorder(IOMMU_NOTIFIER_UNMAP, 0n, U64_MAX);
  t.equal(registerIommuNotifier(alias2, r.n), null);
  t.same(region.registeredNotifiers, [r.n]);
  t.same(changes, ['0->1']);
  const bad = recorder(IOMMU_NOTIFIER_DEVIOTLB_UNMAP, 0n, U64_MAX);
  t.match(registerIommuNotifier(alias, bad.n), { errno: -EINVAL }, 'a veto comes back through the alias');
  unregisterIommuNotifier(alias2, r.n);
  t.same(region.registeredNotifiers, []);
  t.same(changes, ['0->1', '1->0']);
  t.throws(() => registerIommuNotifier(sys.container('c', 0x1000), r.n), /not an IOMMU region/);
});

t.test('unmapNotifierRange sends the whole range to that notifier only, not to DEVIOTLB-only ones', async (t) => {
  const sys = new MemorySystem();
  const region = new IommuMemoryRegion(sys, 'viommu', 1n << 64n);
  const a = recorder(IOMMU_NOTIFIER_UNMAP, 0x1000n, 0x4fffn);
  const b = recorder(IOMMU_NOTIFIER_UNMAP, 0n, U64_MAX);
  const d = recorder(IOMMU_NOTIFIER_DEVIOTLB_UNMAP, 0n, U64_MAX);
  for (const x of [a, b, d]) region.registerNotifier(x.n);
  region.unmapNotifierRange(a.n);
  region.unmapNotifierRange(d.n);
  t.same(a.got.map((e) => [e.iova, e.addrMask, e.perm]), [[0x1000n, 0x3fffn, IOMMU_NONE]]);
  t.equal(b.got.length, 0);
  t.equal(d.got.length, 0);
});

t.test('default replay translates each page and sends entries with a permission, uncropped, whatever the flags', async (t) => {
  const sys = new MemorySystem();
  const mapped = new Map([[1, IOMMU_RO], [3, IOMMU_RW]]);
  const region = new IommuMemoryRegion(sys, 'viommu', 0x10000, {
    ops: {
      getMinPageSize: () => 0x2000,
      translate(addr, flag): IOMMUTLBEntry {
        t.equal(flag, IOMMU_NONE, 'replay asks for a full walk');
        const p = mapped.get(addr / 0x2000) ?? IOMMU_NONE;
        return { targetAs: null, iova: addr, translatedAddr: 0x100000 + addr, addrMask: 0x1fff, perm: p };
      },
    },
  });
  const r = recorder(IOMMU_NOTIFIER_UNMAP, 0x2800n, U64_MAX);
  region.registerNotifier(r.n);
  t.equal(region.replay(r.n), null);
  t.same(r.got.map((e) => [e.iova, e.translatedAddr, e.addrMask, e.perm]),
    [[0x2000n, 0x102000n, 0x1fffn, IOMMU_RO], [0x6000n, 0x106000n, 0x1fffn, IOMMU_RW]]);
  const big = new IommuMemoryRegion(sys, 'big', 1n << 64n);
  const w = recorder(IOMMU_NOTIFIER_MAP, 0n, U64_MAX);
  big.registerNotifier(w.n);
  t.equal(big.replay(w.n)?.errno, -7, 'a range too large for the default replay is an error value');
});

t.test('ENOTSUP vetoes work like any other', async (t) => {
  const sys = new MemorySystem();
  const region = new IommuMemoryRegion(sys, 'vtd-03.0-dmar', 1n << 64n, {
    ops: { notifyFlagChanged: (_o, n) => (n & IOMMU_NOTIFIER_MAP ? iommuError(ENOTSUP, 'device 00.03.0 requires caching mode') : null) },
  });
  const n: IOMMUNotifier = recorder(IOMMU_NOTIFIER_MAP | IOMMU_NOTIFIER_UNMAP, 0n, U64_MAX).n;
  t.same(region.registerNotifier(n), { errno: -ENOTSUP, message: 'device 00.03.0 requires caching mode' });
  t.equal(region.iommuNotifyFlags, IOMMU_NOTIFIER_NONE);
});
