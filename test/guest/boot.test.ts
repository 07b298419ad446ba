import t from 'tap';
import { ConfigError } from '../../src/base/config-error.js';
import { bootGuest } from '../../src/guest/boot.js';
import { formatReport } from '../../src/guest/report/format.js';
import { reportFailed } from '../../src/guest/report/report.js';
import { fakePseries, fakeQ35, fakeVirt } from './fake/boards.js';
import { bootQ35 } from './fake/helpers.js';

t.test('q35 with the test IOMMU: the report has what --json promises', async (t) => {
  const r = bootQ35({ boot: { seed: 7 } }).booted.report;
  const json = JSON.parse(JSON.stringify(r)) as Record<string, unknown>;
  for (const k of ['machine', 'iommu', 'devices', 'groups', 'notifiers', 'dma', 'invalidations', 'oracle']) t.ok(k in json, k);
  t.equal(r.machine, 'q35');
  t.equal(r.firmware.kind, 'acpi');
  t.same(r.firmware.tables, ['RSDT', 'FACP', 'DSDT', 'APIC', 'HPET', 'MCFG', 'WAET']);
  t.same(r.iommu.instances, [{ name: 'tiommu0', driver: 'test-iommu', fwnode: 'tiommu' }]);
  t.equal(r.iommu.mode, 'lazy');
  const edu = r.devices.find((d) => d.id === '1234:11e8')!;
  t.same([edu.bdf, edu.driver, edu.dmaOps, edu.iommu], ['0000:00:02.0', 'edu', 'iommu-dma', 'tiommu0']);
  t.match(edu.domain, /^#\d+ DMA-FQ$/);
  t.same(edu.bars, ['0:mem32@0xc0000000+0x100000'], 'BAR 0 from the firmware stage, at the bottom of SeaBIOS\'s window');
  t.ok(r.groups.some((g) => g.devices.includes('0000:00:02.0') && g.owned === false));
  t.same(Object.keys(r.dma).sort(), ['bounced', 'bytes', 'errors', 'faults', 'maps', 'ops', 'unmaps']);
  t.ok(r.dma.bytes > 0 && r.dma.ops === r.dma.maps + r.dma.unmaps);
  t.same([r.oracle.violations, r.oracle.checked > 0], [0, true]);
  t.same(r.notifiers, [], 'notifiers are the machine\'s to fill in');
  t.match(r.log.join('\n'), /PCI: ECAM \[mem 0xb0000000-0xbfffffff\] for \[bus 00-ff\]/);
  const text = formatReport(r);
  t.match(text, /device\s+id\s+class\s+driver\s+group\s+domain\s+DMA ops/);
  t.match(text, /DMA oracle: \d+ accesses checked .* 0 violations/);
  t.match(text, /RESULT: ok\n$/);
});

t.test('the same seed gives the same report, byte for byte; another seed another workload', async (t) => {
  const a = JSON.stringify(bootQ35({ boot: { seed: 3 } }).booted.report);
  const b = JSON.stringify(bootQ35({ boot: { seed: 3 } }).booted.report);
  const c = JSON.stringify(bootQ35({ boot: { seed: 4 } }).booted.report);
  t.equal(a, b);
  t.not(a, c);
});

t.test('q35 without MMCONFIG in the tables: the OS stays on 0xcf8', async (t) => {
  const b = fakeQ35({ fwcfg: 'q35-edu.fwcfg.txt' });
  const r = bootGuest(b.m.port(), { oracle: b.oracle });
  t.match(r.log.join('\n'), /PCI: scanning with cf8 config access/);
  t.ok(r.workloads[0]!.ok);
  t.notOk(reportFailed(r));
});

t.test('virt with its device tree: ECAM and windows from the DT, Linux-style assignment, direct DMA', async (t) => {
  const b = fakeVirt({ eduMask: 2 ** 32 - 1 });
  const r = bootGuest(b.m.port(), { oracle: b.oracle, eduDmaBits: 32 });
  t.equal(r.firmware.kind, 'dt');
  t.match(r.log.join('\n'), /scanning with ecam config access, assigning buses and BARs/);
  const edu = r.devices.find((d) => d.id === '1234:11e8')!;
  t.same(edu.bars, ['0:mem32@0x10000000+0x100000'], 'from the DT 32-bit window');
  t.ok(r.workloads[0]!.ok);
  t.same([r.oracle.violations, r.oracle.untranslated === r.oracle.checked, r.oracle.checked > 0], [0, true, true]);
});

t.test('virt without an IOMMU cannot give edu\'s default 28-bit mask direct DMA: RAM starts at 1 GiB', async (t) => {
  const b = fakeVirt();
  const r = bootGuest(b.m.port(), { oracle: b.oracle });
  t.match(r.log.join('\n'), /edu 0000:00:02\.0: DMA mask of 28 bits not supported/);
  t.equal(r.devices.find((d) => d.id === '1234:11e8')!.driver, undefined);
  t.ok(reportFailed(r));
});

t.test('virt booted with ACPI from fw_cfg (MMIO): XSDT with IORT and MCFG', async (t) => {
  const b = fakeVirt({ eduMask: 2 ** 32 - 1 });
  const r = bootGuest(b.m.port(), { oracle: b.oracle, firmware: 'acpi', eduDmaBits: 32 });
  t.equal(r.firmware.kind, 'acpi');
  t.ok(r.firmware.tables.includes('IORT') && r.firmware.tables[0] === 'XSDT');
  t.ok(r.workloads[0]!.ok);
});

t.test('pseries: RTAS config access on the PHB, BARs in the PHB window (CPU address 0x2000_8000_0000)', async (t) => {
  const b = fakePseries();
  const r = bootGuest(b.m.port(), { oracle: b.oracle });
  t.equal(r.machine, 'pseries');
  t.match(r.log.join('\n'), /scanning with rtas config access/);
  const edu = r.devices.find((d) => d.id === '1234:11e8')!;
  t.same(edu.bars, ['0:mem32@0x200080000000+0x100000']);
  t.ok(r.workloads[0]!.ok, r.workloads[0]!.errors.join('; '));
  t.equal(r.oracle.violations, 0);
});

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

t.test('bad options are configuration errors with a suggestion', async (t) => {
  const cases: [() => unknown, RegExp][] = [
    [() => bootGuest(fakeQ35().m.port(), { dmaMode: 'stirct' as 'strict' }), /did you mean 'strict'/],
    [() => bootGuest(fakeQ35().m.port(), { regress: ['seed00'] }), /did you mean 'seed000'/],
    [() => bootGuest(fakeQ35().m.port(), { workloads: [{ name: 'edu-dam' }] }), /did you mean 'edu-dma'/],
    [() => bootGuest(fakeQ35().m.port(), { workloads: [{ name: 'edu-dma', params: { iteratons: 3 } }] }), /did you mean 'iterations'/],
  ];
  for (const [fn, re] of cases) {
    const e = thrown(fn);
    t.ok(e instanceof ConfigError);
    t.match((e as Error).message, re);
  }
});

t.test('a malformed device tree is reported and nothing from it is used', async (t) => {
  const b = fakeVirt();
  b.m.fdt![0] = 0;
  const r = bootGuest(b.m.port(), { oracle: b.oracle });
  t.match(r.firmware.errors.join('\n'), /bad magic/);
  t.same(r.devices, []);
  t.notOk(r.workloads[0]!.ok, 'no edu was found');
  t.ok(reportFailed(r));
});
