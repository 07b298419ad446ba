import { BENCH_DEFAULTS, runIotlbBench, type IotlbBenchOptions, type IotlbBenchResult } from '../iommu/bench/iotlb-bench.js';

/**
 * Runs the standard IOTLB workload (iotlb-std/1), as `viommu bench iotlb`:
 * guest page tables of the chosen vIOMMU for `pages` IOVA pages, then `ops`
 * translations of a stream over `ws` of them, timed (wall clock).
 *
 * @param options - any of `viommu bench iotlb`'s options; the rest take the
 *   defaults in {@link BENCH_DEFAULTS} (vtd, 65536 pages, ws 1024, 20M ops, 0 workers).
 * @returns the figures `viommu bench iotlb --json` prints (translations_per_s,
 *   hits, misses, faults, checksum, ...).
 * @throws ConfigError for a bad option (unknown IOMMU, ws > pages, ...).
 */
export function runIotlbBenchmark(options: Partial<IotlbBenchOptions> = {}): Promise<IotlbBenchResult> {
  return runIotlbBench({ ...BENCH_DEFAULTS, ...options });
}
