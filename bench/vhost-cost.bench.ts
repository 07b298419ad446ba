/**
 * Where the time of vhost behind a vIOMMU goes against vhost without one
 * (issue 11's 1.25x target; bench/RESULTS.md section 7), steady working set,
 * one worker, asynchronous kicks. Run:
 *   npm run build:test && node .build/bench/vhost-cost.bench.js [pairs] [packets] [sync]
 *
 * Pairs: the two configurations back to back in one process, alternating
 * which goes first. Per configuration, medians over the pairs of: wall
 * µs/packet; the machine thread's CPU time and run-queue wait (runnable but
 * not running: other load) per packet, and the vhost worker thread's CPU
 * time, from /proc/<pid>/task/<tid>/schedstat (Linux); and the per-pair
 * ratios. Then, in an untimed pass, the machine thread's calls per packet
 * of the methods of the classes on the DMA path (guest driver and DMA API,
 * CPU address spaces, settle point, vhost rounds, VT-d, MSI-X, DMA oracle):
 * a count that does not depend on the machine's load. Wall-clock figures;
 * nothing here is asserted.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { SettlePoint } from '../src/base/settle-point.js';
import { VHOST_BENCH_CONFIGS, runVhostBenchCase, type VhostBenchOptions } from '../src/cli/bench-vhost.js';
import { DmaApi } from '../src/guest/dma/dma-api.js';
import { IommuDmaOps } from '../src/guest/dma/dma-iommu.js';
import { IovaDomain } from '../src/guest/dma/iova.js';
import { VirtioNetDriver } from '../src/guest/drivers/virtio-net.js';
import { DmaOracle } from '../src/guest/oracle/oracle.js';
import { GuestVirtqueue } from '../src/guest/virtio-core/virtqueue.js';
import { IommuMemoryRegion } from '../src/iommu/iommu-region.js';
import { IntelIommu } from '../src/iommu/vtd/intel-iommu.js';
import { VtdIommuRegion } from '../src/iommu/vtd/vtd-as.js';
import { MachineGuestPort } from '../src/machine/guest-port.js';
import { AddressSpace } from '../src/memory/address-space.js';
import { FlatView } from '../src/memory/flat-view.js';
import { MsixCapability } from '../src/pci/msix.js';
import { VhostChannel } from '../src/vhost/channel.js';
import { VhostIommuFollower } from '../src/vhost/iommu-follower.js';
import { VhostRounds } from '../src/vhost/rounds.js';

const [pairsText = '9', packetsText = '20000', kicks = 'async'] = process.argv.slice(2);
const pairs = Number(pairsText);
const packets = Number(packetsText);
const names = ['vhost-deviotlb', 'vhost-no-viommu'] as const;
const TASKS = `/proc/${process.pid}/task`;
if (!existsSync(TASKS)) throw new Error('this bench reads /proc schedstat (Linux only)');

/** [cpu µs, run-queue wait µs] of one thread. */
const schedstat = (tid: string): [number, number] => {
  const [run, wait] = readFileSync(`${TASKS}/${tid}/schedstat`, 'utf8').split(' ').map(Number);
  return [run! / 1000, wait! / 1000];
};

interface Sample { wall: number; mainRun: number; mainWait: number; workerRun: number }

function timedCase(name: string): Sample {
  const c = VHOST_BENCH_CONFIGS.find((x) => x.name === name)!;
  const old = new Set(readdirSync(TASKS));
  let s0: Record<string, [number, number]> = {};
  let s1: Record<string, [number, number]> = {};
  const snap = () => Object.fromEntries(readdirSync(TASKS).filter((t) => t === String(process.pid) || !old.has(t)).map((t) => [t, schedstat(t)]));
  const o: VhostBenchOptions = {
    packets, bytes: 256, batch: 64, workers: [1], pool: true, rounds: 1,
    around: (phase) => { if (phase === 'start') s0 = snap(); else s1 = snap(); },
  };
  const row = runVhostBenchCase(c, 1, o, kicks === 'sync' ? 'sync' : 'async');
  if (!row.ok) throw new Error(`${name}: the run failed`);
  const main = String(process.pid);
  const d = (t: string, i: number) => (s1[t]![i]! - (s0[t]?.[i] ?? 0)) / packets;
  const workers = Object.keys(s1).filter((t) => t !== main && s0[t]);
  return {
    wall: 1e6 / row.packetsPerSecond, mainRun: d(main, 0), mainWait: d(main, 1),
    workerRun: workers.reduce((a, t) => a + d(t, 0), 0),
  };
}

const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const samples: Record<string, Sample[]> = { [names[0]]: [], [names[1]]: [] };
for (let p = 0; p < pairs; p++) {
  for (const n of p % 2 === 0 ? names : [...names].reverse()) samples[n]!.push(timedCase(n));
}
console.log(`vhost cost, ${pairs} pairs of ${packets} packets, 1 worker, ${kicks} kicks (µs per packet, medians)`);
console.log('config             wall    main cpu   main rq-wait   worker cpu');
for (const n of names) {
  const s = samples[n]!;
  const f = (k: keyof Sample) => med(s.map((x) => x[k])).toFixed(2).padStart(8);
  console.log(`${n.padEnd(16)} ${f('wall')}  ${f('mainRun')}  ${f('mainWait')}     ${f('workerRun')}`);
}
const [a, b] = [samples[names[0]]!, samples[names[1]]!];
const ratio = (k: keyof Sample) => a.map((x, i) => x[k] / b[i]![k]);
console.log(`per-pair ratio ${names[0]} / ${names[1]}: wall ${med(ratio('wall')).toFixed(3)} (${ratio('wall').filter((r) => r > 1).length}/${pairs} above 1), `
  + `main cpu ${med(ratio('mainRun')).toFixed(3)} (${ratio('mainRun').filter((r) => r > 1).length}/${pairs} above 1); `
  + `worker cpu difference ${med(a.map((x, i) => x.workerRun - b[i]!.workerRun)).toFixed(2)} µs/pkt`);

// Calls per packet on the machine thread, counted by wrapping the classes' methods during the timed run only.
const counts = new Map<string, number>();
let counting = false;
const classes: [string, { prototype: object }][] = Object.entries({
  SettlePoint, DmaApi, IommuDmaOps, IovaDomain, VirtioNetDriver, DmaOracle, GuestVirtqueue, IommuMemoryRegion, IntelIommu,
  VtdIommuRegion, MachineGuestPort, AddressSpace, FlatView, MsixCapability, VhostChannel, VhostIommuFollower, VhostRounds,
});
for (const [cname, C] of classes) {
  const proto = C.prototype as Record<string, unknown>;
  for (const k of Object.getOwnPropertyNames(proto)) {
    const desc = Object.getOwnPropertyDescriptor(proto, k)!;
    if (k === 'constructor' || typeof desc.value !== 'function') continue;
    const f = desc.value as (...args: unknown[]) => unknown;
    Object.defineProperty(proto, k, {
      ...desc,
      value: function (this: { name?: unknown }, ...args: unknown[]): unknown {
        if (counting) {
          const key = `${cname}.${k}${cname === 'AddressSpace' ? ` [${String(this.name)}]` : ''}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
        return f.apply(this, args);
      },
    });
  }
}
const perPacket: Record<string, Map<string, number>> = {};
for (const n of names) {
  counts.clear();
  const c = VHOST_BENCH_CONFIGS.find((x) => x.name === n)!;
  runVhostBenchCase(c, 1, { packets: 6400, bytes: 256, batch: 64, workers: [1], pool: true, rounds: 1, around: (ph) => { counting = ph === 'start'; } });
  perPacket[n] = new Map([...counts].map(([k, v]) => [k, v / 6400]));
}
const keys = [...new Set(names.flatMap((n) => [...perPacket[n]!.keys()]))].sort();
const total = (n: string) => [...perPacket[n]!.values()].reduce((x, y) => x + y, 0);
console.log(`\nmachine-thread method calls per packet (6400 packets): ${names[0]} ${total(names[0]).toFixed(2)}, ${names[1]} ${total(names[1]).toFixed(2)}`);
for (const k of keys) {
  const [x, y] = names.map((n) => perPacket[n]!.get(k) ?? 0);
  if (x !== y) console.log(`  differs: ${k}  ${x!.toFixed(4)} / ${y!.toFixed(4)}`);
}
