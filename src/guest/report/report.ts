import type { Violation } from '../oracle/oracle.js';
import type { WorkloadResult } from '../workload/workload.js';

/** A notifier registration as the machine reports it (filled in by the machine side; the guest cannot see notifiers). */
export interface NotifierReport {
  readonly device: string;
  readonly consumer: string;
  readonly flags: string;
  readonly fallback?: string;
}

export interface DeviceReport {
  readonly bdf: string;
  readonly id: string;
  readonly class: string;
  readonly driver: string | undefined;
  readonly group: number | undefined;
  readonly domain: string | undefined;
  readonly dmaOps: string;
  readonly iommu: string | undefined;
  readonly caps: readonly string[];
  readonly bars: readonly string[];
}

export interface GroupReport {
  readonly id: number;
  readonly devices: readonly string[];
  readonly defaultDomain: string | undefined;
  readonly domain: string | undefined;
  readonly owned: boolean;
}

/** The boot report: what `viommu boot` prints (as a table) and returns with --json. */
export interface BootReport {
  readonly machine: string;
  readonly firmware: { readonly kind: string; readonly tables: readonly string[]; readonly errors: readonly string[] };
  readonly iommu: {
    readonly instances: readonly { readonly name: string; readonly driver: string; readonly fwnode: string }[];
    readonly defaultDomainType: string;
    readonly mode: 'strict' | 'lazy' | 'passthrough';
    readonly regress: readonly string[];
  };
  readonly devices: readonly DeviceReport[];
  readonly groups: readonly GroupReport[];
  notifiers: NotifierReport[];
  readonly dma: { readonly ops: number; readonly maps: number; readonly unmaps: number; readonly bytes: number; readonly faults: number; readonly errors: number; readonly bounced: number };
  readonly invalidations: {
    readonly total: number;
    readonly iotlbSyncs: number;
    readonly flushAll: number;
    readonly fqFlushes: number;
    readonly fqFull: number;
    readonly fqTimeout: number;
  };
  readonly workloads: readonly WorkloadResult[];
  readonly oracle: {
    readonly checked: number;
    readonly violations: number;
    readonly ok: number;
    readonly faults: number;
    readonly staleWindow: number;
    readonly untranslated: number;
    readonly list: readonly Violation[];
  };
  readonly virtualTimeNs: number;
  /** dmesg-style lines, in order. */
  readonly log: readonly string[];
}

/** The run failed if the oracle saw a violation or a workload failed (`viommu boot` exits non-zero). */
export function reportFailed(r: BootReport): boolean {
  return r.oracle.violations > 0 || r.workloads.some((w) => !w.ok);
}
