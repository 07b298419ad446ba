import { VirtioNetDriver } from '../../../guest/drivers/virtio-net.js';
import { errnoName } from '../../../guest/errno.js';
import { VfioPciBinding } from '../../../guest/vfio/binding.js';
import { echoFrame } from '../../../guest/workload/traffic.js';
import { vhostNetOf, vhostRegistration } from '../../../vhost/api.js';
import { VirtioNetPci } from '../../../virtio/net/virtio-net-pci.js';
import type { ActionContext } from '../../hotplug/actions.js';
import type { ConsumerDevice, MatrixConsumer, TrafficResult } from '../consumer.js';

/** The echo frame's header (src/guest/workload/traffic.ts): seq be32 at 18, data at 30. */
const HDR = 30;
const BYTES = 256;
const BATCH = 8;
/** Packets per scenario operation. */
const PACKETS_PER_OP = 2;

/**
 * Echo packets through the device with the guest's virtio_net driver:
 * `pooled` keeps the buffers mapped and recycles them (a steady working
 * set), otherwise every packet is mapped and unmapped (churn). Every packet
 * must come back once with the data sent. A vhost device that failed (a
 * vetoed registration with x-vhost-iotlb-fallback=off) is a refusal with
 * the vIOMMU's message, as pre-fix QEMU exits with it.
 */
function echo(a: ActionContext, d: ConsumerDevice, packets: number, pooled: boolean): TrafficResult {
  const dev = d.guest;
  const k = a.kernel;
  const drv = k.drivers.drivers.find((x): x is VirtioNetDriver => x instanceof VirtioNetDriver);
  const inst = drv?.instances.get(dev);
  const vhost = d.machine ? vhostNetOf(d.machine) : undefined;
  if (vhost?.failure) return { ops: 0, bytes: 0, wrongData: 0, hang: false, errors: [], refused: vhost.failure };
  if (!drv || !inst) return { ops: 0, bytes: 0, wrongData: 1, hang: false, errors: [`${dev.name} is ${dev.driver ? `bound to ${dev.driver}` : 'not bound'}, not virtio_net`] };
  const was = drv.pooled;
  drv.pooled = pooled;
  const sent = new Map<number, Uint8Array>();
  const errors: string[] = [];
  let back = 0;
  let bad = 0;
  const take = (): void => {
    for (const f of drv.receive(dev)) {
      const seq = f.length >= HDR ? new DataView(f.buffer, f.byteOffset).getUint32(18) : -1;
      const want = sent.get(seq);
      if (!want || want.some((b, i) => f[HDR + i] !== b)) {
        bad++;
        continue;
      }
      sent.delete(seq);
      back++;
    }
  };
  for (let seq = 0; seq < packets;) {
    const frames: Uint8Array[] = [];
    for (let i = 0; i < BATCH && seq < packets; i++, seq++) {
      const data = Uint8Array.from({ length: BYTES }, () => a.rng.next() & 0xff);
      sent.set(seq, data);
      frames.push(echoFrame(inst.mac, seq, data));
    }
    const n = drv.xmit(dev, frames);
    if (n < 0) {
      errors.push(`${dev.name}: xmit failed: ${errnoName(n)}`);
      break;
    }
    take();
  }
  take();
  drv.pooled = was;
  const lost = packets - back;
  if (lost || bad) errors.push(`${dev.name}: ${back} of ${packets} packets came back${bad ? `, ${bad} different` : ''}`);
  const vf = vhost ? vhostRegistration(vhost).fallbackReason : undefined;
  return {
    ops: back, bytes: back * 2 * BYTES, wrongData: lost + bad, hang: false, errors,
    ...(vf ? { notes: [`fallback to UNMAP: ${vf}`] } : {}),
  };
}

/**
 * bind/unbind for a NIC: vfio-pci takes the device and a VFIO user opens
 * the container and maps its buffer (it has no driver for a virtio-net,
 * so it makes no DMA), exits; the host driver binds again, vhost starts
 * anew (re-registering its notifiers) and traffic must flow.
 */
function bindUnbind(a: ActionContext, d: ConsumerDevice): TrafficResult {
  const b = VfioPciBinding.bind(a.kernel, d.guest, { userDriver: 'none' });
  if (!b.binding) return { ops: 0, bytes: 0, wrongData: 0, hang: false, errors: [], refused: b.errors.join('; ') };
  const kind = b.binding.containerKind ?? 'none';
  const u = b.binding.unbind(true);
  const t = echo(a, d, PACKETS_PER_OP, false);
  const errors = [...b.errors, ...u.errors, ...t.errors];
  return {
    ...t, errors, wrongData: t.wrongData + (b.ret ? 1 : 0) + (u.ret ? 1 : 0),
    notes: [...(t.notes ?? []), `VFIO container: ${kind}`],
  };
}

/**
 * `vhost-net` (virtio-net-pci,vhost=on) and `virtio-net` (vhost=off, the
 * device model moves the packets): iommu_platform=on, ats as the cell's
 * guest-ATS axis (the guest's IOMMU driver enables it where the vIOMMU
 * supports device IOTLBs), and x-vhost-iotlb-fallback=off in its column.
 */
export function virtioNetConsumer(vhost: boolean): MatrixConsumer {
  return {
    id: vhost ? 'vhost-net' : 'virtio-net',
    summary: vhost
      ? 'virtio-net with a vhost worker and a device IOTLB: UNMAP or DEVIOTLB_UNMAP notifiers (seed 002 policy)'
      : 'emulated virtio-net: the device model translates per access, no notifier',
    appliesTo: (mode) => vhost || mode !== 'x-vhost-iotlb-fallback=off',
    device: (cell) => ({
      driver: 'virtio-net-pci',
      props: {
        vhost: vhost ? 'on' : 'off', iommu_platform: 'on', ats: cell.ats ? 'on' : 'off',
        ...(cell.mode === 'x-vhost-iotlb-fallback=off' ? { 'x-vhost-iotlb-fallback': 'off' } : {}),
      },
    }),
    steady: (a, dev, ops) => echo(a, dev, ops * PACKETS_PER_OP, true),
    churn: (a, dev, ops) => echo(a, dev, ops * PACKETS_PER_OP, false),
    bindUnbind: (a, dev) => bindUnbind(a, dev),
    notifierUse(m, cell) {
      if (!(m instanceof VirtioNetPci)) return undefined;
      const v = vhostNetOf(m);
      if (!v) return { flags: cell.viommu.id === 'none' ? 'none (no vIOMMU)' : 'none (translated per access)', map: 0, unmap: 0, devIotlb: 0 };
      const r = vhostRegistration(v);
      const flags = [...new Set(r.flags)].join('+') || 'none (no IOMMU section)';
      const inv = v.stats.invalidates;
      return { flags, map: 0, unmap: flags.includes('DEVIOTLB') ? 0 : inv, devIotlb: flags.includes('DEVIOTLB') ? inv : 0 };
    },
  };
}
