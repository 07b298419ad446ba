import { VirtioNetDriver } from '../guest/drivers/virtio-net.js';
import { pciEnableAts } from '../guest/pci-core/ats.js';
import { trafficWorkload } from '../guest/workload/traffic.js';
import type { GuestKernel } from '../guest/kernel.js';
import { parseCmdline } from '../machine/cmdline.js';
import { Machine } from '../machine/machine.js';
import { vhostNetOf, vhostRegistration, formatVhostRegistration } from '../vhost/api.js';
import { bootMachine } from './boot.js';

/** One configuration of the vhost figure. */
export interface VhostBenchConfig {
  readonly name: string;
  readonly desc: string;
  /** QEMU arguments for `devices` virtio-net functions. */
  args(devices: number): string[];
  /** The guest turns ATS on itself (a vIOMMU that does not offer device IOTLB: the veto and UNMAP fallback). */
  readonly forceAts?: boolean;
}

const rp = (i: number) => ['-device', `pcie-root-port,id=rp${i},chassis=${i + 1}`];
const nets = (n: number, props: string, onPorts: boolean) =>
  Array.from({ length: n }, (_, i) => [...(onPorts ? rp(i) : []), '-device', `virtio-net-pci,id=net${i}${onPorts ? `,bus=rp${i}` : ''},${props}`]).flat();

export const VHOST_BENCH_CONFIGS: readonly VhostBenchConfig[] = [
  { name: 'vhost-deviotlb', desc: 'vhost, intel-iommu device-iotlb=on, guest ATS on: DEVIOTLB_UNMAP',
    args: (n) => ['-M', 'q35', '-device', 'intel-iommu,device-iotlb=on', ...nets(n, 'vhost=on,iommu_platform=on,ats=on', true)] },
  { name: 'vhost-unmap-fallback', desc: 'vhost, intel-iommu without device-iotlb, guest forces ATS on: veto, UNMAP fallback',
    args: (n) => ['-M', 'q35', '-device', 'intel-iommu', ...nets(n, 'vhost=on,iommu_platform=on,ats=on', true)], forceAts: true },
  { name: 'emulated', desc: 'emulated virtio-net (vhost=off), intel-iommu',
    args: (n) => ['-M', 'q35', '-device', 'intel-iommu', ...nets(n, 'vhost=off,iommu_platform=on', true)] },
  { name: 'vhost-no-viommu', desc: 'vhost, no vIOMMU (guest-physical rings)',
    args: (n) => ['-M', 'q35', ...nets(n, 'vhost=on', true)] },
];

export interface VhostBenchOptions {
  readonly packets: number;
  readonly bytes: number;
  readonly batch: number;
  readonly workers: readonly number[];
  /** Keep buffers mapped (a steady working set of IOVAs). */
  readonly pool: boolean;
  readonly configs?: readonly string[];
  /** Kick modes to measure: 'async' (default: a kick posts the round and returns), 'sync' (x-vhost-sync-kick=on: each kick waits). */
  readonly kicks?: readonly ('async' | 'sync')[];
  /** Rounds: every case once per round, interleaved; each row is the median round (a busy machine's noise hits all cases alike). */
  readonly rounds?: number;
  /** Called just before and just after the timed run (bench/vhost-cost.bench.ts reads thread CPU times there). */
  readonly around?: (phase: 'start' | 'stop') => void;
}

export interface VhostBenchRow {
  readonly config: string;
  readonly workers: number;
  readonly kicks: 'async' | 'sync';
  readonly packets: number;
  readonly seconds: number;
  readonly packetsPerSecond: number;
  /** Wall-clock µs per packet the machine thread spent blocked waiting for vhost workers in the timed run (0 emulated). */
  readonly waitUsPerPacket: number;
  /** Device-IOTLB hits / (hits + misses) of the vhost workers, during the timed run; undefined without a device IOTLB. */
  readonly hitRate: number | undefined;
  readonly registration: string;
  readonly ok: boolean;
}

/** Boots one configuration, warms up, then times the traffic workload (wall clock) and reads the device IOTLB counters. */
export function runVhostBenchCase(c: VhostBenchConfig, devices: number, o: VhostBenchOptions, kicks: 'async' | 'sync' = 'async'): VhostBenchRow {
  const sync = kicks === 'sync' ? ['-global', 'virtio-net-pci.x-vhost-sync-kick=on'] : [];
  const m = Machine.create(parseCmdline([...c.args(devices), ...sync]).config);
  const vhosts = () => m.pciDevices().map(vhostNetOf).filter((v) => v !== undefined);
  const counters = () => vhosts().reduce((a, v) => ({ h: a.h + v.stats.iotlbHits, m: a.m + v.stats.iotlbMisses, w: a.w + v.workerWaitMs }), { h: 0, m: 0, w: 0 });
  let seconds = 0;
  let before = { h: 0, m: 0, w: 0 };
  let after = { h: 0, m: 0, w: 0 };
  const timed = (k: GuestKernel) => {
    const w = trafficWorkload(k.drivers.drivers.find((d): d is VirtioNetDriver => d instanceof VirtioNetDriver)!);
    return {
      ...w, name: 'timed-traffic',
      run: (ctx: Parameters<typeof w.run>[0]) => {
        // The DMA path alone: the oracle's feed is off while timing (the warm-up run above is checked).
        const taps = m.pciDevices().map((d) => [d, d.busMaster.as.observer, vhostNetOf(d)?.observer] as const);
        for (const [d, , v] of taps) {
          d.busMaster.as.observer = undefined;
          const x = vhostNetOf(d);
          if (x && v) x.observer = undefined;
        }
        before = counters();
        o.around?.('start');
        const t0 = performance.now();
        const r = w.run(ctx);
        seconds = (performance.now() - t0) / 1000;
        o.around?.('stop');
        after = counters();
        for (const [d, o, v] of taps) {
          d.busMaster.as.observer = o;
          const x = vhostNetOf(d);
          if (x) x.observer = v;
        }
        return r;
      },
    };
  };
  const params = { packets: o.packets, bytes: o.bytes, batch: o.batch, pool: o.pool };
  const report = bootMachine(m, {
    dmaMode: 'lazy', seed: 1, regress: [], extraWorkloads: [timed],
    workloads: [{ name: 'traffic', params: { ...params, packets: Math.min(256, o.packets) } }, { name: 'timed-traffic', params }],
    ...(c.forceAts ? { scenario: (k: GuestKernel) => {
      for (const d of k.devices) if (d.pci?.vendor === 0x1af4 && d.pci.device === 0x1041) pciEnableAts(d.pci, 12);
    } } : {}),
  });
  const v = vhosts();
  const lookups = after.h - before.h + after.m - before.m;
  const packets = o.packets * devices;
  const row: VhostBenchRow = {
    config: c.name, workers: devices, kicks, packets, seconds, packetsPerSecond: packets / seconds,
    waitUsPerPacket: (1000 * (after.w - before.w)) / packets,
    hitRate: lookups > 0 && v.length ? (after.h - before.h) / lookups : undefined,
    registration: v.length ? formatVhostRegistration(vhostRegistration(v[0]!)) : 'emulated',
    ok: report.workloads.every((w) => w.ok) && report.oracle.violations === 0,
  };
  for (const x of v) x.close();
  return row;
}

export function runVhostBench(o: VhostBenchOptions): VhostBenchRow[] {
  const modes = o.kicks ?? ['async'];
  const cases = VHOST_BENCH_CONFIGS.filter((c) => !o.configs || o.configs.includes(c.name))
    .flatMap((c) => modes.filter((k) => k === 'async' || c.name !== 'emulated').flatMap((k) => o.workers.map((n) => [c, n, k] as const)));
  const runs = cases.map((): VhostBenchRow[] => []);
  for (let r = 0; r < Math.max(1, o.rounds ?? 1); r++) cases.forEach(([c, n, k], i) => runs[i]!.push(runVhostBenchCase(c, n, o, k)));
  return runs.map((rs) => {
    const sorted = [...rs].sort((a, b) => a.packetsPerSecond - b.packetsPerSecond);
    return { ...sorted[Math.floor(sorted.length / 2)]!, ok: rs.every((x) => x.ok) };
  });
}

/** Throughput of `a` over `b` for the same worker count (undefined when either is missing). */
export function vhostBenchRatio(rows: readonly VhostBenchRow[], a: string, b: string, workers: number, kicks: 'async' | 'sync' = 'async'): number | undefined {
  const x = rows.find((r) => r.config === a && r.workers === workers && r.kicks === kicks);
  const y = rows.find((r) => r.config === b && r.workers === workers && r.kicks === kicks);
  return x && y ? y.packetsPerSecond / x.packetsPerSecond : undefined;
}

/** Packets/s of the `workers`-worker row over the 1-worker row of the same config and kick mode. */
export function vhostWorkerScaling(rows: readonly VhostBenchRow[], config: string, workers: number, kicks: 'async' | 'sync' = 'async'): number | undefined {
  const one = rows.find((r) => r.config === config && r.workers === 1 && r.kicks === kicks);
  const n = rows.find((r) => r.config === config && r.workers === workers && r.kicks === kicks);
  return one && n ? n.packetsPerSecond / one.packetsPerSecond : undefined;
}

export function formatVhostBench(rows: readonly VhostBenchRow[], o: VhostBenchOptions): string {
  const lines = [`viommu bench vhost (${o.packets} packets/device, ${o.bytes} data bytes, batch ${o.batch}, ${o.pool ? 'pooled buffers (steady working set)' : 'map/unmap per packet'}, lazy DMA mode)`];
  lines.push('config                 workers  kicks  packets/s  wait µs/pkt  IOTLB hit rate  ok   notifiers');
  for (const r of rows) {
    lines.push(`${r.config.padEnd(22)} ${String(r.workers).padStart(7)}  ${r.kicks.padEnd(5)}  ${Math.round(r.packetsPerSecond).toString().padStart(9)}  ${r.waitUsPerPacket.toFixed(2).padStart(11)}  ${(r.hitRate === undefined ? '-' : (100 * r.hitRate).toFixed(2) + '%').padStart(14)}  ${(r.ok ? 'yes' : 'NO').padEnd(4)} ${r.registration}`);
  }
  for (const k of o.kicks ?? ['async']) {
    for (const n of o.workers) {
      for (const a of ['vhost-deviotlb', 'vhost-unmap-fallback']) {
        const q = vhostBenchRatio(rows, a, 'vhost-no-viommu', n, k);
        if (q !== undefined) lines.push(`${a} vs vhost-no-viommu at ${n} worker${n > 1 ? 's' : ''} (${k} kicks): time per packet ${q.toFixed(2)}x (target <= 1.25x)`);
      }
    }
    for (const n of o.workers.filter((x) => x > 1)) {
      const parts = VHOST_BENCH_CONFIGS.map((c) => [c.name, vhostWorkerScaling(rows, c.name, n, k)] as const).filter(([, q]) => q !== undefined);
      if (parts.length) lines.push(`packets/s at ${n} workers over 1 (${k} kicks): ${parts.map(([c, q]) => `${c} ${q!.toFixed(2)}x`).join(', ')}`);
    }
  }
  return lines.join('\n') + '\n';
}
