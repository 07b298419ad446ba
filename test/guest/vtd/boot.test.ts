import t from 'tap';
import { bootMachine } from '../../../src/cli/boot.js';
import type { EduDriver } from '../../../src/guest/drivers/edu.js';
import type { GuestKernel } from '../../../src/guest/kernel.js';
import { reportFailed } from '../../../src/guest/report/report.js';
import { IOMMU_NOTIFIER_IOTLB_EVENTS, iommuNotifierInit, registerIommuNotifier } from '../../../src/iommu/index.js';
import { parseCmdline } from '../../../src/machine/cmdline.js';
import { IntelIommuDevice } from '../../../src/machine/devices/intel-iommu.js';
import { Machine } from '../../../src/machine/machine.js';

// The synthetic guest's intel-iommu driver on q35 + intel-iommu + edu: DMAR
// parsing, bring-up, default domains, DMA through second-level translation
// with the DMA oracle watching every access.

function machine(props = '', extra: string[] = []) {
  const m = Machine.create(parseCmdline(['-M', 'q35', '-device', `intel-iommu${props ? `,${props}` : ''}`, '-device', 'edu', ...extra]).config);
  const vtd = (m.systemDevices.find((d) => d instanceof IntelIommuDevice) as IntelIommuDevice).vtd;
  return { m, vtd };
}

const eduOf = (k: GuestKernel) => k.drivers.drivers.find((d) => d.name === 'edu') as EduDriver;

for (const mode of ['strict', 'lazy'] as const) {
  t.test(`${mode}: edu DMA goes through VT-d translation, oracle clean`, async (t) => {
    const { m, vtd } = machine();
    const r = bootMachine(m, { dmaMode: mode });
    t.notOk(reportFailed(r), 'RESULT ok');
    t.same(r.iommu.instances, [{ name: 'dmar0', driver: 'intel-iommu', fwnode: 'DRHD:fed90000' }]);
    t.ok(r.firmware.tables.includes('DMAR'));
    const edu = r.devices.find((d) => d.id === '1234:11e8')!;
    t.same([edu.iommu, edu.dmaOps], ['dmar0', 'iommu-dma']);
    t.match(edu.domain, mode === 'strict' ? /^#\d+ DMA$/ : /^#\d+ DMA-FQ$/);
    t.ok(r.oracle.checked > 0);
    t.same([r.oracle.violations, r.oracle.untranslated, r.oracle.faults], [0, 0, 0], 'every access translated, none faulted');
    t.ok(vtd.dmarEnabled, 'translation on');
    t.ok(vtd.engine.iotlb.misses > 0, 'the device\'s DMA walked the guest\'s tables');
    t.ok(vtd.inv.wait > 0, 'wait descriptors');
    if (mode === 'strict') {
      t.ok(r.invalidations.iotlbSyncs > 0);
      t.equal(vtd.inv.iotlbPage, r.invalidations.iotlbSyncs, 'one page-selective invalidation per unmap');
    } else {
      t.ok(r.invalidations.fqFlushes > 0);
      t.ok(vtd.inv.iotlbDomain >= r.invalidations.fqFlushes, 'the flush queue invalidates domain-selectively');
    }
    t.match(r.log.join('\n'), /DMAR: Host address width 39\n.*DMAR: DRHD base: 0x000000fed90000 flags: 0x0\n.*DMAR: dmar0: reg_base_addr fed90000 ver 1:0 cap d2008c22260206 ecap f00f4a/);
    t.equal(vtd.faults.counts.recorded, 0);
  });
}

t.test('passthrough: identity domains are context pass-through (TT=2); DMA skips translation', async (t) => {
  const { m, vtd } = machine();
  const r = bootMachine(m, { dmaMode: 'passthrough' });
  t.notOk(reportFailed(r));
  t.match(r.devices.find((d) => d.id === '1234:11e8')!.domain, /identity/);
  const das = vtd.spaces.find((a) => a.devfn === 8)!;
  t.equal(vtd.readContext(das), 0);
  t.equal(das.ce.tt, 2);
  t.notOk(das.useIommu, 'the device is on the no-DMAR path');
  t.equal(vtd.engine.iotlb.entries, 0);
});

/** Two to-device transfers from different pages: the second reuses the first IOVA. */
function sameDirection(k: GuestKernel): void {
  const edu = eduOf(k);
  const dev = [...edu.instances.keys()][0]!;
  const a = k.mem.alloc(4096)!;
  const b = k.mem.alloc(4096)!;
  k.port.writeBytes(a, new Uint8Array(64).fill(0xaa));
  k.port.writeBytes(b, new Uint8Array(64).fill(0xbb));
  edu.transfer(dev, a, 64, 'to-device');
  edu.transfer(dev, b, 64, 'to-device');
}

t.test('a model that skips page-selective invalidations (x-broken-skip-psi) is caught by the oracle', async (t) => {
  const good = bootMachine(machine().m, { dmaMode: 'strict', scenario: sameDirection });
  t.same([good.oracle.violations, reportFailed(good)], [0, false], 'the scenario is clean on a correct model');
  const bad = bootMachine(machine('x-broken-skip-psi=on').m, { dmaMode: 'strict', scenario: sameDirection });
  t.ok(reportFailed(bad), 'RESULT: FAILED');
  t.ok(bad.oracle.violations > 0);
  t.equal(bad.oracle.list[0]!.kind, 'stale-translation');
  t.match(bad.oracle.list[0]!.message, /00:01\.0|0000:00:01\.0/);
});

t.test('a DMA to an unmapped IOVA: the fault is recorded, the guest logs it as Linux does and clears it', async (t) => {
  const { m, vtd } = machine();
  const r = bootMachine(m, {
    dmaMode: 'strict',
    workloads: [],
    scenario: (k) => {
      const pdev = k.pci!.functions.find((f) => f.vendor === 0x1234)!;
      const bar = pdev.bars[0]!.cpuAddress;
      k.port.write(bar + 0x80, 8, 0x2345000, 0);
      k.port.write(bar + 0x88, 8, 0x40000, 0);
      k.port.write(bar + 0x90, 8, 8, 0);
      k.port.write(bar + 0x98, 8, 1, 0);
      k.clock.sleep(200_000_000);
    },
  });
  t.equal(vtd.faults.counts.recorded, 1);
  const log = r.log.join('\n');
  t.match(log, /DMAR: DRHD: handling fault status reg 2\n.*DMAR: \[DMA Read NO_PASID\] Request device \[00:01\.0\] fault addr 0x2345000 \[fault reason 0x06\] PTE Read access is not set/);
  t.equal(m.systemAs.read(0xfed90034, 4).lo, 0, 'FSTS clear after the handler');
  t.equal(m.systemAs.read(0xfed9022c, 4).lo >>> 31, 0, 'FRCD F cleared');
  t.equal(r.oracle.violations, 0, 'an access to nothing mapped may fault');
});

t.test('caching-mode: a MAP notifier on the edu\'s address space shadows every mapping the guest makes', async (t) => {
  const { m, vtd } = machine('caching-mode=on');
  const das = vtd.addressSpace(m.pciDevices().find((d) => d.typeName === 'edu')!.bus, 8);
  const live = new Map<bigint, bigint>();
  let maps = 0;
  const n = iommuNotifierInit((_n, e) => {
    if (e.perm) {
      maps++;
      live.set(e.iova, e.translatedAddr);
    } else {
      for (const k of [...live.keys()]) if (k >= e.iova && k <= e.iova + e.addrMask) live.delete(k);
    }
  }, IOMMU_NOTIFIER_IOTLB_EVENTS, 0n, (1n << 64n) - 1n, 0);
  t.equal(registerIommuNotifier(das.iommu, n), null);
  const r = bootMachine(m, { dmaMode: 'strict' });
  t.notOk(reportFailed(r));
  t.ok(maps >= r.dma.maps, 'a MAP for every page the guest mapped (caching mode makes it invalidate after each map)');
  t.equal(live.size, 0, 'and an UNMAP for every one it unmapped');
  t.equal(das.iovaTree.size, 0);
});

t.test('aw-bits=48: the guest builds 4-level tables (AW=2) and the DMAR says HAW 48', async (t) => {
  const { m, vtd } = machine('aw-bits=48');
  const r = bootMachine(m, { dmaMode: 'lazy' });
  t.notOk(reportFailed(r));
  t.match(r.log.join('\n'), /DMAR: Host address width 48/);
  const das = vtd.spaces.find((a) => a.devfn === 8)!;
  t.equal(vtd.readContext(das), 0);
  t.equal(das.ce.levels, 4);
  t.ok(vtd.engine.iotlb.misses > 0);
});
