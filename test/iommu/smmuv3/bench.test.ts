import t from 'tap';
import { BENCH_DEFAULTS, runIotlbBench, type IotlbBenchOptions } from '../../../src/iommu/index.js';
import { runViommu } from '../../../src/cli/main.js';

/** The known checksums of IOTLB-WORKLOAD.md (iotlb-std/1) with --ops 1000000: the same mapping through SMMUv3 stage-1 tables. */
const KNOWN: [Partial<IotlbBenchOptions>, number][] = [
  [{ pages: 65536, ws: 1024, pattern: 'random' }, 2490185069],
  [{ pages: 65536, ws: 65536, pattern: 'random' }, 2724545901],
  [{ pages: 65536, ws: 1024, pattern: 'seq' }, 1838307328],
  [{ pages: 4096, ws: 4096, pattern: 'random' }, 1373824730],
];

t.test('--iommu smmuv3: the four known checksums through the model (STE/CD and queues via the registers, tables in RAM)', async (t) => {
  for (const [p, sum] of KNOWN) {
    const r = await runIotlbBench({ ...BENCH_DEFAULTS, ...p, iommu: 'smmuv3', ops: 1_000_000 });
    t.equal(r.checksum, sum, `pages ${p.pages} ws ${p.ws} ${p.pattern}`);
    t.equal(r.faults, 0);
    t.equal(r.iommu, 'smmuv3');
    t.equal(r.hits + r.misses, 1_000_000);
  }
});

t.test('--iommu smmuv3 --workers 2 gets the same checksum; the CLI accepts it', async (t) => {
  const r = await runIotlbBench({ ...BENCH_DEFAULTS, iommu: 'smmuv3', ws: 65536, ops: 500_000, workers: 2 });
  t.equal(r.workers, 2);
  t.equal(r.hits + r.misses, 500_000);
  const one = await runIotlbBench({ ...BENCH_DEFAULTS, iommu: 'smmuv3', ws: 65536, ops: 500_000 });
  t.equal(r.checksum, one.checksum);
  let out = '';
  const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (out += s) } };
  t.equal(await runViommu(['bench', 'iotlb', '--iommu', 'smmuv3', '--ops', '10000', '--json'], io), 0);
  t.match(JSON.parse(out), { iommu: 'smmuv3', ops: 10000, faults: 0 });
});
