/**
 * The result of `viommu matrix` as a typed value (issue 11): every
 * combination of vIOMMU x consumer x guest ATS x scenario, in the fixed
 * model and in the regression modes, each cell judged works / refused /
 * broken. `runMatrix(opts): Promise<MatrixResult>` (run.ts) produces it;
 * the terminal table, --json, --md and the HTML/SVG report all read this
 * shape and nothing else. JSON-safe: no bigint, no class instances.
 */

/** The vIOMMU column: a board and the options that decide which notifier flags it accepts (ref qemu-core.md section 4). */
export type MatrixViommuId =
  | 'intel-iommu,caching-mode=on,device-iotlb=on'
  | 'intel-iommu,caching-mode=on,device-iotlb=off'
  | 'intel-iommu,caching-mode=off,device-iotlb=on'
  | 'intel-iommu,caching-mode=off,device-iotlb=off'
  | 'smmuv3,ats=on'
  | 'smmuv3,ats=off'
  | 'virtio-iommu'
  | 'spapr-tce'
  | 'none';

/** The DMA consumer under test; new consumers plug in through consumer.ts (MatrixConsumer). */
export type MatrixConsumerId = string;

/** Built-in consumers, in table order. */
export type BuiltinConsumerId = 'vhost-net' | 'virtio-net' | 'vfio' | 'edu';

/** The scenarios a cell runs (viommu matrix --help describes each). */
export type MatrixScenarioId = 'steady' | 'churn-strict' | 'churn-lazy' | 'hotplug' | 'bind-unbind';

/**
 * Which code runs: 'fixed' is today's behaviour; the others re-create a
 * historical bug so the matrix shows that it catches it:
 * 'x-vhost-iotlb-fallback=off' (seed 002: a DEVIOTLB veto fails vhost),
 * 'seed000' (sPAPR release_ownership lost: host driver rebind fails),
 * 'seed004' (VFIO sPAPR unsets a window before clearing its TCEs).
 */
export type MatrixMode = 'fixed' | 'x-vhost-iotlb-fallback=off' | 'seed000' | 'seed004';

/** A cell's verdict: works (with its notifier flags), refused (with the message), broken (with what broke). */
export type CellStatus = 'works' | 'refused' | 'broken';

/** Why a cell is broken (several can hold at once). */
export interface CellBreakage {
  /** DMA oracle violations (stale translation, spurious fault, isolation). */
  readonly oracleViolations: number;
  /** The scenario did not finish within its virtual-time bound. */
  readonly hang: boolean;
  /** Data moved by DMA came back different, or a transfer the guest expected to work failed. */
  readonly wrongData: number;
  /** The first few problems, in words (oracle messages, workload errors). */
  readonly details: readonly string[];
}

/** What a cell counted while it ran. */
export interface CellCounts {
  /** DMA accesses the oracle checked, and how they ended. */
  readonly dmaChecked: number;
  readonly dmaOk: number;
  readonly dmaFaults: number;
  /** Guest-level operations the scenario performed (transfers, packets, map/unmap pairs, plug cycles). */
  readonly ops: number;
  readonly bytes: number;
  /** IOMMU notifier events the consumer received: MAP, UNMAP, DEVIOTLB_UNMAP. */
  readonly mapEvents: number;
  readonly unmapEvents: number;
  readonly devIotlbEvents: number;
  /** Virtual time the scenario took, nanoseconds. */
  readonly virtualNs: number;
}

/** One cell of the matrix: a vIOMMU x consumer x guest ATS x scenario x mode combination and its outcome. */
export interface MatrixCell {
  /** Stable key "viommu|consumer|ats=on|scenario|mode", used for sharding and for comparing with the expected file. */
  readonly key: string;
  readonly viommu: MatrixViommuId;
  readonly consumer: MatrixConsumerId;
  /** Guest ATS: the guest enables the PCIe ATS capability where the device offers one. */
  readonly ats: boolean;
  readonly scenario: MatrixScenarioId;
  readonly mode: MatrixMode;
  readonly status: CellStatus;
  /** Notifier flags the consumer ended up registered with ("MAP|UNMAP", "DEVIOTLB_UNMAP", "UNMAP", "none"), when it works. */
  readonly notifierFlags?: string;
  /** The refusal message (the vIOMMU's own veto text, or the guest's error), when refused. */
  readonly message?: string;
  /** Notes that are not failures (a fallback taken and its logged reason, "ATS not offered by the device"). */
  readonly notes?: readonly string[];
  readonly broken?: CellBreakage;
  readonly counts: CellCounts;
}

/** How many cells ran, worked, were refused, broke. */
export interface MatrixTotals {
  readonly cells: number;
  readonly works: number;
  readonly refused: number;
  readonly broken: number;
}

/** What `viommu matrix --json` prints and runMatrix() returns. */
export interface MatrixResult {
  readonly version: 1;
  /** The axes in table order (for renderers that lay out a grid). */
  readonly axes: {
    readonly viommus: readonly MatrixViommuId[];
    readonly consumers: readonly MatrixConsumerId[];
    readonly ats: readonly boolean[];
    readonly scenarios: readonly MatrixScenarioId[];
    readonly modes: readonly MatrixMode[];
  };
  /** The slice this run covered, when sharded (index is 1-based as on the command line: --shard 2/4). */
  readonly shard?: { readonly index: number; readonly count: number };
  /** The cells run, in canonical order (viommu, consumer, ats, scenario, mode). */
  readonly cells: readonly MatrixCell[];
  readonly totals: MatrixTotals;
  /** Totals per mode: the regression columns show their bug as broken cells. */
  readonly byMode: Readonly<Record<string, MatrixTotals>>;
}

/** Which slice of the matrix to run (axes, shard) and the seed. */
export interface MatrixOptions {
  /** Run only slice `index` (1-based) of `count`: a deterministic round-robin over the canonical cell order. */
  readonly shard?: { readonly index: number; readonly count: number };
  /** Restrict the axes (default: all). */
  readonly viommus?: readonly MatrixViommuId[];
  readonly consumers?: readonly MatrixConsumerId[];
  readonly scenarios?: readonly MatrixScenarioId[];
  readonly modes?: readonly MatrixMode[];
  /** Seed of the guest workloads (default 1). */
  readonly seed?: number;
  /** Called after each cell (progress bars). */
  readonly onCell?: (done: number, total: number, cell: MatrixCell) => void;
}
