import { VirtioNetDriver } from '../../guest/drivers/virtio-net.js';
import { errnoName } from '../../guest/errno.js';
import { echoFrame } from '../../guest/workload/traffic.js';
import { vhostNetOf, vhostRegistration, formatVhostRegistration } from '../../vhost/api.js';
import type { ActionContext, ActionResult, GuestAction } from './actions.js';

const HDR = 30;

/**
 * {"guest": "traffic", "device": "net1", "packets"?: 64, "bytes"?: 256}:
 * echo packets through a virtio-net device (vhost or emulated) with the
 * guest's virtio-net driver, `batch` per kick; every packet must come back
 * with the data sent. The detail names the vhost notifier flags in use.
 * (direction tx / rx: the packets still travel both ways; the peer's echo
 * is how the guest checks the data.)
 */
export const trafficAction: GuestAction = {
  name: 'traffic',
  summary: 'send and receive packets through a virtio-net device (echoed by the peer), data checked',
  params: {
    device: { type: 'string', required: true, help: 'the virtio-net device (QEMU id or BDF)' },
    packets: { type: 'integer', help: 'how many packets (default 64)' },
    direction: { type: 'string', choices: ['tx', 'rx', 'both'], help: 'which way (default both; every packet is echoed)' },
    bytes: { type: 'integer', help: 'data bytes per packet, 1 to 1470 (default 256)' },
    batch: { type: 'integer', help: 'packets per kick (default 16)' },
  },
  run(ctx: ActionContext, args): ActionResult {
    const d = ctx.device(args['device'] as string);
    if (!d.guest) return { ok: false, detail: `the guest has no device '${d.ref}'`, expected: 'a virtio-net device the guest knows' };
    const k = ctx.kernel;
    const drv = k.drivers.drivers.find((x): x is VirtioNetDriver => x instanceof VirtioNetDriver);
    const inst = drv?.instances.get(d.guest);
    if (!drv || !inst) return { ok: false, detail: `${d.ref} is not bound to virtio_net`, expected: 'a device bound to virtio_net' };
    const packets = Math.max(1, (args['packets'] as number | undefined) ?? 64);
    const bytes = Math.min(1470, Math.max(1, (args['bytes'] as number | undefined) ?? 256));
    const batch = Math.min(128, Math.max(1, (args['batch'] as number | undefined) ?? 16));
    const before = k.oracle.violationCount;
    const sent = new Map<number, Uint8Array>();
    let back = 0;
    let bad = 0;
    const take = (): void => {
      for (const f of drv.receive(d.guest!)) {
        const seq = f.length >= HDR ? new DataView(f.buffer, f.byteOffset).getUint32(18) : -1;
        const want = sent.get(seq);
        if (!want) {
          bad++;
          continue;
        }
        sent.delete(seq);
        if (want.some((b, i) => f[HDR + i] !== b)) bad++;
        back++;
      }
    };
    for (let seq = 0; seq < packets;) {
      const frames: Uint8Array[] = [];
      for (let i = 0; i < batch && seq < packets; i++, seq++) {
        const data = new Uint8Array(bytes);
        for (let b = 0; b < bytes; b++) data[b] = ctx.rng.next() & 0xff;
        sent.set(seq, data);
        frames.push(echoFrame(inst.mac, seq, data));
      }
      const n = drv.xmit(d.guest, frames);
      if (n < 0) return { ok: false, detail: `xmit failed: ${errnoName(n)}`, expected: 'the packets to be queued' };
      take();
    }
    take();
    const v = d.machine ? vhostNetOf(d.machine) : undefined;
    const how = v ? `vhost, ${formatVhostRegistration(vhostRegistration(v))}` : 'emulated';
    const violations = k.oracle.violationCount - before;
    const detail = `${back} of ${packets} packets echoed through ${d.ref} (${how})${bad ? `, ${bad} different` : ', data checked'}`;
    if (violations) return { ok: false, detail: `${detail}; the DMA oracle reported ${violations} violations`, expected: 'no oracle violation' };
    if (back !== packets || bad) return { ok: false, detail, expected: `all ${packets} packets back unchanged` };
    return { ok: true, detail };
  },
};
