import t from 'tap';
import {
  ConfigError, createMachine, hmp, IOMMU_NOTIFIER_IOTLB_EVENTS, IOMMU_NOTIFIER_MAP, IOMMU_NOTIFIER_UNMAP, registerDeviceNotifier,
  runGuest, runIotlbBenchmark, type DeviceNotifyEvent,
} from '../../src/index.js';

t.test('createMachine builds the same machine from a JSON config and from QEMU arguments', async (t) => {
  const a = createMachine({ machine: 'q35', devices: [{ driver: 'edu', addr: '03.0', id: 'e1' }] });
  const b = createMachine(['-M', 'q35', '-device', 'edu,addr=03.0,id=e1']);
  t.equal(hmp(a, 'info pci'), hmp(b, 'info pci'));
  t.match(hmp(a, 'info pci'), /Bus {2}0, device {3}3, function 0:/);
  t.equal(createMachine().boardName, 'q35', 'no config: the default machine');
  t.match(hmp(createMachine(), 'info iommu'), /^intel-iommu at 0xfed90000/);
});

t.test('configuration mistakes are ConfigErrors with the closest valid name as a hint', async (t) => {
  const err = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return e instanceof ConfigError ? [e.message, e.hint] : ['not a ConfigError', String(e)];
    }
    return ['no error', undefined];
  };
  t.same(err(() => createMachine({ devices: [{ driver: 'eud' }] })), ["devices[0].driver: 'eud' is not a valid device model name", "did you mean 'edu'?"]);
  t.same(err(() => createMachine(['-M', 'pseris'])), ['unsupported machine type\nUse -machine help to list supported machines', "did you mean 'pseries'?"]);
  const m = createMachine({ devices: [{ driver: 'edu', id: 'e1' }] });
  t.same(err(() => registerDeviceNotifier(m, 'e2', IOMMU_NOTIFIER_UNMAP, () => {})), ["deviceId: no PCI device with id 'e2'", "did you mean 'e1'?"]);
});

t.test('a device notifier follows the IOMMU region as the guest enables translation, and sees the mappings', async (t) => {
  const m = createMachine({ devices: [{ driver: 'intel-iommu', 'caching-mode': true }, { driver: 'edu', id: 'e1' }] });
  const events: DeviceNotifyEvent[] = [];
  const h = registerDeviceNotifier(m, 'e1', IOMMU_NOTIFIER_IOTLB_EVENTS, (e) => events.push(e));
  t.same(h.regions, [], 'translation is off before the guest boots: no IOMMU region in the device\'s address space');
  const r = runGuest(m, { dmaMode: 'strict', workloads: [{ name: 'edu-dma', params: { iterations: 2 } }] });
  t.equal(r.oracle.violations, 0);
  t.same(h.regions, ['vtd-01.0-dmar']);
  t.same(h.errors, []);
  const maps = events.filter((e) => e.entry.perm !== 0);
  t.ok(maps.length > 0 && maps.length < events.length, 'MAP and UNMAP events');
  t.ok(maps.every((e) => e.region === 'vtd-01.0-dmar' && e.entry.addrMask === 0xfffn));
  t.match(hmp(m, 'info iommu'), /notifier UNMAP\|MAP idx 0 \[/, "info iommu lists the notifier");
  h.unregister();
  t.same(h.regions, []);
  t.notMatch(hmp(m, 'info iommu'), /notifier UNMAP\|MAP/, 'unregistered');
});

t.test("a vIOMMU's notifier veto comes back as a value", async (t) => {
  const vtd = createMachine({ devices: [{ driver: 'intel-iommu' }, { driver: 'edu', id: 'e1' }] });
  const a = registerDeviceNotifier(vtd, 'e1', IOMMU_NOTIFIER_MAP, () => {});
  runGuest(vtd);
  t.match(a.errors[0], { errno: -95, message: /requires caching mode/ }, 'VT-d refuses MAP without caching-mode');
  t.same(a.regions, []);
  const smmu = createMachine(['-M', 'virt,iommu=smmuv3', '-device', 'edu,id=e1']);
  const b = registerDeviceNotifier(smmu, 'e1', IOMMU_NOTIFIER_MAP, () => {});
  runGuest(smmu);
  t.match(b.errors[0], { errno: -22, message: /MAP notifier which is not currently supported/ }, 'SMMUv3 refuses MAP');
});

t.test('runIotlbBenchmark takes any of the CLI options and defaults the rest', async (t) => {
  const r = await runIotlbBenchmark({ ops: 50_000, pattern: 'seq' });
  t.match(r, { ops: 50_000, pattern: 'seq', iommu: 'vtd', pages: 65536, ws: 1024, workers: 0, faults: 0 });
  t.equal(r.hits + r.misses, 50_000);
  await t.rejects(runIotlbBenchmark({ iommu: 'amd', ops: 10 }), /unknown IOMMU 'amd'/);
});
