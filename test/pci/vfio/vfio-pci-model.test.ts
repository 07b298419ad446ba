import t from 'tap';
import { EduDriver } from '../../../src/guest/drivers/edu.js';
import { eduUserDma } from '../../../src/guest/vfio/edu-user-dma.js';
import { bootVfio, createError } from './rig.js';

const VTD_CM = ['-M', 'q35', '-device', 'intel-iommu,caching-mode=on', '-device', 'vfio-pci-model,id=v0'];

t.test('intel-iommu caching-mode=on: MAP|UNMAP notifier, replay, DMA through the shadow, oracle clean', async (t) => {
  const r = bootVfio(VTD_CM);
  t.same(r.booted.report.workloads.map((w) => w.ok), [true], 'edu-dma workload ran on the model');
  t.equal(r.oracle.violationCount, 0);
  const vfio = r.oracle.seen.filter((o) => o.path === 'vfio');
  t.ok(vfio.length > 0 && vfio.length === r.oracle.seen.length, 'every DMA of the model is reported on the vfio path');
  t.ok(vfio.every((o) => o.outcome === 'ok'));
  const c = r.model.container;
  // QEMU's vtd root holds the DMAR region with the interrupt window on top: two IOMMU sections, one notifier each.
  t.same(c.notifiers.map((n) => [n.notifier.start, n.notifier.end]), [[0n, 0xfedfffffn], [0xfef00000n, (1n << 64n) - 1n]], 'one notifier per DMAR section, around the MSI window');
  t.ok(c.notifiers.every((n) => n.notifier.notifierFlags === 3), 'IOMMU_NOTIFIER_IOTLB_EVENTS = MAP|UNMAP');
  t.ok(c.counters.replays >= 1, 'replayed at registration');
  t.ok(c.counters.mapEvents > 0 && c.counters.unmapEvents > 0, 'strict DMA API maps and unmaps arrive as MAP and UNMAP');
  t.equal(c.host.mappingCount, 0, 'every guest mapping was unmapped again, so the shadow is empty');
  t.match(r.model.info(), /host IOMMU type1, 0 mappings .*\n.*\n  notifier: vtd-\S+ UNMAP\|MAP/);
});

t.test('a guest mapping lives in the shadow while mapped; after the unmap the device faults and the oracle agrees', async (t) => {
  const r = bootVfio(VTD_CM);
  const k = r.booted.kernel;
  const c = r.model.container;
  const buf = k.mem.alloc(8192)!;
  const iova = k.dma.mapSingle(r.dev, buf, 4096, 'bidirectional');
  t.ok(c.host.lookup(iova), 'MAP reached the host IOMMU');
  t.equal(c.host.lookup(iova)!.gpa + (iova - c.host.lookup(iova)!.iova), buf, 'to the right page');
  k.port.writeBytes(buf, new Uint8Array(64).fill(0xab));
  t.ok(eduUserDma(k, r.dev, iova, 64, false), 'DMA through the live mapping');
  k.dma.unmapSingle(r.dev, iova, 4096, 'bidirectional');
  t.equal(c.host.lookup(iova), undefined, 'UNMAP removed it from the shadow');
  const faults = c.host.counters.faults;
  eduUserDma(k, r.dev, iova, 64, false);
  t.ok(c.host.counters.faults > faults, 'a DMA at the old IOVA is a host IOMMU fault');
  t.equal(r.oracle.violationCount, 0, 'no stale translation, no spurious fault');
});

t.test('a vIOMMU that cannot send MAP fails realize with its own message', async (t) => {
  t.match(createError(['-M', 'q35', '-device', 'intel-iommu', '-device', 'vfio-pci-model']),
    /vfio-pci-model: memory listener initialization failed: Region vtd-01\.0-dmar: device 00\.01\.0 requires caching mode/);
  t.match(createError(['-M', 'virt,iommu=smmuv3', '-device', 'vfio-pci-model']),
    /memory listener initialization failed: Region smmuv3-\S+: device 00\.01\.0 requires iommu MAP notifier which is not currently supported/);
  t.equal(createError(['-M', 'q35', '-device', 'virtio-iommu-pci', '-device', 'vfio-pci-model']), undefined, 'virtio-iommu sends MAP');
  t.equal(createError(['-M', 'q35', '-device', 'vfio-pci-model']), undefined, 'no vIOMMU: RAM mapped 1:1');
  t.match(createError(['-M', 'q35', '-device', 'vfio-pci-model,host=0000:01:00.0']), /host/, 'a host device is refused, not ignored');
});

t.test('no vIOMMU: system RAM is mapped 1:1 and the DMA is untranslated', async (t) => {
  const r = bootVfio(['-M', 'q35', '-device', 'vfio-pci-model']);
  t.equal(r.oracle.violationCount, 0);
  t.ok(r.model.container.counters.ramSections > 0, 'RAM sections mapped by the listener');
  t.equal(r.model.container.notifiers.length, 0);
  t.ok(r.oracle.counts.untranslated > 0);
});

t.test('virtio-iommu: MAP|UNMAP through the request queue, oracle clean', async (t) => {
  const r = bootVfio(['-M', 'q35', '-device', 'virtio-iommu-pci', '-device', 'vfio-pci-model']);
  t.same(r.booted.report.workloads.map((w) => w.ok), [true]);
  t.equal(r.oracle.violationCount, 0);
  t.ok(r.model.container.counters.mapEvents > 0);
});

t.test('pseries: the host DMA window is created before the notifier (the two-step); TCE MAPs land inside it', async (t) => {
  const r = bootVfio(['-M', 'pseries', '-device', 'vfio-pci-model']);
  const c = r.model.container;
  t.equal(c.host.kind, 'spapr-tce');
  t.equal(c.host.windows.length, 1, 'the default 32-bit window');
  t.equal(c.notifiers.length, 1);
  t.ok(c.counters.mapEvents > 0);
  t.equal(c.host.counters.mapErrors, 0, 'no MAP fell outside a window');
  t.equal(r.oracle.violationCount, 0);
  t.match(r.model.info(), /window 0x0-0x[0-9a-f]+, 0x1000 pages/);
});

t.test('a broken vIOMMU shows up in the oracle: VT-d skipping page-selective invalidations never sends MAP', async (t) => {
  const r = bootVfio(['-M', 'q35', '-device', 'intel-iommu,caching-mode=on,x-broken-skip-psi=on', '-device', 'vfio-pci-model']);
  t.ok(r.oracle.violationCount > 0);
  t.ok(r.oracle.violations.every((v) => v.path === 'vfio'));
});

t.test('the guest sees the host device: the edu driver binds to the model', async (t) => {
  const r = bootVfio(VTD_CM);
  const edu = r.booted.kernel.drivers.drivers.find((d): d is EduDriver => d instanceof EduDriver)!;
  t.ok(edu.instances.has(r.dev));
  t.equal(r.model.typeName, 'vfio-pci-model');
});
