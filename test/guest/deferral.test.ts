import t from 'tap';
import { bootQ35, eduDev } from './fake/helpers.js';

t.test('an IOMMU that is a PCI function: edu is deferred until its driver registers the IOMMU, then probed and bound', async (t) => {
  const rig = bootQ35({ board: { iommuFunction: true }, iommu: { lateRegister: true } });
  const k = rig.booted.kernel;
  const log = rig.booted.report.log.join('\n');
  const edu = eduDev(k);
  const order = ['0000:00:02.0: IOMMU not ready, probe deferred', 'edu 0000:00:02.0: probe deferred', 'iommu: tiommu0: registered', 'pci 0000:00:02.0: Adding to iommu group', 'edu 0000:00:02.0: bound (DMA ops: iommu-dma)'];
  let at = 0;
  for (const s of order) {
    const i = log.indexOf(s, at);
    t.ok(i >= at, `log has "${s}" in order`);
    at = Math.max(at, i);
  }
  t.equal(edu.driver, 'edu');
  t.ok(k.iommu.groupOf(edu));
  t.same(k.iommu.deferred, []);
  t.same(k.drivers.deferredDevices, []);
  t.ok(rig.booted.report.workloads[0]!.ok);
  t.equal(rig.booted.report.oracle.violations, 0);
  const iommuFn = k.devices.find((d) => d.pci?.vendor === 0x1b36)!;
  t.equal(k.iommu.groupOf(iommuFn), undefined, 'the IOMMU\'s own function is not behind itself');
});

t.test('probe_device returning -EPROBE_DEFER: the device waits and is probed on the retry', async (t) => {
  const rig = bootQ35({ iommu: { probeDefers: 1 } });
  const k = rig.booted.kernel;
  t.equal(eduDev(k).driver, 'edu');
  t.ok(k.iommu.groupOf(eduDev(k)));
  t.ok(rig.booted.report.workloads[0]!.ok);
});
