/**
 * DMA oracle cost per checked access (one page-sized piece), and the cost of
 * the guest's map/unmap bookkeeping it follows. Run:
 *   npm run build:test && node .build/bench/guest-oracle.bench.js
 * Wall-clock figures; nothing here is asserted.
 */
import { VirtualClock } from '../src/base/clock.js';
import { GuestDevice } from '../src/guest/device.js';
import { IOMMU_DOMAIN_DMA, IOMMU_READ, IOMMU_WRITE } from '../src/guest/iommu-core/domain-types.js';
import { IommuDomain } from '../src/guest/iommu-core/driver.js';
import { DmaOracle } from '../src/guest/oracle/oracle.js';
import { PciBus, PciFunction } from '../src/guest/pci-core/device.js';
import type { PciConfigAccess } from '../src/guest/pci-core/config-access.js';

const clock = new VirtualClock();
const oracle = new DmaOracle(() => clock.now);
const cfg: PciConfigAccess = { name: 'none', segment: 0, size: 4096, read: () => 0xffffffff, write: () => {} };
const fn = new PciFunction(cfg, new PciBus(0, undefined, undefined), 0x10);
const dev = new GuestDevice(fn.name, fn);
const dom = new IommuDomain(IOMMU_DOMAIN_DMA, { attachDev: () => 0 });
dom.serial = 0;
oracle.attached(dev, dom, 0);

const LIVE = Number(process.argv[2] ?? 1024);
for (let i = 0; i < LIVE; i++) oracle.mapped(dom, 0x1000_0000 + i * 0x1000, 0x100_0000 + i * 0x1000, 0x1000, IOMMU_READ | IOMMU_WRITE);

const N = 1_000_000;
let t0 = process.hrtime.bigint();
for (let i = 0; i < N; i++) {
  const p = i % LIVE;
  oracle.observe({ requesterId: 0x10, iova: 0x1000_0000 + p * 0x1000 + 64, length: 1500, write: (i & 1) === 0, outcome: 'ok', gpa: 0x100_0000 + p * 0x1000 + 64, path: 'emulated' });
}
const observeNs = Number(process.hrtime.bigint() - t0) / N;

const M = 200_000;
t0 = process.hrtime.bigint();
for (let i = 0; i < M; i++) {
  const iova = 0x2000_0000 + (i % 512) * 0x1000;
  oracle.mapped(dom, iova, 0x200_0000, 0x1000, IOMMU_READ);
  oracle.unmapped(dom, iova, 0x1000);
  oracle.invalidated(dom, iova, iova + 0xfff);
}
const cycleNs = Number(process.hrtime.bigint() - t0) / M;

console.log(JSON.stringify({
  node: process.version,
  liveMappings: LIVE,
  observeNsPerAccess: Math.round(observeNs),
  mapUnmapInvalidateNsPerCycle: Math.round(cycleNs),
  violations: oracle.violationCount,
}));
