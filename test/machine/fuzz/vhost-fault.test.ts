import t from 'tap';
import { vhostNetOf } from '../../../src/vhost/api.js';
import { bootNet } from '../../vhost/helpers.js';

// A vhost worker that fails in the middle of a batch (the crash drill fires
// in the round where it has moved N packets): the failure surfaces as an
// error, the worker is replaced, nothing waits forever, and the guest's
// traffic loses at most the packets in flight (a network may drop; the
// virtio contract forbids duplicates and corruption, which the traffic
// workload's sequence numbers and data checks catch as "unexpected frame"
// and "came back different").

const Q35 = ['-M', 'q35', '-device', 'intel-iommu,device-iotlb=on', '-device', 'pcie-root-port,id=rp0,chassis=1'];
const VHOST = ['-device', 'virtio-net-pci,bus=rp0,vhost=on,iommu_platform=on,ats=on'];
const BATCH = 16;

for (const kind of ['throw', 'hang'] as const) {
  t.test(`vhost worker ${kind === 'throw' ? 'throws' : 'hangs'} mid-batch: reported, replaced, traffic resumes; no duplicate or corrupt packet`, async (t) => {
    const b = bootNet([...Q35, ...VHOST], {
      workloads: [{ name: 'traffic', params: { packets: 64, batch: BATCH } }, { name: 'traffic', params: { packets: 48, batch: BATCH } }],
      scenario: (_k, m) => {
        m.pciDevices().map(vhostNetOf).find((x) => x)!.crashDrill(kind, 20);
      },
    });
    const [during, after] = b.report.workloads;
    const errors = during!.errors.join('; ');
    t.notMatch(errors, /unexpected frame|came back different/, 'no duplicated or corrupted packet');
    const lost = Number(/(\d+) of 64 packets never came back/.exec(errors)?.[1] ?? 0);
    t.ok(lost <= BATCH, `lost ${lost} packet(s), at most one batch in flight`);
    t.equal(during!.details['received']! + lost, 64, 'every packet is received or counted lost');
    t.ok(after!.ok, `the next traffic is whole: ${after!.errors.join('; ')}`);
    t.equal(b.vhost!.stats.workerRestarts, 1, 'the worker was replaced once');
    t.ok(b.vhost!.errors.some((e) => new RegExp(`vhost worker lost \\(${kind === 'throw' ? 'exited' : 'hung'}\\)`).test(e)), `the loss is reported: ${b.vhost!.errors[0] ?? ''}`);
    if (kind === 'throw') t.ok(b.vhost!.errors.some((e) => /crash drill after \d+ packets/.test(e)), "the worker's own error surfaces");
    t.equal(b.report.oracle.violations, 0, 'the DMA oracle saw nothing wrong');
  });
}
