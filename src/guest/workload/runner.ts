import { ConfigError } from '../../base/config-error.js';
import { Xorshift32 } from '../../base/prng.js';
import type { GuestKernel } from '../kernel.js';
import { resolveParams, type ParamValue, type Workload, type WorkloadResult } from './workload.js';

/**
 * Runs named workloads with parameters and a seeded PRNG: each run gets its
 * own sub-stream (Xorshift32.fork by workload name and index), so adding a
 * workload does not change what the others do.
 */
export class WorkloadRunner {
  private readonly workloads = new Map<string, Workload>();

  constructor(private readonly kernel: GuestKernel, private readonly seed: number) {}

  register(w: Workload): void {
    this.workloads.set(w.name, w);
  }

  get names(): string[] {
    return [...this.workloads.keys()];
  }

  get(name: string): Workload {
    const w = this.workloads.get(name);
    if (!w) throw ConfigError.unknown('workload', 'workload', name, this.names);
    return w;
  }

  run(name: string, given: Readonly<Record<string, ParamValue>>, index = 0): WorkloadResult {
    const w = this.get(name);
    const params = resolveParams(w, given);
    const prng = new Xorshift32(this.seed).fork(`${name}#${index}`);
    const k = this.kernel;
    const t0 = k.clock.now();
    k.log.info('workload', `${name} start (${Object.entries(params).map(([a, b]) => `${a}=${String(b)}`).join(', ')})`);
    const r = w.run({ kernel: k, prng, params });
    k.clock.sleep(k.opts.dma.fq.timeoutNs); // idle long enough for queued invalidations to flush on their timer
    const elapsedNs = k.clock.now() - t0;
    k.log.info('workload', `${name} ${r.ok ? 'done' : 'FAILED'}: ${r.ops} DMA operations, ${r.bytes} bytes in ${(elapsedNs / 1e6).toFixed(1)} ms of virtual time`);
    for (const e of r.errors) k.log.err('workload', `${name}: ${e}`);
    return { name, elapsedNs, ...r };
  }
}
