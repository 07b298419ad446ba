import type { GuestDevice } from '../device.js';
import type { VirtioNetDriver } from '../drivers/virtio-net.js';
import { errnoName } from '../errno.js';
import type { Workload, WorkloadContext } from './workload.js';

/**
 * The frames viommu's synthetic peer answers (the guest's own reading of
 * the wire protocol in docs: EtherType 0x88B5, op @14, seq be32 @18, len
 * be32 @22, FNV-1a of the data be32 @26, data @30). op 1 (ECHO): the peer
 * sends the frame back with the addresses swapped.
 */
const ETH_P_LOCAL_EXP1 = 0x88b5;
const OP_ECHO = 1;
const HDR = 30;
const PEER_BROADCAST = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);

function fnv1a(b: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

export function echoFrame(src: Uint8Array, seq: number, data: Uint8Array): Uint8Array {
  const f = new Uint8Array(Math.max(60, HDR + data.length));
  f.set(PEER_BROADCAST, 0);
  f.set(src.subarray(0, 6), 6);
  const v = new DataView(f.buffer);
  v.setUint16(12, ETH_P_LOCAL_EXP1);
  f[14] = OP_ECHO;
  v.setUint32(18, seq);
  v.setUint32(22, data.length);
  f.set(data, HDR);
  v.setUint32(26, fnv1a(f, HDR, HDR + data.length));
  return f;
}

interface DeviceTraffic {
  readonly dev: GuestDevice;
  readonly mac: Uint8Array;
  /** Data of each frame sent and not yet back, by sequence number. */
  readonly sent: Map<number, Uint8Array>;
  seq: number;
  got: number;
  /** xmit failed: no more frames for this device. */
  stopped: boolean;
}

/**
 * traffic: for each bound virtio-net device, `packets` ECHO frames of
 * `bytes` random data bytes, sent `batch` per kick; the peer returns each
 * one and the guest checks that every frame came back once, to its own
 * MAC, with the data it sent. The devices are driven side by side, as
 * queues on several CPUs would be: each step fills every device's TX ring,
 * kicks them one after the other, then reaps them in turn, so backends
 * that work on their own threads (vhost) work at the same time. Buffers
 * are mapped and unmapped per packet, so the DMA mode decides how many
 * invalidations the device sees (or pooled: a steady working set).
 */
export function trafficWorkload(driver: VirtioNetDriver): Workload {
  return {
    name: 'traffic',
    description: 'echo packets through each virtio-net device (TX and RX through the rings), data checked',
    params: [
      { name: 'packets', default: 64, description: 'packets per device' },
      { name: 'bytes', default: 256, description: 'data bytes per packet (at most 1470)' },
      { name: 'batch', default: 16, description: 'packets per kick' },
      { name: 'pool', default: false, description: 'keep buffers mapped and recycle them (page_pool): a steady working set' },
    ],
    run(ctx: WorkloadContext) {
      const { prng, params } = ctx;
      const packets = Math.max(0, Math.floor(params['packets'] as number));
      const bytes = Math.min(1470, Math.max(1, Math.floor(params['bytes'] as number)));
      const batch = Math.max(1, Math.min(128, Math.floor(params['batch'] as number)));
      const errors: string[] = [];
      driver.pooled = params['pool'] as boolean;
      let ops = 0;
      let moved = 0;
      const devs: DeviceTraffic[] = [...driver.instances.entries()].map(([dev, inst]) => ({
        dev, mac: inst.mac, sent: new Map(), seq: 0, got: 0, stopped: false,
      }));
      if (devs.length === 0) errors.push('no virtio-net device is bound');
      const check = (d: DeviceTraffic, frames: Uint8Array[]): void => {
        for (const f of frames) {
          const v = new DataView(f.buffer, f.byteOffset, f.length);
          const seq = f.length >= HDR ? v.getUint32(18) : -1;
          const want = d.sent.get(seq);
          if (!want) {
            errors.push(`${d.dev.name}: unexpected frame (seq ${seq}, ${f.length} bytes)`);
            continue;
          }
          d.sent.delete(seq);
          const data = f.subarray(HDR, HDR + want.length);
          const bad = data.findIndex((b, i) => b !== want[i]);
          if (f.subarray(0, 6).some((b, i) => b !== d.mac[i]) || bad >= 0 || data.length !== want.length) {
            errors.push(`${d.dev.name}: packet ${seq} came back different${bad >= 0 ? ` at data byte ${bad}` : ''}`);
          }
          d.got++;
          moved += want.length;
        }
      };
      /** The next batch of frames for a device (guest CPU work only: no device access). */
      const prepare = (d: DeviceTraffic): Uint8Array[] => {
        const frames: Uint8Array[] = [];
        for (let i = 0; i < batch && d.seq < packets; i++, d.seq++) {
          const data = new Uint8Array(bytes);
          for (let b = 0; b < bytes; b++) data[b] = prng.next() & 0xff;
          d.sent.set(d.seq, data);
          frames.push(echoFrame(d.mac, d.seq, data));
        }
        return frames;
      };
      let ready = new Map(devs.map((d) => [d, prepare(d)] as const));
      for (;;) {
        const active = devs.filter((d) => !d.stopped && (ready.get(d)?.length ?? 0) > 0);
        if (active.length === 0 || errors.length >= 10) break;
        const kicked: DeviceTraffic[] = [];
        for (const d of active) {
          const n = driver.queueTx(d.dev, ready.get(d)!);
          if (n < 0) {
            errors.push(`${d.dev.name}: xmit failed: ${errnoName(n)}`);
            d.stopped = true;
            continue;
          }
          ops += n;
          kicked.push(d);
        }
        for (const d of kicked) driver.kickTx(d.dev);
        // While the devices move the packets, the CPU builds the next batches.
        ready = new Map(kicked.map((d) => [d, prepare(d)] as const));
        for (const d of active) check(d, driver.receive(d.dev));
      }
      for (const d of devs) {
        check(d, driver.receive(d.dev));
        if (d.sent.size > 0 && errors.length < 10) errors.push(`${d.dev.name}: ${d.sent.size} of ${packets} packets never came back`);
      }
      return {
        ok: errors.length === 0, ops, bytes: 2 * moved, errors,
        details: { devices: devs.length, packets: packets * devs.length, received: devs.reduce((a, d) => a + d.got, 0) },
      };
    },
  };
}
