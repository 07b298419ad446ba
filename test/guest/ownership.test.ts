import t from 'tap';
import { EPERM } from '../../src/guest/errno.js';
import { IOMMU_DOMAIN_BLOCKED, IOMMU_DOMAIN_PLATFORM, IOMMU_READ, IOMMU_WRITE } from '../../src/guest/iommu-core/domain-types.js';
import type { IommuDomain } from '../../src/guest/iommu-core/driver.js';
import { iommuMap, iommuUnmap } from '../../src/guest/iommu-core/iommu-map.js';
import {
  iommuAttachGroup, iommuDetachGroup, iommuGroupClaimDmaOwner, iommuGroupReleaseDmaOwner, iommuPagingDomainAlloc,
} from '../../src/guest/iommu-core/ownership.js';
import type { GuestKernel } from '../../src/guest/kernel.js';
import { reportFailed } from '../../src/guest/report/report.js';
import { bootQ35, eduDev, eduRaw } from './fake/helpers.js';

interface Seen {
  claimWhileBound?: number;
  claim?: number;
  blockedFaults?: number;
  userData?: number[];
  rebind?: number;
  domainAfterRelease?: IommuDomain | undefined;
}

/** A VFIO-style user: unbind the kernel driver, claim the group, DMA through its own UNMANAGED domain, give it back, rebind. */
function vfioCycle(seen: Seen, userDma = true) {
  return (k: GuestKernel): void => {
    const dev = eduDev(k);
    const g = k.iommu.groupOf(dev)!;
    const owner = { name: 'vfio' };
    seen.claimWhileBound = iommuGroupClaimDmaOwner(k.iommu, g, owner);
    k.drivers.unbind(dev);
    seen.claim = iommuGroupClaimDmaOwner(k.iommu, g, owner);
    const faults0 = k.oracle.counts.faults;
    eduRaw(k, dev, 0x1000, 64, false);
    seen.blockedFaults = k.oracle.counts.faults - faults0;
    if (userDma && g.blockingDomain?.type === IOMMU_DOMAIN_BLOCKED && g.defaultDomain?.type !== IOMMU_DOMAIN_PLATFORM) {
      const dom = iommuPagingDomainAlloc(k.iommu, dev) as IommuDomain;
      iommuAttachGroup(k.iommu, dom, g);
      const page = k.mem.alloc(4096)!;
      k.port.writeBytes(page, Uint8Array.from([9, 8, 7, 6]));
      iommuMap(k.iommu, dom, 0x10_0000, page, 4096, IOMMU_READ | IOMMU_WRITE);
      eduRaw(k, dev, 0x10_0000, 4, false);
      k.port.writeBytes(page, new Uint8Array(4));
      eduRaw(k, dev, 0x10_0000, 4, true);
      const back = new Uint8Array(4);
      k.port.readBytes(page, back);
      seen.userData = [...back];
      iommuUnmap(k.iommu, dom, 0x10_0000, 4096);
      iommuDetachGroup(k.iommu, g);
    }
    iommuGroupReleaseDmaOwner(k.iommu, g);
    seen.domainAfterRelease = g.domain;
    seen.rebind = k.drivers.bind(dev);
  };
}

t.test('claim, user-owned UNMANAGED domain, release: the default domain comes back and the kernel driver works again', async (t) => {
  const seen: Seen = {};
  const rig = bootQ35({ boot: { dmaMode: 'strict', scenario: vfioCycle(seen) } });
  const k = rig.booted.kernel;
  const g = k.iommu.groupOf(eduDev(k))!;
  t.equal(seen.claimWhileBound, -EPERM, 'a bound kernel driver holds the group');
  t.equal(seen.claim, 0);
  t.ok(seen.blockedFaults! > 0, 'while blocked the device\'s DMA faults');
  t.same(seen.userData, [9, 8, 7, 6], 'the owner\'s DMA went through its own domain');
  t.equal(seen.domainAfterRelease, g.defaultDomain);
  t.equal(seen.rebind, 0);
  t.equal(rig.driver!.ctxOf(eduDev(k)), (g.defaultDomain as IommuDomain & { root: number }).root + 2, 'the hardware context is the default domain again');
  t.equal(rig.booted.report.oracle.violations, 0);
  t.ok(rig.booted.report.workloads[0]!.ok);
  t.notOk(reportFailed(rig.booted.report));
});

t.test('--regress seed000: the release path does not run; the oracle catches the device still blocked', async (t) => {
  const seen: Seen = {};
  const rig = bootQ35({ boot: { dmaMode: 'strict', regress: ['seed000'], scenario: vfioCycle(seen) } });
  const k = rig.booted.kernel;
  const g = k.iommu.groupOf(eduDev(k))!;
  t.equal(seen.domainAfterRelease, g.defaultDomain, 'the kernel believes the default domain is back');
  t.equal(rig.driver!.ctxOf(eduDev(k)), 0, 'but the hardware still blocks the device');
  t.ok(rig.booted.report.oracle.violations > 0);
  t.same([...new Set(rig.booted.report.oracle.list.map((v) => v.kind))], ['spurious-fault'], 'DMA through live mappings faults');
  t.ok(reportFailed(rig.booted.report));
  t.match(rig.booted.report.log.join('\n'), /regression switch 'seed000' is on/);
});

t.test('static PLATFORM default domain (powerpc style): release must restore the DMA window or the host driver cannot set its mask', async (t) => {
  const good = bootQ35({ iommu: { staticPlatform: true }, boot: { scenario: vfioCycle({}, false) } });
  const k = good.booted.kernel;
  t.equal(k.iommu.groupOf(eduDev(k))!.defaultDomain!.type, IOMMU_DOMAIN_PLATFORM);
  t.equal(k.dma.opsOf(eduDev(k)).name, 'test-platform');
  t.ok(good.booted.report.workloads[0]!.ok, 'edu rebinds and moves data');
  t.equal(good.booted.report.oracle.violations, 0);
  t.ok(good.booted.report.oracle.checked > 0);
  const seen: Seen = {};
  const bad = bootQ35({ iommu: { staticPlatform: true }, boot: { regress: ['seed000'], scenario: vfioCycle(seen, false) } });
  t.not(seen.rebind, 0, 'rebinding fails');
  t.match(bad.booted.report.log.join('\n'), /DMA mask of 28 bits not supported/, 'like megaraid_sas: "Failed to set DMA mask"');
  t.notOk(bad.booted.report.workloads[0]!.ok);
  t.ok(reportFailed(bad.booted.report));
});
