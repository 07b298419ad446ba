import t from 'tap';
import { GuestDevice } from '../../src/guest/device.js';
import { EINVAL } from '../../src/guest/errno.js';
import { IOMMU_READ, IOMMU_WRITE } from '../../src/guest/iommu-core/domain-types.js';
import { SharedDomain, type MediatedAttachment } from '../../src/guest/iommu-core/shared-domain.js';
import type { GuestKernel } from '../../src/guest/kernel.js';
import { bootQ35, eduDev, eduRaw } from './fake/helpers.js';
import type { TestIommuDriver } from './fake/test-iommu.js';

t.test('two groups share one UNMANAGED domain: both devices reach the same page through the same IOVA', async (t) => {
  const got: number[][] = [];
  let refused = 0;
  let shared: SharedDomain | undefined;
  const rig = bootQ35({
    board: { edus: 2 },
    boot: {
      workloads: [],
      scenario: (k: GuestKernel) => {
        const [a, b] = [eduDev(k, 0), eduDev(k, 1)];
        const def = k.iommu.groupOf(a)!.defaultDomain!;
        refused = SharedDomain.share(k.iommu, def) as number;
        k.drivers.unbind(a);
        k.drivers.unbind(b);
        shared = SharedDomain.alloc(k.iommu, a) as SharedDomain;
        t.equal(shared.attachGroup(k.iommu.groupOf(a)!), 0);
        t.equal(shared.attachGroup(k.iommu.groupOf(b)!), 0);
        const page = k.mem.alloc(4096)!;
        t.equal(shared.map(0x4_0000, page, 4096, IOMMU_READ | IOMMU_WRITE), 0);
        for (const [i, dev] of [a, b].entries()) {
          k.port.writeBytes(page, Uint8Array.from([i + 1, i + 2, i + 3]));
          eduRaw(k, dev, 0x4_0000, 3, false);
          k.port.writeBytes(page, new Uint8Array(3));
          eduRaw(k, dev, 0x4_0000, 3, true);
          const back = new Uint8Array(3);
          k.port.readBytes(page, back);
          got.push([...back]);
        }
        shared.unmap(0x4_0000, 4096);
        shared.release();
        t.equal(k.iommu.groupOf(a)!.domain, k.iommu.groupOf(a)!.defaultDomain, 'released groups are back on their default domains');
      },
    },
  });
  t.equal(refused, -EINVAL, 'a DMA-API default domain cannot be shared (the review\'s objection)');
  t.same(got, [[1, 2, 3], [2, 3, 4]]);
  t.equal(rig.booted.report.oracle.violations, 0);
  t.match(rig.booted.report.log.join('\n'), /domain #\d+ is Translated, not an unmanaged domain: it cannot be shared/);
});

t.test('mediated functions get PASID-tagged contexts on their parent when the IOMMU and the device support PASIDs', async (t) => {
  const atts: MediatedAttachment[] = [];
  let ctx: number[] = [];
  let root = 0;
  const rig = bootQ35({
    board: { pasid: true },
    iommu: { pasid: true },
    boot: {
      workloads: [],
      scenario: (k) => {
        const parent = eduDev(k);
        const shared = SharedDomain.alloc(k.iommu, parent) as SharedDomain;
        root = (shared.domain as unknown as { root: number }).root;
        for (const n of ['mdev0', 'mdev1']) atts.push(shared.attachMediated(new GuestDevice(n, undefined, parent)) as MediatedAttachment);
        const drv = k.iommu.instances[0]!.driver as TestIommuDriver;
        ctx = [1, 2].map((p) => drv.ctxOf(parent, p));
        t.equal(k.oracle.attachmentOf(parent.pci!.devId, 2)?.domain, shared.domain, 'the oracle follows the PASID attachment');
        t.equal(k.iommu.groupOf(parent)!.domain, k.iommu.groupOf(parent)!.defaultDomain, 'the parent\'s own RID keeps its default domain');
        shared.detachMediated(atts[0]!.dev);
        t.equal(drv.ctxOf(parent, 1), 0, 'detaching clears that PASID');
      },
    },
  });
  t.same(atts.map((a) => a.pasid), [1, 2]);
  t.same(ctx, [root + 2, root + 2]);
  t.match(rig.booted.report.log.join('\n'), /mdev mdev0: shares domain #\d+ at PASID 1 of 0000:00:02\.0/);
});

t.test('without PASID support mediated functions share the parent\'s RID attachment', async (t) => {
  const atts: MediatedAttachment[] = [];
  bootQ35({
    boot: {
      workloads: [],
      scenario: (k) => {
        const parent = eduDev(k);
        k.drivers.unbind(parent);
        const shared = SharedDomain.alloc(k.iommu, parent) as SharedDomain;
        for (const n of ['mdev0', 'mdev1']) atts.push(shared.attachMediated(new GuestDevice(n, undefined, parent)) as MediatedAttachment);
        t.equal(k.iommu.groupOf(parent)!.domain, shared.domain);
        shared.detachMediated(atts[0]!.dev);
        t.equal(k.iommu.groupOf(parent)!.domain, shared.domain, 'still attached while one function remains');
        shared.detachMediated(atts[1]!.dev);
        t.equal(k.iommu.groupOf(parent)!.domain, k.iommu.groupOf(parent)!.defaultDomain);
      },
    },
  });
  t.same(atts.map((a) => a.pasid), [0, 0]);
});
