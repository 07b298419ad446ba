import t from 'tap';
import { VfioPciBinding } from '../../../src/guest/vfio/binding.js';
import { bootVfio } from '../../pci/vfio/rig.js';

const CASES: [string, string[], 'type1' | 'spapr-tce-v2'][] = [
  ['intel-iommu caching-mode=on + vfio-pci-model', ['-M', 'q35', '-device', 'intel-iommu,caching-mode=on', '-device', 'vfio-pci-model'], 'type1'],
  ['intel-iommu + edu', ['-M', 'q35', '-device', 'intel-iommu', '-device', 'edu'], 'type1'],
  ['smmuv3 + edu', ['-M', 'virt,iommu=smmuv3', '-device', 'edu'], 'type1'],
  ['virtio-iommu + vfio-pci-model', ['-M', 'q35', '-device', 'virtio-iommu-pci', '-device', 'vfio-pci-model'], 'type1'],
  ['pseries + vfio-pci-model', ['-M', 'pseries', '-device', 'vfio-pci-model'], 'spapr-tce-v2'],
];

for (const [name, args, kind] of CASES) {
  t.test(`${name}: bind to vfio-pci, the user maps and DMAs, exits; the host driver binds again`, async (t) => {
    const r = bootVfio(args);
    const k = r.booted.kernel;
    t.equal(r.dev.driver, 'edu');
    const b = VfioPciBinding.bind(k, r.dev, { transfers: 3 });
    t.same(b.errors, []);
    t.equal(b.ret, 0);
    t.equal(b.binding!.containerKind, kind);
    t.equal(r.dev.driver, 'vfio-pci');
    t.equal(b.ops, 6);
    const group = k.iommu.groupOf(r.dev)!;
    t.ok(group.owner, 'the group is owned by the VFIO container');
    const u = b.binding!.unbind(true);
    t.same(u.errors, []);
    t.equal(r.dev.driver, 'edu', 'host driver bound again');
    t.equal(group.owner, undefined);
    t.equal(group.domain, group.defaultDomain, 'back on the default domain');
    t.equal(k.vfio.size, 0);
    t.equal(r.oracle.violationCount, 0, 'the stray DMA after exit reached nothing');
  });
}

t.test('no IOMMU group: vfio-pci refuses the device', async (t) => {
  const r = bootVfio(['-M', 'q35', '-device', 'edu']);
  const b = VfioPciBinding.bind(r.booted.kernel, r.dev);
  t.equal(b.ret, -22);
  t.match(b.errors[0], /no IOMMU group/);
  t.equal(r.dev.driver, 'edu', 'the host driver keeps it');
});

t.test('seed000 on pseries: after the VFIO user the host driver cannot set its DMA mask', async (t) => {
  const r = bootVfio(['-M', 'pseries', '-device', 'vfio-pci-model'], { regress: ['seed000'] });
  const b = VfioPciBinding.bind(r.booted.kernel, r.dev);
  t.equal(b.ret, 0);
  const u = b.binding!.unbind(true);
  t.same(u.errors, ['host driver rebind: -5 (EIO)']);
  t.equal(r.dev.driver, undefined);
});

t.test('seed004 on pseries with persistent TCEs: the user\'s TCEs survive and the VFIO model reaches them', async (t) => {
  const args = ['-M', 'pseries', '-device', 'vfio-pci-model', '-global', 'spapr-pci-host-bridge.persistent-tces=on'];
  const fixed = bootVfio(args);
  const ok = VfioPciBinding.bind(fixed.booted.kernel, fixed.dev).binding!.unbind(true);
  t.same(ok.errors, []);
  t.equal(fixed.oracle.violationCount, 0);
  const r = bootVfio(args, { regress: ['seed004'] });
  const u = VfioPciBinding.bind(r.booted.kernel, r.dev).binding!.unbind(true);
  t.match(u.errors.join('\n'), /stale TCE 0x[0-9a-f]+ at 0x100000 after the user left/);
  t.ok(r.oracle.violations.some((v) => v.kind === 'isolation' && v.path === 'vfio'), 'the stray DMA reached the old page through the shadow');
});
