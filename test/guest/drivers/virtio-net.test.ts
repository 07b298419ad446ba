import t from 'tap';
import { VirtioNetDriver } from '../../../src/guest/drivers/virtio-net.js';
import { bootNet, guestNet } from '../../vhost/helpers.js';

t.test('virtio_net: pooled buffers stay mapped (no unmaps per packet); remove frees rings and pools', async (t) => {
  let driver: VirtioNetDriver | undefined;
  const b = bootNet(['-M', 'q35', '-device', 'intel-iommu', '-device', 'virtio-net-pci,iommu_platform=on'], {
    dmaMode: 'strict',
    workloads: [{ name: 'traffic', params: { packets: 20, pool: 'true' } }],
    scenario: (k) => {
      driver = k.drivers.drivers.find((d): d is VirtioNetDriver => d instanceof VirtioNetDriver);
    },
  });
  t.ok(b.traffic?.ok, b.traffic?.errors.join('; ') ?? 'no traffic result');
  t.ok(driver, 'the driver is registered by the boot');
  const inst = [...driver!.instances.values()][0]!;
  t.ok(inst.platform, 'ACCESS_PLATFORM negotiated');
  t.ok(inst.pool['to-device'].length > 0, 'TX buffers came back to the pool');
  t.equal(b.report.oracle.violations, 0);
});

t.test('virtio_net without ACCESS_PLATFORM uses physical addresses (vring_use_dma_api false)', async (t) => {
  const b = bootNet(['-M', 'q35', '-device', 'intel-iommu', '-device', 'virtio-net-pci'], {
    scenario: (k) => {
      const dev = guestNet(k);
      const drv = k.drivers.drivers.find((d): d is VirtioNetDriver => d instanceof VirtioNetDriver)!;
      t.equal(drv.instances.get(dev)!.platform, false);
    },
  });
  t.ok(b.traffic?.ok, b.traffic?.errors.join('; ') ?? 'no traffic result');
});
