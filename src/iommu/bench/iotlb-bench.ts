import { ConfigError, Xorshift32, type TraceSink } from '../../base/index.js';
import { IOMMU_RO, MemorySystem, type AddressSpace } from '../../memory/index.js';
import type { CoherenceMode } from '../coherence/shootdown-bus.js';
import type { Iotlb, IotlbPolicy } from '../iotlb/iotlb.js';
import { TranslationPool } from '../pool/pool.js';
import { IntelIommu } from '../vtd/intel-iommu.js';
import { DMAR_GCMD_REG, DMAR_GSTS_REG, DMAR_RTADDR_REG, VTD_GCMD_SRTP, VTD_GCMD_TE } from '../vtd/vtd-regs.js';
import {
  DATA_BASE_PAGE, WORKLOAD_DEFAULT_SEED, IOVA_BASE_PAGE, workloadChecksum, workloadMapping, workloadStream, type WorkloadParams,
} from './iotlb-workload.js';
import { VtdGuestTables } from './vtd-guest-tables.js';
import { viommuBenchMachine } from '../virtio-iommu/bench.js';
import { spaprBenchMachine } from '../spapr/bench-setup.js';
import { smmuBenchMachine } from './smmu-bench.js';

/** The vIOMMU models `viommu bench iotlb --iommu` runs the workload through. */
export const BENCH_IOMMUS = ['vtd', 'smmuv3', 'virtio-iommu', 'spapr'] as const;

/** Defaults of IOTLB-WORKLOAD.md, plus this implementation's IOTLB shape. */
export const BENCH_DEFAULTS: IotlbBenchOptions = {
  pages: 65536, ws: 1024, ops: 20_000_000, pattern: 'random', seed: WORKLOAD_DEFAULT_SEED, workers: 0, iommu: 'vtd',
  capacity: 4096, ways: 4, policy: 'fifo', coherence: 'shootdown',
};
export type BenchIommu = (typeof BENCH_IOMMUS)[number];

/** The options of `viommu bench iotlb` (the workload's parameters plus the IOTLB's shape and the workers). */
export interface IotlbBenchOptions extends WorkloadParams {
  readonly workers: number;
  readonly iommu: string;
  /** IOTLB entries per translating thread. */
  readonly capacity: number;
  readonly ways: number;
  readonly policy: IotlbPolicy;
  readonly coherence: CoherenceMode;
}

/** What `viommu bench iotlb --json` prints: the options used, timings and the IOTLB's counters. */
export interface IotlbBenchResult {
  readonly workload: string;
  readonly pages: number;
  readonly ws: number;
  readonly pattern: string;
  readonly seed: number;
  readonly ops: number;
  readonly seconds: number;
  readonly translations_per_s: number;
  readonly hits: number;
  readonly misses: number;
  readonly evictions: number;
  readonly faults: number;
  readonly checksum: number;
  readonly workers: number;
  readonly iommu: string;
  /** IOTLB entries per translating thread (the calling thread, or each worker). */
  readonly iotlb_capacity: number;
  readonly iotlb_ways: number;
  readonly iotlb_policy: string;
  /** Valid IOTLB entries at the end, summed over the translating threads. */
  readonly iotlb_entries_used: number;
  readonly coherence: string;
}

/** Where the guest's page tables go (as in the native anchors): 1 MiB up to the data pages. */
const PT_BASE = 0x100000;
/** The bench device: 00:03.0, domain 1. */
const BENCH_SID = 0x18;
const BENCH_DID = 1;
/** Translations per translateBatch call (a worker polls for invalidations between chunks). */
export const CHUNK = 4096;

export function checkBenchOptions(o: IotlbBenchOptions): void {
  const int = (name: string, v: number, min: number, max: number) => {
    if (!Number.isSafeInteger(v) || v < min || v > max) throw new ConfigError(`--${name}`, `${v} is not an integer in ${min}..${max}`);
  };
  int('pages', o.pages, 1, 1 << 22);
  int('ws', o.ws, 1, o.pages);
  int('ops', o.ops, 1, 1 << 28);
  int('seed', o.seed, 0, 0xffffffff);
  int('workers', o.workers, 0, 32);
  if (o.pattern !== 'random' && o.pattern !== 'seq') throw ConfigError.unknown('--pattern', 'pattern', o.pattern, ['random', 'seq']);
  if (!(BENCH_IOMMUS as readonly string[]).includes(o.iommu)) throw ConfigError.unknown('--iommu', 'IOMMU', o.iommu, BENCH_IOMMUS);
}

/**
 * The guest's register programming (as Linux's iommu_enable_translation
 * and kvm-unit-tests vtd_gcmd_or do): root table address, SRTP, then TE,
 * each GCMD write carrying GSTS | the new bit, through the register
 * block's MMIO.
 */
function enableTranslation(regs: AddressSpace, root: number): void {
  regs.write(DMAR_RTADDR_REG, 8, root % 0x1_0000_0000, Math.floor(root / 0x1_0000_0000));
  regs.write(DMAR_GCMD_REG, 4, (regs.ld32(DMAR_GSTS_REG) | VTD_GCMD_SRTP) >>> 0);
  regs.write(DMAR_GCMD_REG, 4, ((regs.ld32(DMAR_GSTS_REG) & ~VTD_GCMD_SRTP) | VTD_GCMD_TE) >>> 0);
  if (!(regs.ld32(DMAR_GSTS_REG) & VTD_GCMD_TE)) throw new Error('bench: VT-d translation did not come on');
}

/**
 * A machine with guest RAM and the VT-d model (intel-iommu, aw-bits 48),
 * set up as a guest would: root, context and 4-level second-level tables
 * written into RAM, translation enabled through the registers. The timed
 * loop translates through the device's address space (context cache, then
 * the IOTLB and walker), as the device's DMA does.
 */
export function benchMachine(o: IotlbBenchOptions) {
  const sys = new MemorySystem();
  const system = sys.container('system', 1n << 64n);
  const memory = sys.addressSpace(system, 'memory');
  const ramSize = (DATA_BASE_PAGE + o.pages) * 4096;
  system.addSubregion(sys.ram('pc.ram', ramSize), 0);
  const iotlbOpts = { capacity: o.capacity, ways: o.ways, policy: o.policy };
  const vtd = new IntelIommu({ sys, system, memory, props: { awBits: 48 }, iotlb: iotlbOpts, coherence: o.coherence, contexts: 64 });
  const regs = sys.addressSpace(vtd.mmio, 'bench-cpu');
  const rng = new Xorshift32(o.seed);
  const perm = workloadMapping(o.pages, rng);
  const tables = new VtdGuestTables(memory, PT_BASE, DATA_BASE_PAGE * 4096);
  const slpt = tables.attach(BENCH_SID >> 8, BENCH_SID & 0xff, BENCH_DID);
  for (let i = 0; i < o.pages; i++) tables.map(slpt, (IOVA_BASE_PAGE + i) * 4096, (DATA_BASE_PAGE + perm[i]!) * 4096);
  enableTranslation(regs, tables.root);
  const dev = vtd.addressSpace({ number: BENCH_SID >> 8 }, BENCH_SID & 0xff);
  // The device's context entry through the context cache (what its first DMA does), without touching the IOTLB.
  const fault = vtd.lookupContext(dev);
  if (fault) throw new Error(`bench context set-up failed: VT-d fault reason 0x${fault.toString(16)}`);
  const stream = workloadStream(o, rng);
  return { sys, memory, vtd, dev, ctx: dev.ctx, ram: vtd.ram, engine: vtd.engine, coherence: vtd.coherence, stream, iotlbOpts };
}

/**
 * Runs the standard IOTLB workload: set-up (untimed) builds the guest's
 * tables and the stream; the timed part translates the stream through the
 * engine on this thread (workers = 0) or through the worker pool.
 */
export async function runIotlbBench(o: IotlbBenchOptions, trace?: TraceSink): Promise<IotlbBenchResult> {
  checkBenchOptions(o);
  if (trace && o.workers !== 0) throw new ConfigError('--trace', 'records the calling thread\'s IOTLB: use --workers 0');
  if (trace && o.iommu === 'virtio-iommu') throw new ConfigError('--trace', 'the virtio-iommu bench translates through its own mapping trees, which have no trace hooks');
  if (o.iommu === 'virtio-iommu') return runViommuBench(o);
  // sPAPR: a DDW made with ibm,create-pe-dma-window, mapped with H_PUT_TCE_INDIRECT (spapr/bench-setup.ts).
  const m = o.iommu === 'spapr' ? spaprBenchMachine(o) : o.iommu === 'smmuv3' ? smmuBenchMachine(o) : benchMachine(o);
  const out = new Float64Array(new SharedArrayBuffer(o.ops * 8));
  out.fill(-1); // touch every page before timing
  if (trace) return tracedRun(o, m, out, trace);
  if (o.workers === 0) {
    const t0 = performance.now();
    let faults = 0;
    // VT-d goes through the device's address space (context cache first); the others' contexts are the table's.
    const batch = 'vtd' in m
      ? (k0: number, k1: number) => m.vtd.translateBatch(m.dev, IOMMU_RO, m.stream, k0, k1, out)
      : (k0: number, k1: number) => m.engine.translateBatch(m.ctx, IOMMU_RO, m.stream, k0, k1, out);
    for (let k = 0; k < o.ops; k += CHUNK) faults += batch(k, Math.min(o.ops, k + CHUNK));
    const seconds = (performance.now() - t0) / 1000;
    const t = m.engine.iotlb;
    return result(o, seconds, t.hits, t.misses, t.evictions, faults, workloadChecksum(out, o.ops), t.capacity, t.entries);
  }
  const pool = await TranslationPool.start({ workers: o.workers, ram: m.ram, coherence: m.coherence, iotlb: m.iotlbOpts });
  try {
    const t0 = performance.now();
    const { faults } = await pool.translate(m.ctx, IOMMU_RO, m.stream, out);
    const seconds = (performance.now() - t0) / 1000;
    const sum = (f: (t: Iotlb) => number) => pool.iotlbs.reduce((a, t) => a + f(t), 0);
    return result(o, seconds, sum((t) => t.hits), sum((t) => t.misses), sum((t) => t.evictions), faults,
      workloadChecksum(out, o.ops), pool.iotlbs[0]!.capacity, sum((t) => t.entries));
  } finally {
    await pool.close();
  }
}

/**
 * The calling-thread run with the machine's tracer on. The bench has no
 * machine clock: its trace's time axis is the position in the stream (one
 * virtual ns per translation), stepped one hit pass (1024 translations) at
 * a time, so each pass's misses, fills and faults are one event at the
 * index of its first translation. Timed like the others, but the figure
 * includes the tracing.
 */
function tracedRun(o: IotlbBenchOptions, m: ReturnType<typeof benchMachine> | ReturnType<typeof smmuBenchMachine> | ReturnType<typeof spaprBenchMachine>,
  out: Float64Array, trace: TraceSink): IotlbBenchResult {
  let k = 0;
  m.sys.tracer.attach(trace, () => k);
  const step = 1024;
  const t0 = performance.now();
  let faults = 0;
  try {
    for (; k < o.ops; k += step) {
      const end = Math.min(o.ops, k + step);
      faults += 'vtd' in m ? m.vtd.translateBatch(m.dev, IOMMU_RO, m.stream, k, end, out) : m.engine.translateBatch(m.ctx, IOMMU_RO, m.stream, k, end, out);
    }
  } finally {
    m.sys.tracer.detach();
  }
  const seconds = (performance.now() - t0) / 1000;
  const t = m.engine.iotlb;
  return result(o, seconds, t.hits, t.misses, t.evictions, faults, workloadChecksum(out, o.ops), t.capacity, t.entries);
}

/** The workload on the virtio-iommu model: MAP requests set it up, the device's IOTLB and mapping trees translate. */
function runViommuBench(o: IotlbBenchOptions): IotlbBenchResult {
  const m = viommuBenchMachine({ ...o, iotlb: { capacity: o.capacity, ways: o.ways, policy: o.policy } });
  const out = new Float64Array(o.ops);
  out.fill(-1);
  const t0 = performance.now();
  const faults = m.run(out);
  const seconds = (performance.now() - t0) / 1000;
  const t = m.dev.iotlb;
  return result(o, seconds, t.hits, t.misses, t.evictions, faults, workloadChecksum(out, o.ops), t.capacity, t.entries);
}

export function result(o: IotlbBenchOptions, seconds: number, hits: number, misses: number, evictions: number, faults: number,
  checksum: number, capacity: number, used: number): IotlbBenchResult {
  return {
    workload: 'iotlb-std/1', pages: o.pages, ws: o.ws, pattern: o.pattern, seed: o.seed, ops: o.ops, seconds,
    translations_per_s: Math.round(o.ops / seconds), hits, misses, evictions, faults, checksum, workers: o.workers,
    iommu: o.iommu, iotlb_capacity: capacity, iotlb_ways: o.ways,
    iotlb_policy: o.policy, iotlb_entries_used: used, coherence: o.coherence,
  };
}
