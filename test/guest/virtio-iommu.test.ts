import t from 'tap';
import { bootMachine } from '../../src/cli/boot.js';
import type { BootOptions } from '../../src/guest/boot.js';
import type { VirtioIommuDriver } from '../../src/guest/iommu-core/virtio-iommu/driver.js';
import type { GuestKernel } from '../../src/guest/kernel.js';
import { reportFailed, type BootReport } from '../../src/guest/report/report.js';
import { parseCmdline } from '../../src/machine/cmdline.js';
import { Machine } from '../../src/machine/machine.js';
import { humanMonitorCommand } from '../../src/machine/monitor/hmp.js';
import type { VirtioIommuPci } from '../../src/virtio/iommu/virtio-iommu-pci.js';

// The synthetic guest on a machine with virtio-iommu-pci: the topology from
// VIOT, the device tree or the configuration space; edu behind the IOMMU,
// its DMA mapped with MAP requests; the DMA oracle watching every access.
function boot(args: string, opts: BootOptions = {}): { m: Machine; r: BootReport; log: string[] } {
  const m = Machine.create(parseCmdline(['-nodefaults', '-display', 'none', ...args.split(' ')]).config);
  const r = bootMachine(m, opts);
  return { m, r, log: m.log.lines.map((l) => `${l.source}: ${l.text}`) };
}
const viommu = (m: Machine) => m.pciDevices().find((d) => d.typeName === 'virtio-iommu-pci') as VirtioIommuPci;
const edu = (r: BootReport) => r.devices.find((d) => d.id === '1234:11e8')!;

for (const [title, args, opts, fwnode] of [
  ['q35, ACPI VIOT, lazy', '-M q35 -device virtio-iommu-pci -device edu', {}, 'VIOT:0000:00:01.0'],
  ['q35, ACPI VIOT, strict', '-M q35 -device virtio-iommu-pci -device edu', { dmaMode: 'strict' }, 'VIOT:0000:00:01.0'],
  ['virt, device tree', '-M virt -device virtio-iommu-pci -device edu', {}, '/pcie@10000000/virtio_iommu@1,0'],
  ['virt booted with ACPI', '-M virt -device virtio-iommu-pci -device edu', { firmware: 'acpi' }, 'VIOT:0000:00:01.0'],
  ['q35, the configuration-space description only', '-M q35 -device virtio-iommu-pci,topology=config -device edu', {}, 'virtio-topology:0000:00:01.0'],
  ['virt, the configuration-space description only', '-M virt -device virtio-iommu-pci,topology=config -device edu', {}, 'virtio-topology:0000:00:01.0'],
] as const) {
  t.test(title, async (t) => {
    const { m, r } = boot(args, opts as BootOptions);
    t.notOk(reportFailed(r), 'the boot is oracle-clean and the workload passed');
    t.same(r.iommu.instances.map((i) => [i.driver, i.fwnode]), [['virtio-iommu', fwnode]]);
    t.equal(edu(r).dmaOps, 'iommu-dma', 'edu DMA goes through the IOMMU');
    t.equal(edu(r).driver, 'edu');
    t.ok(r.oracle.checked > 0 && r.oracle.violations === 0, `${r.oracle.checked} accesses checked`);
    const core = viommu(m).core;
    t.ok(core.counters.requests > 20, `the guest sent ${core.counters.requests} requests`);
    t.equal(core.endpoints.get(0x10)?.domain !== undefined, true, 'edu (endpoint 0x10) is attached');
    t.equal(core.counters.faults, 0, 'no translation fault');
  });
}

t.test('deferral: endpoints wait for the IOMMU driver, then probe', async (t) => {
  const { log } = boot('-M q35 -device virtio-iommu-pci,topology=config -device edu');
  const deferred = log.findIndex((l) => l === 'pci 0000:00:02.0: IOMMU not ready, probe deferred');
  const registered = log.findIndex((l) => /registered \(virtio-iommu, fwnode virtio-topology/.test(l));
  const grouped = log.findIndex((l) => l === 'pci 0000:00:02.0: Adding to iommu group 1');
  t.ok(deferred >= 0 && registered > deferred && grouped > registered, 'deferred, then the IOMMU registered, then grouped');
  t.ok(log.some((l) => /parsing virtio-iommu topology: 1 PCI range/.test(l)), 'the PCI fixup read the description');
});

t.test('passthrough: bypass domains (ATTACH_F_BYPASS)', async (t) => {
  const { m, r } = boot('-M q35 -device virtio-iommu-pci -device edu', { dmaMode: 'passthrough' });
  t.notOk(reportFailed(r));
  const d = viommu(m).core.endpoints.get(0x10)?.domain;
  t.ok(d?.bypass, "edu's domain is a bypass domain on the device");
  t.equal(viommu(m).endpointRegion(0x10)!.usesRemapping, false, 'and its DMA takes the bypass alias');
});

t.test('no topology description: the IOMMU comes up but translates nothing', async (t) => {
  const { r, log } = boot('-M q35 -device virtio-iommu-pci,topology=none -device edu');
  t.notOk(reportFailed(r));
  t.same(r.iommu.instances, []);
  t.equal(edu(r).dmaOps, 'dma-direct');
  t.ok(log.some((l) => /no VIOT, device-tree or configuration-space description names this IOMMU/.test(l)));
});

t.test('fault reports reach the guest driver', async (t) => {
  let k: GuestKernel | undefined;
  const { m } = boot('-M q35 -device virtio-iommu-pci -device edu', {
    scenario: (kk) => {
      k = kk;
    },
    workloads: [],
  });
  const drv = k!.iommu.instances[0]!.driver as VirtioIommuDriver;
  const dev = [...drv.devices.values()][0]!;
  const bar = m.pciDevices().find((d) => d.typeName === 'edu')!.ioRegions[0]!.addr;
  const port = m.guestPort();
  const w = (off: number, v: number) => port.write(Number(bar) + off, 8, v, 0);
  w(0x80, 0x7000000);
  w(0x88, 0x40000);
  w(0x90, 4);
  w(0x98, 1);
  port.advance(200_000_000);
  dev.processEvents();
  t.same(dev.faults, [{ reason: 2, flags: 0x100, endpoint: 0x10, address: 0x7000000 }], 'a MAPPING fault (no permission flags: nothing is mapped there)');
  t.ok(m.log.lines.some((l) => l.text === 'page fault from EP 16 at 0x7000000 []'), "logged as Linux's driver logs it");
});

t.test('info iommu after a boot', async (t) => {
  const { m } = boot('-M q35 -device virtio-iommu-pci,id=vi -device edu', { workloads: [] });
  const text = humanMonitorCommand(m, 'info iommu');
  t.match(text, /virtio-iommu-pci \(id vi\) at 00:01\.0: spec-strict/);
  t.match(text, /domain \d+: endpoints 0x0010 \(00:02\.0\)/);
});

t.test('the driver respects input_range and page_size_mask', async (t) => {
  let k: GuestKernel | undefined;
  const { r } = boot('-M q35 -device virtio-iommu-pci,aw-bits=32 -device edu', { scenario: (kk) => void (k = kk) });
  t.notOk(reportFailed(r));
  const g = k!.iommu.groups.find((x) => x.devices.some((d) => d.name === '0000:00:02.0'))!;
  t.same(g.defaultDomain!.geometry, { apertureStart: 0, apertureEnd: 0xffffffff, forceAperture: true }, 'the aperture is input_range');
  t.equal(g.defaultDomain!.pgsizes[0], 4096, 'the smallest page size is the granule');
  const big = boot('-M q35 -device virtio-iommu-pci,granule=16k -device edu');
  t.ok(big.log.some((l) => /granule 0x4000 larger than system page size 0x1000/.test(l)), 'a granule above the CPU page size is refused');
  t.notOk(reportFailed(big.r), 'and the guest carries on without translation');
});

t.test('viommu boot on the command line', async (t) => {
  const { runViommu } = await import('../../src/cli/main.js');
  let out = '';
  const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (out += s) } };
  t.equal(await runViommu(['boot', '--', '-M', 'q35', '-nodefaults', '-device', 'virtio-iommu-pci', '-device', 'edu'], io), 0);
  t.match(out, /IOMMU: virtio-iommu 0000:00:01\.0 \(virtio-iommu, VIOT:0000:00:01\.0\)/);
  t.match(out, /RESULT: ok/);
});
