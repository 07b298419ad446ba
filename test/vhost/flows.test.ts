import t from 'tap';
import { VhostMemTable, VHOST_UADDR_BASE } from '../../src/vhost/mem-table.js';
import { vhostDeviceIotlbMiss } from '../../src/vhost/iotlb-miss.js';
import { vhostNetOf } from '../../src/vhost/api.js';
import { VHOST_ACCESS_RW, VHOST_IOTLB_UPDATE } from '../../src/vhost/msg.js';
import { bootNet, guestNet } from './helpers.js';

const Q35 = ['-M', 'q35', '-device', 'intel-iommu,device-iotlb=on', '-device', 'pcie-root-port,id=rp0,chassis=1'];
const VHOST = ['-device', 'virtio-net-pci,bus=rp0,vhost=on,iommu_platform=on,ats=on'];

t.test('MISS -> UPDATE -> retry: page-aligned, QEMU length, perm RW; the used rings are pre-faulted at start', async (t) => {
  const b = bootNet([...Q35, ...VHOST], { workloads: [{ name: 'traffic', params: { packets: 100 } }] });
  t.ok(b.traffic?.ok, b.traffic?.errors.join('; ') ?? 'no traffic result');
  t.equal(b.traffic?.details['received'], 100);
  const s = b.vhost!.stats;
  t.ok(s.misses > 0 && s.updates >= s.misses, `misses ${s.misses} answered by updates ${s.updates}`);
  t.ok(s.invalidates > 0, 'strict mode unmaps reached the worker as INVALIDATE');
  t.ok(s.iotlbHits > s.iotlbMisses, 'the device IOTLB absorbs most translations');
  t.equal(b.report.oracle.violations, 0);
  // The machine's answer for a ring address (mapped by the guest's coherent allocation).
  const rx = b.dev.net.queues[0]!;
  const mem = VhostMemTable.fromAddressSpace(b.m.pciContext.systemMemory, b.m.pciContext.mem.ramBlocks);
  const a = vhostDeviceIotlbMiss(b.dev.busMaster.as, mem, rx.usedAddr + 6, false);
  t.equal(a.kind, 'update');
  if (a.kind === 'update') {
    t.equal(a.msg.type, VHOST_IOTLB_UPDATE);
    t.equal(Number(a.msg.iova) % 4096, 0, 'iova &= ~addr_mask');
    t.equal(a.msg.iova, BigInt(rx.usedAddr - (rx.usedAddr % 4096)));
    t.equal(a.msg.size, 4096n, 'min(addr_mask + 1, memslot rest)');
    t.equal(a.msg.perm, VHOST_ACCESS_RW, 'RW even for a read miss, as QEMU sends it');
    t.equal(Number(a.msg.uaddr), VHOST_UADDR_BASE + a.gpa, 'uaddr from the memory table (RAM at 0)');
  }
  t.equal(vhostDeviceIotlbMiss(b.dev.busMaster.as, mem, 0x7ff0_0000, false).kind, 'fault', 'an unmapped IOVA: nothing to send');
});

t.test('stop on reset, start again at the next DRIVER_OK: traffic continues, oracle clean', async (t) => {
  const starts: boolean[] = [];
  const b = bootNet([...Q35, ...VHOST], {
    workloads: [{ name: 'traffic', params: { packets: 40 } }, { name: 'traffic', params: { packets: 40 } }],
    scenario: (k, m) => {
      const dev = guestNet(k);
      const v = m.pciDevices().map(vhostNetOf).find((x) => x)!;
      k.drivers.unbind(dev);
      starts.push(v.started);
      k.drivers.bind(dev);
      starts.push(v.started);
    },
  });
  t.same(starts, [false, true], 'unbind (reset) stops the backend, the next DRIVER_OK starts it');
  t.ok(b.report.workloads.every((w) => w.ok), b.report.workloads.flatMap((w) => w.errors).join('; '));
  t.equal(b.report.oracle.violations, 0);
  t.match(b.log, /vhost-net stopped/);
});

t.test('a worker that dies is reported and replaced; the queues resume from the shared vring table', async (t) => {
  const b = bootNet([...Q35, ...VHOST], {
    workloads: [{ name: 'traffic', params: { packets: 16 } }, { name: 'traffic', params: { packets: 48 } }],
    scenario: (_k, m) => m.pciDevices().map(vhostNetOf).find((x) => x)!.killWorker(),
  });
  t.ok(b.report.workloads.every((w) => w.ok), b.report.workloads.flatMap((w) => w.errors).join('; '));
  t.equal(b.vhost!.stats.workerRestarts, 1);
  t.ok(b.vhost!.errors.some((e) => /vhost worker lost/.test(e)), 'the loss is an error');
  t.equal(b.report.oracle.violations, 0);
});

t.test('vhost=off: the device model moves the packets through the same rings', async (t) => {
  const b = bootNet(['-M', 'q35', '-device', 'intel-iommu', '-device', 'virtio-net-pci,iommu_platform=on'], { dmaMode: 'lazy' });
  t.equal(b.vhost, undefined);
  t.ok(b.traffic?.ok, b.traffic?.errors.join('; ') ?? 'no traffic result');
  t.equal(b.dev.net.peer.counters.echoed, 64);
  t.equal(b.report.oracle.violations, 0);
  t.ok(b.report.oracle.checked > 0);
});

t.test('no vIOMMU, vhost=on: rings at guest-physical addresses, no device IOTLB traffic', async (t) => {
  const b = bootNet(['-M', 'q35', '-device', 'virtio-net-pci,vhost=on']);
  t.ok(b.traffic?.ok, b.traffic?.errors.join('; ') ?? 'no traffic result');
  t.equal(b.vhost!.stats.misses, 0);
  t.equal(b.vhost!.stats.txPackets, 64);
  t.equal(b.vhost!.stats.rxPackets, 64);
});

t.test('an idle worker ends itself; the next kick starts another silently, from the same vring indices', async (t) => {
  const b = bootNet([...Q35, ...VHOST], { workloads: [{ name: 'traffic', params: { packets: 8 } }] });
  t.ok(b.traffic?.ok);
  const v = b.vhost!;
  t.equal(v.workerState, 'running');
  await new Promise((r) => setTimeout(r, 2600));
  t.equal(v.workerState, 'idle', 'no thread left behind by a machine nobody uses');
  const usedBefore = v.stats.txPackets;
  b.dev.net.kick(b.dev.net.queues[1]!);
  t.equal(v.workerState, 'running');
  t.equal(v.stats.workerRestarts, 0, 'not counted as a failure');
  t.same(v.errors, []);
  t.equal(v.stats.txPackets, usedBefore, 'nothing new to send: the indices carried over');
});

t.test('a worker that throws (crash drill) is reported with its message and replaced; no packet is lost at a TX wire step', async (t) => {
  const b = bootNet([...Q35, ...VHOST], {
    workloads: [{ name: 'traffic', params: { packets: 32 } }],
    scenario: (_k, m) => m.pciDevices().map(vhostNetOf).find((x) => x)!.crashDrill('throw', 1),
  });
  t.ok(b.traffic?.ok, b.traffic?.errors.join('; ') ?? 'no traffic result');
  t.equal(b.vhost!.stats.workerRestarts, 1);
  t.ok(b.vhost!.errors.some((e) => /crash drill after 1 packets/.test(e)), b.vhost!.errors.join('; '));
  t.equal(b.report.oracle.violations, 0);
});
