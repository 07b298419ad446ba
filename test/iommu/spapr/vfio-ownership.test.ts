import t from 'tap';
import { EIO } from '../../../src/guest/errno.js';
import { IOMMU_DOMAIN_BLOCKED, IOMMU_DOMAIN_PLATFORM } from '../../../src/guest/iommu-core/domain-types.js';
import type { GuestKernel } from '../../../src/guest/kernel.js';
import { reportFailed } from '../../../src/guest/report/report.js';
import { spaprTceDriverOf } from '../../../src/guest/spapr/module.js';
import { VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE, VFIO_SPAPR_TCE_v2_IOMMU } from '../../../src/guest/spapr/vfio/uapi.js';
import { WorkloadRunner } from '../../../src/guest/workload/runner.js';
import { eduDmaWorkload } from '../../../src/guest/workload/edu-dma.js';
import { EduDriver } from '../../../src/guest/drivers/edu.js';
import { bootPseries, eduDma, eduOf, vfioUser, type PseriesRig } from './helpers.js';

interface Cycle {
  claim: number;
  setIommu: number;
  register: number;
  map: number;
  userData: number[];
  tceDuringUse: number;
  unmap: number;
  unset: number;
  domainDuringUse: number | undefined;
  rebind: number;
}

/**
 * Seed 000: a device goes to a VFIO user (its group BLOCKED, the table
 * group taken), the user maps and DMAs, the user lets go, the host driver
 * binds again and sets its DMA mask. megaraid_sas failed here with
 * "IOMMU dma not supported: mask ..., table unavailable".
 */
function vfioCycle(rig: PseriesRig): Cycle {
  const k = rig.k;
  const dev = eduOf(k);
  const g = k.iommu.groupOf(dev)!;
  k.drivers.unbind(dev);
  const { user, c, u } = vfioUser(k);
  const claim = c.setContainer(g);
  const domainDuringUse = g.domain?.type;
  const setIommu = c.setIommu(VFIO_SPAPR_TCE_v2_IOMMU);
  const buf = user.mmap(0x10000)!;
  const register = u.registerMemory(buf.vaddr, 0x10000n);
  const map = u.mapDma(0x10000n, buf.vaddr, 0x1000n, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
  const tceDuringUse = rig.board.phbDma.tables[0]!.validCount();
  k.port.writeBytes(buf.paddr, Uint8Array.from([1, 2, 3, 4]));
  eduDma(k, dev, 0x10000, 4, false);
  k.port.writeBytes(buf.paddr, new Uint8Array(4));
  eduDma(k, dev, 0x10000 + 0x800, 4, true);
  const back = new Uint8Array(4);
  k.port.readBytes(buf.paddr + 0x800, back);
  const unmap = u.unmapDma(0x10000n, 0x1000n);
  const unset = c.unsetContainer(g);
  const rebind = k.drivers.bind(dev);
  return { claim, setIommu, register, map, userData: [...back], tceDuringUse, unmap, unset, domainDuringUse, rebind };
}

/** One more round of the edu workload through the host driver. */
function hostDma(k: GuestKernel, edu: EduDriver): boolean {
  const r = new WorkloadRunner(k, 7);
  r.register(eduDmaWorkload(edu));
  return r.run('edu-dma', {}, 1).ok;
}

t.test('seed 000 fixed: vfio unbind releases the table group; the host driver rebinds and DMAs through the restored default window', async (t) => {
  const rig = bootPseries(['-device', 'edu']);
  const cyc = vfioCycle(rig);
  const k = rig.k;
  const dev = eduOf(k);
  t.equal(cyc.claim, 0, 'the group is claimed with no driver bound');
  t.equal(cyc.domainDuringUse, IOMMU_DOMAIN_BLOCKED, 'while VFIO owns it the group sits in the BLOCKED domain');
  t.same([cyc.setIommu, cyc.register, cyc.map, cyc.unmap, cyc.unset], [0, 0, 0, 0, 0]);
  t.equal(cyc.tceDuringUse, 1, "the user's TCE is in the hypervisor's LIOBN#0 window");
  t.same(cyc.userData, [1, 2, 3, 4], "the device's DMA went through the user's mapping");
  t.equal(cyc.rebind, 0, 'the host driver binds again');
  t.equal(k.iommu.groupOf(dev)!.domain?.type, IOMMU_DOMAIN_PLATFORM);
  t.ok(spaprTceDriverOf(k)!.archOf(dev)!.table, 'the device has its TCE table back');
  t.equal(dev.dmaMask, 2 ** 28 - 1, 'and its DMA mask');
  t.ok(rig.m.log.grep(/table group .* released: default window restored/).length > 0);
  t.equal(rig.board.phbDma.tables[0]!.validCount(), 0, 'no TCE of the user is left');
  const edu = k.drivers.drivers.find((d) => d.name === 'edu') as EduDriver;
  t.ok(hostDma(k, edu), 'host DMA works after the cycle');
  t.equal(rig.oracle.violationCount, 0, 'oracle clean');
  t.notOk(reportFailed(rig.booted.report));
});

t.test('--regress seed000: without release_ownership the rebind fails with "table unavailable"', async (t) => {
  const rig = bootPseries(['-device', 'edu'], { regress: ['seed000'] });
  const cyc = vfioCycle(rig);
  t.same([cyc.claim, cyc.map, cyc.unset], [0, 0, 0]);
  t.same(cyc.userData, [1, 2, 3, 4]);
  t.equal(cyc.rebind, -EIO, 'the host driver cannot set its DMA mask');
  const lines = rig.m.log.grep(/IOMMU dma not supported: mask 0x0fffffff, table unavailable/);
  t.equal(lines.length, 1, 'Linux\'s message');
  t.ok(rig.m.log.grep(/DMA mask of 28 bits not supported/).length > 0);
  t.equal(rig.k.iommu.groupOf(eduOf(rig.k))!.domain?.type, IOMMU_DOMAIN_PLATFORM, 'the kernel believes the default domain is back');
});
