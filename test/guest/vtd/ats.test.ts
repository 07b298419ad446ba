import t from 'tap';
import { bootMachine } from '../../../src/cli/boot.js';
import { reportFailed } from '../../../src/guest/report/report.js';
import { IOMMU_NOTIFIER_DEVIOTLB_UNMAP, iommuNotifierInit, registerIommuNotifier } from '../../../src/iommu/index.js';
import { parseCmdline } from '../../../src/machine/cmdline.js';
import { IntelIommuDevice } from '../../../src/machine/devices/intel-iommu.js';
import { defaultDeviceRegistry } from '../../../src/machine/devices/index.js';
import { Machine } from '../../../src/machine/machine.js';
import { Edu } from '../../../src/pci/edu.js';
import { AtsCapability } from '../../../src/pci/ext-caps.js';
import { pcieCapInit } from '../../../src/pci/pcie-cap.js';
import { PCI_EXP_TYPE_ENDPOINT } from '../../../src/pci/pcie-regs.js';
import type { PCIDeviceIdentity } from '../../../src/pci/device.js';

/** A test-only edu that is a PCIe endpoint with an ATS capability (no device in viommu has one yet). */
class AtsEdu extends Edu {
  override readonly identity: PCIDeviceIdentity = { vendorId: 0x1234, deviceId: 0x11e8, revision: 0x10, classId: 0x00ff, express: true };
  ats: AtsCapability | undefined;
  protected override realizeDevice(): void {
    super.realizeDevice();
    pcieCapInit(this, 0, PCI_EXP_TYPE_ENDPOINT, 0);
    this.ats = AtsCapability.init(this, 0x100);
  }
}

function machine(props: string) {
  const registry = defaultDeviceRegistry();
  registry.register({ driver: 'edu-ats', desc: 'edu with ATS (test)', bus: 'pci', props: [], create: () => new AtsEdu() });
  const m = Machine.create(parseCmdline(['-M', 'q35', '-device', `intel-iommu,${props}`, '-device', 'edu-ats']).config, registry);
  const vtd = (m.systemDevices.find((d) => d instanceof IntelIommuDevice) as IntelIommuDevice).vtd;
  const dev = m.pciDevices().find((d) => d instanceof AtsEdu) as AtsEdu;
  return { m, vtd, dev };
}

t.test('device-iotlb=on: the guest enables ATS, uses TT=1 and follows each unmap with a device-TLB invalidation', async (t) => {
  const { m, vtd, dev } = machine('device-iotlb=on');
  const das = vtd.addressSpace(dev.bus, dev.devfn);
  const events: bigint[][] = [];
  t.equal(registerIommuNotifier(das.iommu, iommuNotifierInit((_n, e) => events.push([e.iova, e.addrMask]),
    IOMMU_NOTIFIER_DEVIOTLB_UNMAP, 0n, (1n << 64n) - 1n, 0)), null);
  const r = bootMachine(m, { dmaMode: 'strict' });
  t.notOk(reportFailed(r));
  t.ok(dev.ats!.enabled, 'ATS Enable set by the guest');
  t.equal(vtd.readContext(das), 0);
  t.equal(das.ce.tt, 1, 'context TT=1 (device-TLB)');
  t.ok(r.log.some((l) => /DMAR: ATSR flags: 0x1/.test(l)));
  t.equal(vtd.inv.deviceTlb, vtd.inv.iotlbPage, 'a device-TLB invalidation with every page-selective one');
  t.equal(events.length, vtd.inv.deviceTlb, 'each one a DEVIOTLB_UNMAP on the device address space');
  t.ok(events.every(([iova, mask]) => (iova! & mask!) === 0n && mask! >= 0xfffn), 'aligned power-of-two ranges');
});

t.test('device-iotlb=off: no ATSR, ATS stays off, TT=0', async (t) => {
  const { m, vtd, dev } = machine('device-iotlb=off');
  const r = bootMachine(m, { dmaMode: 'strict' });
  t.notOk(reportFailed(r));
  t.notOk(dev.ats!.enabled);
  t.equal(vtd.readContext(vtd.addressSpace(dev.bus, dev.devfn)), 0);
  t.equal(vtd.spaces.find((a) => a.devfn === dev.devfn)!.ce.tt, 0);
  t.equal(vtd.inv.deviceTlb, 0);
});
