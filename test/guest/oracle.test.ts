import t from 'tap';
import { EventLog } from '../../src/base/event-log.js';
import { VirtualClock } from '../../src/base/clock.js';
import { GuestDevice } from '../../src/guest/device.js';
import { IOMMU_DOMAIN_BLOCKED, IOMMU_DOMAIN_DMA, IOMMU_READ } from '../../src/guest/iommu-core/domain-types.js';
import { IommuDomain } from '../../src/guest/iommu-core/driver.js';
import { iommuGroupClaimDmaOwner } from '../../src/guest/iommu-core/ownership.js';
import { DmaOracle } from '../../src/guest/oracle/oracle.js';
import { reportFailed } from '../../src/guest/report/report.js';
import { enumeratePci } from '../../src/guest/pci-core/enumerate.js';
import { bootQ35, eduDev, eduRaw } from './fake/helpers.js';
import { pcieTopology } from './fake/topology.js';

t.test('a clean run: every edu DMA is checked and none violates', async (t) => {
  for (const dmaMode of ['strict', 'lazy'] as const) {
    const rig = bootQ35({ boot: { dmaMode, workloads: [{ name: 'edu-dma', params: { iterations: 12 } }] } });
    const r = rig.booted.report;
    t.ok(r.oracle.checked >= 24, `${dmaMode}: ${r.oracle.checked} accesses checked`);
    t.equal(r.oracle.violations, 0);
    t.equal(r.oracle.faults, 0);
    t.notOk(reportFailed(r));
  }
});

t.test('the broken stub that skips invalidations is caught: stale translations, and the run fails', async (t) => {
  const rig = bootQ35({ iommu: { skipInvalidation: true }, boot: { dmaMode: 'strict', workloads: [{ name: 'edu-dma', params: { iterations: 12 } }] } });
  const r = rig.booted.report;
  t.ok(r.oracle.violations > 0);
  const stale = r.oracle.list.filter((v) => v.kind === 'stale-translation');
  t.ok(stale.length > 0, 'at least one access used a translation whose invalidation had completed');
  const v = stale[0]!;
  t.equal(v.device, 'edu');
  t.equal(v.requesterId, 0x0010);
  t.match(v.message, /invalidation completed at \d+\.\d{6}s/);
  t.ok(v.history.length >= 1 && /unmapped at .* invalidation completed at/.test(v.history[0]!), 'the mapping history comes with it');
  t.ok(reportFailed(r));
  t.match(r.log.join('\n'), /DMA oracle: stale-translation: edu/);
});

t.test('the same stub is caught directly: an access to an unmapped IOVA after its invalidation "completed"', async (t) => {
  let seenKinds: string[] = [];
  const rig = bootQ35({
    iommu: { skipInvalidation: true },
    boot: {
      dmaMode: 'strict',
      workloads: [],
      scenario: (k) => {
        const dev = eduDev(k);
        const page = k.mem.alloc(4096)!;
        const dma = k.dma.mapSingle(dev, page, 4096, 'to-device');
        eduRaw(k, dev, dma, 16, false);
        k.dma.unmapSingle(dev, dma, 4096, 'to-device');
        eduRaw(k, dev, dma, 16, false);
        seenKinds = k.oracle.violations.map((v) => v.kind);
      },
    },
  });
  t.same(seenKinds, ['stale-translation']);
  t.equal(rig.booted.report.oracle.violations, 1);
  const ok = bootQ35({
    boot: {
      dmaMode: 'strict',
      workloads: [],
      scenario: (k) => {
        const dev = eduDev(k);
        const page = k.mem.alloc(4096)!;
        const dma = k.dma.mapSingle(dev, page, 4096, 'to-device');
        k.dma.unmapSingle(dev, dma, 4096, 'to-device');
        eduRaw(k, dev, dma, 16, false);
      },
    },
  });
  t.equal(ok.booted.report.oracle.violations, 0, 'with the invalidation done the access faults, as it should');
  t.equal(ok.booted.report.oracle.faults, 1);
});

t.test('isolation: a BLOCKED attach that leaves translation on is caught', async (t) => {
  const rig = bootQ35({
    iommu: { blockedNoop: true },
    boot: {
      workloads: [],
      scenario: (k) => {
        const dev = eduDev(k);
        const page = k.mem.alloc(4096)!;
        const dma = k.dma.mapSingle(dev, page, 4096, 'to-device');
        k.drivers.unbind(dev);
        iommuGroupClaimDmaOwner(k.iommu, k.iommu.groupOf(dev)!, {});
        eduRaw(k, dev, dma, 16, false);
      },
    },
  });
  const v = rig.booted.report.oracle.list;
  t.equal(v.length, 1);
  t.equal(v[0]!.kind, 'isolation');
  t.match(v[0]!.message, /BLOCKED domain/);
});

t.test('direct DMA (no IOMMU): accesses are checked as untranslated; a translated address would be a violation', async (t) => {
  const rig = bootQ35({ iommu: false });
  const r = rig.booted.report;
  t.ok(r.oracle.checked > 0);
  t.equal(r.oracle.untranslated, r.oracle.checked);
  t.equal(r.oracle.violations, 0);
  t.same(r.devices.map((d) => d.dmaOps), ['dma-direct', 'dma-direct']);
  rig.board.oracle.observe({ requesterId: 0x10, iova: 0x1000, length: 4, write: false, outcome: 'ok', gpa: 0x2000, path: 'emulated' });
  t.equal(rig.board.oracle.violationCount, 1);
});

function unitOracle() {
  const clock = new VirtualClock();
  const o = new DmaOracle(() => clock.now, new EventLog(clock));
  const topo = pcieTopology();
  const fn = enumeratePci(topo.host.access(), { assignBuses: true }).functions.find((f) => f.vendor === 0x1af4)!;
  const dev = new GuestDevice(fn.name, fn);
  const dom = new IommuDomain(IOMMU_DOMAIN_DMA, { attachDev: () => 0 });
  dom.serial = 7;
  o.attached(dev, dom, 0);
  return { clock, o, dev, dom, rid: fn.devId };
}

t.test('oracle rules, event by event', async (t) => {
  const { clock, o, dom, rid, dev } = unitOracle();
  const acc = (iova: number, gpa: number | undefined, outcome: 'ok' | 'fault', write = false, time?: number): void =>
    o.observe({ requesterId: rid, iova, length: 8, write, outcome, ...(gpa !== undefined ? { gpa } : {}), path: 'vhost', ...(time !== undefined ? { time } : {}) });
  o.mapped(dom, 0x10000, 0x500000, 0x2000, IOMMU_READ);
  acc(0x10008, 0x500008, 'ok');
  acc(0x11000, 0x501000, 'ok');
  t.equal(o.violationCount, 0, 'reads through a live read mapping');
  acc(0x10000, undefined, 'fault', true);
  t.equal(o.violationCount, 0, 'a write to a read-only mapping may fault');
  acc(0x10000, 0x500000, 'ok', true);
  t.equal(o.violations.at(-1)?.kind, 'isolation', 'but must not succeed');
  acc(0x10000, undefined, 'fault');
  t.equal(o.violations.at(-1)?.kind, 'spurious-fault');
  clock.advanceTo(1000);
  o.unmapped(dom, 0x10000, 0x1000);
  acc(0x10000, 0x500000, 'ok');
  t.equal(o.counts.staleWindow, 1, 'unmapped but not yet invalidated: allowed (lazy window)');
  clock.advanceTo(2000);
  o.invalidated(dom, 0x10000, 0x10fff);
  acc(0x10000, 0x500000, 'ok', false, 1500);
  t.equal(o.counts.staleWindow, 2, 'a translation that started before the invalidation completed may still finish');
  const before = o.violationCount;
  acc(0x10000, 0x500000, 'ok');
  t.equal(o.violations.at(-1)?.kind, 'stale-translation');
  t.equal(o.violationCount, before + 1);
  acc(0x11000, 0x501000, 'ok');
  t.equal(o.violationCount, before + 1, 'the other page of the extent is still live');
  acc(0x90000, 0x900000, 'ok');
  t.match(o.violations.at(-1)!.message, /not mapped in the device's domain/);
  const blocked = new IommuDomain(IOMMU_DOMAIN_BLOCKED, { attachDev: () => 0 });
  o.attached(dev, blocked, 0);
  acc(0x11000, undefined, 'fault');
  t.equal(o.violations.at(-1)!.kind, 'isolation', 'unchanged: the fault in a blocked domain is fine');
  t.equal(o.summary().checked, 11);
});
