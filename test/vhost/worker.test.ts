import t from 'tap';
import { STATE_FAILED, W_DONE, W_STATE } from '../../src/vhost/channel.js';
import { iotlbMsg, VHOST_ACCESS_RW, VHOST_IOTLB_BATCH_BEGIN, VHOST_IOTLB_BATCH_END, VHOST_IOTLB_INVALIDATE, VHOST_IOTLB_UPDATE, type VhostIotlbMsg } from '../../src/vhost/msg.js';
import { VhostWorkerHandle } from '../../src/vhost/worker-host.js';
import { WireRing } from '../../src/virtio/net/wire.js';

/** Posts messages and waits (bounded) until the worker has run a round over them. */
function round(w: VhostWorkerHandle, ...msgs: VhostIotlbMsg[]): boolean {
  for (const m of msgs) w.channel.postToWorker({ version: 2, asid: 0, iotlb: m });
  const req = w.channel.request();
  const deadline = performance.now() + 5000;
  while (Atomics.load(w.channel.ctl, W_DONE) < req && performance.now() < deadline) {
    if (Atomics.load(w.channel.ctl, W_STATE) === STATE_FAILED) return false;
    Atomics.wait(w.channel.ctl, W_DONE, Atomics.load(w.channel.ctl, W_DONE), 20);
  }
  return Atomics.load(w.channel.ctl, W_DONE) >= req;
}

t.test('the worker applies UPDATE into its device IOTLB and INVALIDATE by range; size 0 is the whole space', async (t) => {
  const w = new VhostWorkerHandle(WireRing.create(), WireRing.create(), {});
  t.teardown(() => w.terminate());
  const up = (iova: number) => iotlbMsg(VHOST_IOTLB_UPDATE, BigInt(iova), 0x1000n, BigInt(0x7f00_0000_0000 + iova), VHOST_ACCESS_RW);
  t.ok(round(w, iotlbMsg(VHOST_IOTLB_BATCH_BEGIN), up(0x1000), up(0x2000), up(0x10_0000), iotlbMsg(VHOST_IOTLB_BATCH_END)));
  t.equal(w.iotlb.entries, 3, 'three pages (batch markers carry nothing)');
  t.ok(round(w, iotlbMsg(VHOST_IOTLB_INVALIDATE, 0x2000n, 0x1000n)));
  t.equal(w.iotlb.entries, 2, '[0x2000, 0x2fff] removed');
  t.ok(round(w, iotlbMsg(VHOST_IOTLB_INVALIDATE, 0x0n, 0x2000n)));
  t.equal(w.iotlb.entries, 1, '[0, 0x1fff] removed; 0x100000 stays');
  t.ok(round(w, iotlbMsg(VHOST_IOTLB_UPDATE, 0x5000n, 0n, 0x7f00_0000_5000n, VHOST_ACCESS_RW)));
  t.equal(w.iotlb.entries, 1, 'an UPDATE of size 0 is refused (Linux -EINVAL)');
  t.ok(round(w, iotlbMsg(VHOST_IOTLB_INVALIDATE, 0n, 0n)));
  t.equal(w.iotlb.entries, 0, "iova 0 size 0: everything (the kernel's u64 wrap)");
});

