import t from 'tap';
import { ConfigError } from '../../src/base/config-error.js';
import { parseCmdline } from '../../src/machine/cmdline.js';
import { configFromJson } from '../../src/machine/config.js';
import { Machine } from '../../src/machine/machine.js';
import { Edu } from '../../src/pci/edu.js';

const build = (...args: string[]) => Machine.create(parseCmdline(args).config);
const GIB = 1024 ** 3;

t.test('placement: a -device without addr takes the first free slot, as QEMU does', async (t) => {
  t.same(build('-M', 'q35', '-device', 'edu', '-device', 'edu').describe().devices.map((d) => d.bdf),
    ['00:00.0', '00:01.0', '00:02.0', '00:1f.0', '00:1f.2', '00:1f.3']);
  t.same(build('-M', 'virt', '-device', 'edu').describe().devices.map((d) => `${d.driver}@${d.bdf}`), ['gpex-root@00:00.0', 'edu@00:01.0']);
  t.same(build('-M', 'pseries', '-device', 'edu').describe().devices.map((d) => `${d.driver}@${d.bdf}`), ['edu@00:00.0']);
});

t.test('q35 splits RAM below and above 4 GiB by pc_q35_init\'s lowmem rule', async (t) => {
  t.same(build('-M', 'q35', '-m', '2G').describe().ram.map((r) => [r.base, r.size]), [[0, 2 * GIB]]);
  t.same(build('-M', 'q35', '-m', '3G').describe().ram.map((r) => [r.base, r.size]), [[0, 2 * GIB], [4 * GIB, GIB]]);
  t.same(build('-M', 'q35', '-m', '2800M').describe().ram.map((r) => [r.base, r.size]), [[0, 2800 * 2 ** 20]]);
  t.same(build('-M', 'q35,max-ram-below-4g=1G', '-m', '2G').describe().ram.map((r) => [r.base, r.size]), [[0, GIB], [4 * GIB, GIB]]);
  const m = build('-M', 'q35', '-m', '3G');
  m.systemAs.write(4 * GIB + 16, 4, 0xcafe);
  t.equal(m.systemAs.read(4 * GIB + 16, 4).lo, 0xcafe, 'RAM above 4 GiB is reachable');
});

t.test('describe() gives firmware builders plain data', async (t) => {
  const q = build('-M', 'q35', '-device', 'edu,id=e0').describe();
  t.equal(q.machineType, 'pc-q35-7.2');
  t.same(q.pciHosts[0]!.ecam, { name: 'pcie-mmcfg-mmio', base: 0xb0000000, size: 256 * 2 ** 20, enabled: false });
  t.same(q.firmware.fwCfg, { kind: 'io', base: 0x510 });
  t.ok(q.reserved.some((r) => r.base === 0xfed90000), 'intel-iommu address left free');
  t.same(q.devices.find((d) => d.id === 'e0'), {
    id: 'e0', driver: 'edu', bus: 'pcie.0', rootBus: 'pcie.0', bdf: '00:01.0', busNumber: 0, devfn: 8,
    vendorId: 0x1234, deviceId: 0x11e8, classCode: 0x00ff00,
  });
  t.same(q.iommus, [], 'no vIOMMU');
  const v = build('-M', 'virt').describe();
  t.same([v.pciHosts[0]!.ecam!.base, v.ram[0]!.base, v.firmware.fwCfg?.base], [0x4010000000, 0x40000000, 0x09020000]);
  t.same(build('-M', 'virt,highmem-ecam=off').describe().pciHosts[0]!.ecam!.base, 0x3f000000);
  t.ok(v.reserved.some((r) => r.base === 0x09050000), 'SMMUv3 address left free');
  const p = build('-M', 'pseries').describe();
  t.same([p.pciHosts[0]!.buid, p.bigEndian, p.ram[0]!.size], [0x800000020000000n, true, 512 * 2 ** 20]);
});

t.test('JSON configs use -device names and report the failing field', async (t) => {
  const m = Machine.create(configFromJson({ machine: 'virt', memory: '256M', devices: [{ driver: 'edu', id: 'x', addr: '03.0' }], seed: 7 }));
  t.same([m.boardName, m.ramSize, m.describe().devices[1]!.bdf], ['virt', 256 * 2 ** 20, '00:03.0']);
  t.equal(m.devicesById.get('x')?.typeName, 'edu');
  const err = (c: unknown) => {
    try {
      Machine.create(configFromJson(c));
      return '';
    } catch (e) {
      t.type(e, ConfigError);
      return (e as ConfigError).message;
    }
  };
  t.equal(err({ devices: [{ driver: 'edu' }, { driver: 'edu' }, { driver: 'edu', addr: 'zz' }] }),
    "devices[2].addr: Property 'edu.addr' doesn't take value 'zz'");
  t.equal(err({ devices: [{ driver: 'edu', addr: 8 }, { driver: 'edu', addr: '01.0' }] }),
    'devices[1].addr: PCI: slot 1 function 0 not available for edu, in use by edu,id=(null)');
  t.equal(err({ devices: [{ driver: 'nosuch' }] }), "devices[0].driver: 'nosuch' is not a valid device model name");
  t.equal(err({ devices: [{ driver: 'edu', romfile: 'x' }] }), "devices[0].romfile: Property 'edu.romfile' is not supported by viommu");
  t.match(err({ machin: 'q35' }), /config: unknown field 'machin'; did you mean 'machine'\?/);
  t.equal(err({ seed: -1 }), 'seed: expected an integer from 0 to 4294967295');
});

t.test('reset returns functions to their reset state, keeping the machine\'s wiring', async (t) => {
  const m = build('-M', 'q35', '-device', 'edu,id=e');
  const io = m.ioAs;
  io.write(0xcf8, 4, 0x80000810);
  io.write(0xcfc, 4, 0xfea00000);
  io.write(0xcf8, 4, 0x80000804);
  io.write(0xcfc, 2, 0x6);
  t.equal(m.systemAs.read(0xfea00000, 4).lo, 0x010000ed);
  m.reset();
  t.equal(m.systemAs.read(0xfea00000, 4).lo, 0, 'BAR unmapped after reset');
  io.write(0xcf8, 4, 0x80000810);
  t.equal(io.read(0xcfc, 4).lo, 0);
  t.type(m.devicesById.get('e'), Edu);
});

t.test('the seed feeds the machine PRNG deterministically', async (t) => {
  const a = Machine.create(configFromJson({ seed: 42 }));
  const b = Machine.create(configFromJson({ seed: 42 }));
  t.equal(a.rng.next(), b.rng.next());
});
