import t from 'tap';
import { pciDisableAts, pciEnableAts } from '../../src/guest/pci-core/ats.js';
import { vhostNetOf, vhostRegistration } from '../../src/vhost/api.js';
import type { Machine } from '../../src/machine/machine.js';
import { bootNet, guestNet } from './helpers.js';

const RP = ['-device', 'pcie-root-port,id=rp0,chassis=1'];
const NET = (extra = '') => ['-device', `virtio-net-pci,bus=rp0,vhost=on,iommu_platform=on,ats=on${extra}`];

t.test('intel-iommu with device-iotlb: the guest enables ATS, vhost registers DEVIOTLB_UNMAP; disabling ATS re-registers UNMAP', async (t) => {
  let during: string[] = [];
  const b = bootNet(['-M', 'q35', '-device', 'intel-iommu,device-iotlb=on', ...RP, ...NET()], {
    scenario: (k, m) => {
      during = [...vhostRegistration(vhostNetOfMachine(m)).flags];
      pciDisableAts(guestNet(k).pci!);
    },
  });
  t.same(during, ['DEVIOTLB_UNMAP', 'DEVIOTLB_UNMAP'], 'two sections of the VT-d region (around the interrupt window), both DEVIOTLB_UNMAP');
  t.match(b.log, /DEVIOTLB_UNMAP notifier on \[0x0, 0xfedfffff\]/, 'registered DEVIOTLB_UNMAP at DRIVER_OK');
  const r = vhostRegistration(b.vhost!);
  t.same([...new Set(r.flags)], ['UNMAP'], 'after the guest cleared ATS Enable: UNMAP');
  t.equal(r.fallbackReason, undefined);
  t.ok(b.traffic?.ok, `traffic after the toggle: ${b.traffic?.errors.join('; ')}`);
  t.equal(b.report.oracle.violations, 0);
  t.ok(b.vhost!.stats.invalidates > 0, 'UNMAP invalidations reached the worker (strict mode)');
});

t.test('ATS toggled on at run time re-registers DEVIOTLB_UNMAP and dev-IOTLB invalidations reach the worker', async (t) => {
  const b = bootNet(['-M', 'q35', '-device', 'intel-iommu,device-iotlb=on', ...RP, ...NET()], {
    scenario: (k) => {
      pciDisableAts(guestNet(k).pci!);
      pciEnableAts(guestNet(k).pci!, 12);
    },
  });
  t.same([...new Set(vhostRegistration(b.vhost!).flags)], ['DEVIOTLB_UNMAP']);
  t.ok(b.traffic?.ok, b.traffic?.errors.join('; ') ?? 'no traffic result');
  t.equal(b.report.oracle.violations, 0);
  t.ok(b.vhost!.stats.invalidates > 0);
});

// Each vIOMMU that vetoes DEVIOTLB_UNMAP, with the guest forcing ATS on (a config write any guest can make).
const VETOES: [string, string[], string][] = [
  ['smmuv3', ['-M', 'virt,iommu=smmuv3'], 'SMMUv3 does not support dev-iotlb yet'],
  ['virtio-iommu', ['-M', 'q35', '-device', 'virtio-iommu-pci'], 'Virtio-iommu does not support dev-iotlb yet'],
  ['intel-iommu without device-iotlb', ['-M', 'q35', '-device', 'intel-iommu'], 'device 01.00.0 requires device IOTLB mode'],
];

for (const [name, machine, veto] of VETOES) {
  t.test(`${name}: a DEVIOTLB_UNMAP veto falls back to UNMAP with the vIOMMU's reason logged; traffic goes on`, async (t) => {
    const b = bootNet([...machine, ...RP, ...NET()], { scenario: (k) => void pciEnableAts(guestNet(k).pci!, 12) });
    const r = vhostRegistration(b.vhost!);
    t.equal(r.fallbackReason, veto);
    t.ok(r.flags.length > 0 && r.flags.every((f) => f === 'UNMAP'), `flags ${r.flags.join(',')}`);
    t.equal(r.refusal, undefined);
    t.ok(b.log.includes(`DEVIOTLB_UNMAP notifier refused: ${veto}; falling back to UNMAP invalidations`), 'warning logged');
    t.ok(b.traffic?.ok, b.traffic?.errors.join('; ') ?? 'no traffic result');
    t.equal(b.report.oracle.violations, 0);
  });

  t.test(`${name}: with x-vhost-iotlb-fallback=off the veto fails the device (pre-fix behaviour), the machine lives`, async (t) => {
    const b = bootNet([...machine, ...RP, ...NET(',x-vhost-iotlb-fallback=off')], { scenario: (k) => void pciEnableAts(guestNet(k).pci!, 12) });
    const r = vhostRegistration(b.vhost!);
    t.equal(r.refusal, veto);
    t.equal(r.started, false);
    t.match(b.log, /vhost-net failed: /);
    t.equal(b.traffic?.ok, false, 'no traffic through a failed device');
    t.ok((b.dev.net.status & 0x40) !== 0, 'DEVICE_NEEDS_RESET');
  });
}

t.test('spapr: DEVIOTLB_UNMAP is vetoed with its own text; a guest without ATS (no PCIe) gets UNMAP', async (t) => {
  const b = bootNet(['-M', 'pseries', '-device', 'virtio-net-pci,vhost=on,iommu_platform=on']);
  t.same([...new Set(vhostRegistration(b.vhost!).flags)], ['UNMAP']);
  t.ok(b.traffic?.ok, b.traffic?.errors.join('; ') ?? 'no traffic result');
  // The policy itself, asked for DEVIOTLB on this region (what a PCIe ATS device would make it do).
  const { VhostIommuFollower } = await import('../../src/vhost/iommu-follower.js');
  const failed: string[] = [];
  for (const fallback of [true, false]) {
    const f = new VhostIommuFollower(b.m.mem, {
      log: b.m.log, who: 'test', deviceIotlbEnabled: () => true, fallback, invalidate: () => undefined, fail: (m) => failed.push(m),
    });
    f.start(b.dev.busMaster.as);
    if (fallback) {
      t.equal(f.entries[0]?.fallback, 'spart_tce does not support dev-iotlb yet');
      t.equal(f.entries[0]?.n.notifierFlags, 1, 'UNMAP');
    } else {
      t.equal(f.entries.length, 0);
    }
    f.stop();
  }
  t.same(failed, ['spart_tce does not support dev-iotlb yet']);
});

function vhostNetOfMachine(m: Machine) {
  for (const d of m.pciDevices()) {
    const v = vhostNetOf(d);
    if (v) return v;
  }
  throw new Error('no vhost device');
}

t.test('vhost_iommu_unmap_notify: a ranged UNMAP becomes INVALIDATE(iova, mask + 1), a full-range one INVALIDATE(0, size 0)', async (t) => {
  const b = bootNet(['-M', 'q35', '-device', 'virtio-iommu-pci', '-device', 'virtio-net-pci,vhost=on,iommu_platform=on']);
  const { VhostIommuFollower } = await import('../../src/vhost/iommu-follower.js');
  const { IOMMU_NOTIFIER_UNMAP, U64_MAX } = await import('../../src/iommu/notifier.js');
  const got: [bigint, bigint][] = [];
  const f = new VhostIommuFollower(b.m.mem, {
    log: b.m.log, who: 'test', deviceIotlbEnabled: () => false, fallback: true, invalidate: (i, s) => got.push([i, s]), fail: () => undefined,
  });
  f.start(b.dev.busMaster.as);
  const e = f.entries[0]!;
  t.equal(e.n.start, 0n);
  t.equal(e.n.end, U64_MAX, 'virtio-iommu: one section over the whole space');
  const unmap = (iova: bigint, addrMask: bigint) =>
    e.mr.notify(e.n.iommuIndex, { type: IOMMU_NOTIFIER_UNMAP, entry: { targetAs: null, iova, translatedAddr: 0n, addrMask, perm: 0 } });
  unmap(0x1000n, 0xfffn);
  unmap(0n, U64_MAX);
  t.same(got, [[0x1000n, 0x1000n], [0n, 0n]]);
  f.stop();
});
