import t from 'tap';
import { bootQ35, eduDev } from './fake/helpers.js';
import { TI_APERTURE } from './fake/test-iommu-hw.js';

const MS = 1_000_000;

t.test('strict mode: one range invalidation per unmap, done at the unmap', async (t) => {
  const rig = bootQ35({ boot: { dmaMode: 'strict', workloads: [{ name: 'edu-dma', params: { iterations: 5 } }] } });
  const r = rig.booted.report;
  t.equal(r.dma.unmaps, 10);
  t.same([r.invalidations.iotlbSyncs, r.invalidations.flushAll, r.invalidations.fqFlushes], [10, 0, 0]);
  const inv = rig.board.hw!.invalidations;
  t.equal(inv.length, 10);
  t.ok(inv.every((i) => i.cmd === 1), 'range invalidations');
  t.ok(inv.every((i) => i.t % (100 * MS) === 0), 'each issued right when the transfer finished (100 ms steps)');
  t.equal(r.oracle.staleWindow, 0);
});

t.test('lazy mode: unmaps are queued and flushed 10 ms of virtual time later with one flush-all', async (t) => {
  const rig = bootQ35({ boot: { dmaMode: 'lazy', workloads: [{ name: 'edu-dma', params: { iterations: 5 } }] } });
  const r = rig.booted.report;
  t.equal(r.invalidations.iotlbSyncs, 0);
  t.equal(r.invalidations.flushAll, r.invalidations.fqFlushes);
  t.equal(r.invalidations.fqTimeout, 10, 'each unmap is followed by a 100 ms wait, so each flush came from the timer');
  const inv = rig.board.hw!.invalidations;
  t.ok(inv.every((i) => i.cmd === 2 && i.t % (100 * MS) === 10 * MS), 'flushes land 10 ms after an unmap');
  t.equal(r.oracle.violations, 0);
});

t.test('the flush queue flushes before the 251st entry, and the rest on its timer', async (t) => {
  let t0 = 0;
  let distinct = 0;
  const rig = bootQ35({
    boot: {
      dmaMode: 'lazy',
      workloads: [],
      scenario: (k) => {
        const dev = eduDev(k);
        const page = k.mem.alloc(4096)!;
        t0 = k.clock.now();
        const seen = new Set<number>();
        for (let i = 0; i < 600; i++) {
          const dma = k.dma.mapSingle(dev, page, 4096, 'bidirectional');
          if (i < 250) seen.add(dma);
          k.dma.unmapSingle(dev, dma, 4096, 'bidirectional');
        }
        distinct = seen.size;
        k.clock.sleep(20 * MS);
      },
    },
  });
  const inv = rig.board.hw!.invalidations;
  t.same(inv.map((i) => i.t - t0), [0, 0, 10 * MS], 'two flushes when full (no time passed), one on the timer');
  t.same(rig.booted.report.invalidations.fqFull, 2);
  t.same(rig.booted.report.invalidations.fqTimeout, 1);
  t.equal(distinct, 250, 'an IOVA is not reused before the flush that frees it');
});

t.test('custom flush-queue size and timeout are honoured', async (t) => {
  const rig = bootQ35({
    boot: {
      dmaMode: 'lazy',
      fq: { size: 4, timeoutNs: 3 * MS },
      workloads: [],
      scenario: (k) => {
        const dev = eduDev(k);
        const page = k.mem.alloc(4096)!;
        for (let i = 0; i < 9; i++) k.dma.unmapSingle(dev, k.dma.mapSingle(dev, page, 4096, 'to-device'), 4096, 'to-device');
        k.clock.sleep(5 * MS);
      },
    },
  });
  t.same(rig.board.hw!.invalidations.map((i) => i.t), [0, 0, 3 * MS].map((x) => x + rig.board.hw!.invalidations[0]!.t));
  t.ok(TI_APERTURE > 0);
});

t.test('passthrough mode: identity domains, direct DMA, nothing to invalidate', async (t) => {
  const rig = bootQ35({ boot: { dmaMode: 'passthrough' } });
  const r = rig.booted.report;
  const edu = r.devices.find((d) => d.id === '1234:11e8')!;
  t.match(edu.domain, /identity$/);
  t.equal(edu.dmaOps, 'dma-direct');
  t.equal(r.invalidations.total, 0);
  t.ok(r.oracle.checked > 0);
  t.equal(r.oracle.untranslated, 0, 'the oracle knows the device sits in an identity domain');
  t.equal(r.oracle.violations, 0);
  t.ok(r.workloads[0]!.ok);
  t.match(r.log.join('\n'), /iommu: Default domain type: Passthrough/);
});

t.test('hot removal: the device leaves its group and the group\'s domain is freed', async (t) => {
  let freed = false;
  bootQ35({
    boot: {
      workloads: [],
      scenario: (k) => {
        const dev = eduDev(k);
        const g = k.iommu.groupOf(dev)!;
        k.iommu.observers.push({ domainFreed: (d) => { freed = d === g.defaultDomain; } });
        k.drivers.unbind(dev);
        k.iommu.removeDevice(dev);
        t.equal(k.iommu.groupOf(dev), undefined);
        t.notOk(k.iommu.groups.includes(g));
      },
    },
  });
  t.ok(freed);
});
