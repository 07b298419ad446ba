import t from 'tap';
import { parseCmdline } from '../../../src/machine/cmdline.js';
import type { SystemDevice } from '../../../src/machine/device-registry.js';
import type { FirmwareIommuSource } from '../../../src/machine/firmware/description.js';
import { firmwareDescription } from '../../../src/machine/firmware/from-board.js';
import { firmwarePlatformSetup } from '../../../src/machine/firmware/platform-setup.js';
import { pseriesDescription, q35Description, virtDescription } from '../../../src/machine/firmware/presets.js';
import { Machine } from '../../../src/machine/machine.js';

const build = (...args: string[]): Machine => Machine.create(parseCmdline(['-nodefaults', '-display', 'none', ...args]).config);
const MiB = 1 << 20;

t.test('a built machine describes the same layout as the QEMU 7.2 presets', async (t) => {
  const q = build('-M', 'q35');
  firmwarePlatformSetup(q);
  const qd = firmwareDescription(q.describe());
  const qp = q35Description({ ramSize: 128 * MiB });
  t.same(qd.pciHosts, qp.pciHosts, 'q35: windows (I/O from 0x0d00, hole from 0xc0000000, 64-bit hole) and MMCONFIG');
  t.same([qd.ram, qd.fwCfg, qd.x86], [qp.ram, qp.fwCfg, qp.x86], 'q35: RAM, fw_cfg ports, PM base 0x600 as programmed');
  const big = firmwareDescription(build('-M', 'q35', '-m', '3G').describe());
  t.same(big.ram, q35Description({ ramSize: 3072 * MiB }).ram, 'q35 lowmem split at 2 GiB for 3 GiB');
  t.same(big.pciHosts[0]!.windows.find((w) => w.kind === 'mem64')!.cpuBase, 5 * 1024 * MiB, '64-bit hole at 5 GiB, 1 GiB-aligned above RAM');
  const v = firmwareDescription(build('-M', 'virt', '-m', '1G').describe());
  const vp = virtDescription({ ramSize: 1024 * MiB });
  t.same([v.pciHosts, v.ram, v.fwCfg, v.arm], [vp.pciHosts, vp.ram, vp.fwCfg, vp.arm], 'virt');
  const p = firmwareDescription(build('-M', 'pseries').describe());
  const pp = pseriesDescription({ ramSize: 512 * MiB });
  t.same([p.pciHosts, p.ram, p.fwCfg], [pp.pciHosts, pp.ram, undefined], 'pseries: PHB 0 with its sPAPR facts, no fw_cfg');
});

t.test('q35 before the firmware runs: no ECAM, PM base 0', async (t) => {
  const d = firmwareDescription(build('-M', 'q35').describe());
  t.equal(d.pciHosts[0]!.ecam, undefined);
  t.equal(d.x86!.pmBase, 0);
});

t.test('devices carry identity and the bus numbers the firmware programmed', async (t) => {
  const m = build('-M', 'q35', '-device', 'pcie-root-port,id=rp0,chassis=1', '-device', 'edu,bus=rp0,id=e1', '-device', 'edu,id=e0');
  const find = (id: string) => firmwareDescription(m.describe()).devices.find((d) => d.id === id)!;
  t.same(find('e1'), { segment: 0, bdf: 0x0000, vendorId: 0x1234, deviceId: 0x11e8, classCode: 0x00ff00, driver: 'edu', id: 'e1' },
    'behind an unnumbered root port: bus 0, as QEMU would describe it then');
  t.same(find('rp0').bridge, { secondary: 0, subordinate: 0 });
  firmwarePlatformSetup(m);
  t.equal(find('e1').bdf, 0x0100, 'bus 1 once the firmware numbered the root port');
  t.same(find('rp0').bridge, { secondary: 1, subordinate: 1 });
  t.equal(find('e0').bdf, 0x0010, '00:02.0');
  const lpc = firmwareDescription(m.describe()).devices.find((d) => d.driver === 'ICH9-LPC')!;
  t.same([lpc.bdf, lpc.vendorId, lpc.deviceId, lpc.classCode], [0xf8, 0x8086, 0x2918, 0x060100], 'the ICH9 functions are there too');
});

t.test('pseries numbers its buses at reset; the description sees them without a firmware step', async (t) => {
  const m = build('-M', 'pseries', '-device', 'pci-bridge,id=br0,chassis_nr=1,shpc=off', '-device', 'edu,bus=br0,addr=2,id=e');
  const d = firmwareDescription(m.describe());
  t.equal(d.devices.find((x) => x.id === 'e')!.bdf, 0x0110, '01:02.0');
});

t.test('vIOMMUs reported by devices reach the description', async (t) => {
  const m = build('-M', 'q35');
  const iommu = { model: 'intel-iommu', mmio: { base: 0xfed90000, size: 0x1000 }, options: { 'aw-bits': 39 } };
  const dev: SystemDevice & FirmwareIommuSource = { typeName: 'intel-iommu', id: undefined, reset: () => undefined, firmwareIommu: () => iommu };
  m.systemDevices.push(dev);
  t.same(firmwareDescription(m.describe()).iommus, [iommu]);
});
