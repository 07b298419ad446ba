import t from 'tap';
import { bootMachine } from '../../src/cli/boot.js';
import { VirtioNetDriver, VIRTIO_NET_HDR_LEN } from '../../src/guest/drivers/virtio-net.js';
import type { GuestKernel } from '../../src/guest/kernel.js';
import { echoFrame } from '../../src/guest/workload/traffic.js';
import { notifierFlagsName } from '../../src/iommu/notifier.js';
import { IOMMU_NONE } from '../../src/memory/iommu-types.js';
import { parseCmdline } from '../../src/machine/cmdline.js';
import { Machine } from '../../src/machine/machine.js';
import { VirtioNetPci } from '../../src/virtio/net/virtio-net-pci.js';
import { vhostNetOf } from '../../src/vhost/api.js';
import type { VhostNet } from '../../src/vhost/vhost-net.js';
import { bootNet, guestNet } from './helpers.js';

const Q35 = ['-M', 'q35', '-device', 'intel-iommu,device-iotlb=on'];
const port = (i: number) => ['-device', `pcie-root-port,id=rp${i},chassis=${i + 1}`];
const vhostNet = (i: number) => ['-device', `virtio-net-pci,id=net${i},bus=rp${i},vhost=on,iommu_platform=on,ats=on`];
const ONE = [...Q35, ...port(0), ...vhostNet(0)];
const TWO = [...ONE, ...port(1), ...vhostNet(1)];
/** Offset of the data in the test frame (traffic.ts). */
const DATA = 30;

function fnv(h: number, f: Uint8Array): number {
  for (const b of f) h = Math.imul(h ^ b, 0x01000193);
  return h >>> 0;
}

function driverOf(k: GuestKernel): VirtioNetDriver {
  return k.drivers.drivers.find((d): d is VirtioNetDriver => d instanceof VirtioNetDriver)!;
}

function vhostOf(m: Machine): VhostNet {
  return m.pciDevices().map(vhostNetOf).find((x) => x)!;
}

/** `n` ECHO frames of `bytes` bytes, data from `fill`. */
function frames(mac: Uint8Array, n: number, first: number, fill = 0): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => echoFrame(mac, first + i, new Uint8Array(64).fill((fill + i) & 0xff)));
}

/** Two vhost devices under traffic: every frame each peer got (FNV over the sequence), counters, the event log. */
function twoWorkerRun(seed: number) {
  const m = Machine.create(parseCmdline(TWO).config);
  const nets = m.pciDevices().filter((d): d is VirtioNetPci => d instanceof VirtioNetPci);
  const sums = nets.map(() => 0x811c9dc5);
  nets.forEach((d, i) => {
    const peer = d.net.peer;
    const deliver = peer.deliver.bind(peer);
    peer.deliver = (f) => {
      sums[i] = fnv(sums[i]!, f);
      deliver(f);
    };
  });
  let both = 0;
  const sp = m.settlePoint;
  const started = sp.started.bind(sp);
  sp.started = (b) => {
    started(b);
    if (sp.inFlight === 2) both++;
  };
  const report = bootMachine(m, {
    dmaMode: 'strict', seed, regress: [], workloads: [{ name: 'traffic', params: { packets: 160, batch: 16 } }],
  });
  const vs = nets.map((d) => vhostNetOf(d)!);
  const stats = vs.map((v) => v.stats);
  const log = m.log.lines.map((l) => `${l.t} ${l.source}: ${l.text}`);
  for (const v of vs) v.close();
  return { sums, stats, log, traffic: report.workloads[0]!, oracle: report.oracle, both };
}

t.test('two vhost workers run at once; the same seed gives the same packets, counters and event log', async (t) => {
  const a = twoWorkerRun(7);
  const b = twoWorkerRun(7);
  t.ok(a.traffic.ok, a.traffic.errors.join('; '));
  t.equal(a.traffic.details['received'], 320, 'every packet of both devices came back');
  t.ok(a.both > 0, 'the second device was kicked while the first one\'s round was still in flight');
  t.equal(a.oracle.violations, 0);
  t.ok(a.stats.every((s) => s.invalidates > 0 && s.misses > 0), 'strict-mode unmaps and misses on both devices');
  t.same(b.sums, a.sums, 'the frames each peer received, in order');
  t.same(b.stats, a.stats, 'packets, MISS / UPDATE / INVALIDATE counts and device-IOTLB hits');
  t.same(b.log, a.log, 'the event log, line for line');
  t.same(b.oracle, a.oracle, 'the oracle verdict');
  t.same(b.traffic, a.traffic);
  const c = twoWorkerRun(8);
  t.not(c.sums[0], a.sums[0], 'another seed sends other data');
});

t.test('the guest kicks, then unmaps the buffer before it looks: the unmap waits for the round; the re-used IOVA reaches the new page', async (t) => {
  const seen: { inFlight: boolean[]; sameIova: boolean; datas: number[][] } = { inFlight: [], sameIova: false, datas: [] };
  const b = bootNet(ONE, {
    dmaMode: 'strict',
    workloads: [{ name: 'traffic', params: { packets: 32 } }],
    scenario: (k, m) => {
      const v = vhostOf(m);
      const dev = guestNet(k);
      const inst = driverOf(k).instances.get(dev)!;
      const send = (fill: number) => {
        const f = frames(inst.mac, 1, 1000 + fill, fill)[0]!;
        const len = VIRTIO_NET_HDR_LEN + f.length;
        const paddr = k.mem.alloc(4096)!;
        const buf = new Uint8Array(len);
        buf.set(f, VIRTIO_NET_HDR_LEN);
        k.port.writeBytes(paddr, buf);
        const dma = k.dma.mapSingle(dev, paddr, len, 'to-device');
        inst.tx.add([{ addr: dma, len }], [], { paddr, dma, len });
        inst.tx.kick();
        return { paddr, dma, len };
      };
      const a = send(0x11);
      seen.inFlight.push(v.roundInFlight);
      // A guest that takes the buffer back while the device owns it: the unmap's invalidation must not
      // complete while the round that may use the translation runs.
      k.dma.unmapSingle(dev, a.dma, a.len, 'to-device');
      seen.inFlight.push(v.roundInFlight);
      k.port.advance(1_000_000);
      const c = send(0x22);
      seen.sameIova = c.dma === a.dma;
      for (let u = inst.tx.getBuf(); u; u = inst.tx.getBuf()) void u;
      k.dma.unmapSingle(dev, c.dma, c.len, 'to-device');
      k.mem.freePages(a.paddr, 4096);
      k.mem.freePages(c.paddr, 4096);
      seen.datas = driverOf(k).receive(dev).map((f) => [f[DATA]!, f[DATA + 63]!]);
    },
  });
  t.same(seen.inFlight, [true, false], 'in flight after the kick, completed by the time the unmap returned');
  t.same(seen.datas, [[0x11, 0x11], [0x22, 0x22]], 'the first frame from the first page, the second from the second page');
  t.ok(seen.sameIova, 'the second buffer got the unmapped IOVA back (the case a stale device-IOTLB entry would break)');
  t.equal(b.report.oracle.violations, 0, 'no stale translation');
  t.ok(b.traffic?.ok, b.traffic?.errors.join('; ') ?? 'no traffic result');
});

t.test('an IOMMU invalidation with a round in flight completes the round before INVALIDATE goes to the worker', async (t) => {
  const seen = { inFlight: [] as boolean[], delivered: 0, missesBefore: 0, missesAfter: 0, flags: [] as string[] };
  const b = bootNet(ONE, {
    dmaMode: 'lazy',
    workloads: [{ name: 'traffic', params: { packets: 16, pool: 'true' } }],
    scenario: (k, m) => {
      const v = vhostOf(m);
      const dev = guestNet(k);
      const drv = driverOf(k);
      drv.pooled = true;
      const inst = drv.instances.get(dev)!;
      const peer = (m.pciDevices().find((d) => d instanceof VirtioNetPci) as VirtioNetPci).net.peer;
      t.equal(drv.queueTx(dev, frames(inst.mac, 8, 0)), 8);
      const before = peer.counters.received;
      drv.kickTx(dev);
      seen.inFlight.push(v.roundInFlight);
      drv.queueTx(dev, frames(inst.mac, 8, 8));
      const received = peer.counters.received;
      drv.kickTx(dev);
      seen.inFlight.push(v.roundInFlight);
      // What a vIOMMU does on an invalidation: an UNMAP (DEVIOTLB_UNMAP here: ATS is on) to the device's notifiers, whole range.
      for (const e of v.follower.entries) {
        e.mr.deliver(e.n, {
          type: e.n.notifierFlags,
          entry: { targetAs: null, iova: e.n.start, translatedAddr: 0n, addrMask: e.n.end - e.n.start, perm: IOMMU_NONE },
        });
      }
      seen.flags = v.follower.entries.map((e) => notifierFlagsName(e.n.notifierFlags));
      seen.inFlight.push(v.roundInFlight);
      seen.delivered = peer.counters.received - received;
      t.equal(received - before, 8, 'the first batch went out at the sync point');
      drv.receive(dev);
      const m0 = v.stats.misses;
      drv.xmit(dev, frames(inst.mac, 4, 16));
      drv.receive(dev);
      seen.missesBefore = m0;
      seen.missesAfter = v.stats.misses;
    },
  });
  t.same(seen.inFlight, [true, true, false]);
  t.same(seen.flags, ['DEVIOTLB_UNMAP', 'DEVIOTLB_UNMAP']);
  t.equal(seen.delivered, 8, 'the round in flight finished (its frames reached the wire) before the invalidation returned');
  t.ok(seen.missesAfter > seen.missesBefore, 'after the INVALIDATE, the next TX round misses again: no entry survived it');
  t.equal(b.report.oracle.violations, 0);
  t.ok(b.traffic?.ok, b.traffic?.errors.join('; ') ?? 'no traffic result');
});

/** Queues 8 frames and kicks: a round in flight. */
function kickInFlight(k: GuestKernel, m: Machine) {
  const dev = guestNet(k);
  const drv = driverOf(k);
  const inst = drv.instances.get(dev)!;
  const net = (m.pciDevices().find((d) => d instanceof VirtioNetPci) as VirtioNetPci);
  drv.queueTx(dev, frames(inst.mac, 8, 0));
  const before = net.net.peer.counters.received;
  drv.kickTx(dev);
  return { dev, drv, net, v: vhostOf(m), before, inFlight: vhostOf(m).roundInFlight };
}

t.test('reset with a round in flight: the round completes first, then the backend stops; traffic resumes after the next probe', async (t) => {
  const seen = { inFlight: false, sent: 0, started: true };
  const b = bootNet(ONE, {
    workloads: [{ name: 'traffic', params: { packets: 40 } }],
    scenario: (k, m) => {
      const r = kickInFlight(k, m);
      seen.inFlight = r.inFlight;
      k.drivers.unbind(r.dev);
      seen.started = r.v.started;
      seen.sent = r.net.net.peer.counters.received - r.before;
      k.drivers.bind(r.dev);
    },
  });
  t.ok(seen.inFlight);
  t.notOk(seen.started, 'stopped');
  t.equal(seen.sent, 8, 'the round in flight was not cut short');
  t.ok(b.traffic?.ok, b.traffic?.errors.join('; ') ?? 'no traffic result');
  t.same(b.vhost!.errors, []);
  t.equal(b.report.oracle.violations, 0);
});

t.test('system_reset and unplug with a round in flight: completed, then stopped; no thread left waiting', async (t) => {
  for (const how of ['system_reset', 'unplug'] as const) {
    const seen = { inFlight: false, sent: 0, started: true, state: '', pending: -1 };
    const b = bootNet(ONE, {
      workloads: [],
      scenario: (k, m) => {
        const r = kickInFlight(k, m);
        seen.inFlight = r.inFlight;
        if (how === 'system_reset') m.reset();
        else r.net.unrealize();
        seen.sent = r.net.net.peer.counters.received - r.before;
        seen.started = r.v.started;
        seen.pending = m.settlePoint.inFlight;
        seen.state = r.v.workerState;
      },
    });
    t.ok(seen.inFlight, `${how}: in flight before`);
    t.equal(seen.sent, 8, `${how}: the round finished first`);
    t.notOk(seen.started, `${how}: backend stopped`);
    t.equal(seen.pending, 0, `${how}: nothing left for the settle point`);
    if (how === 'unplug') t.equal(seen.state, 'none', 'unplug: the worker thread ended');
    t.equal(b.report.oracle.violations, 0);
    b.vhost?.close();
  }
});
