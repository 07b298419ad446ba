import t from 'tap';
import { BENCH_DEFAULTS, runIotlbBench, type IotlbBenchOptions } from '../../../src/iommu/bench/iotlb-bench.js';
import { runViommu } from '../../../src/cli/main.js';

// `viommu bench iotlb --iommu virtio-iommu`: the workload's mapping set up
// with MAP requests, translated by the device's IOTLB and mapping trees,
// gives the workload's known checksums (the same translations as VT-d).
const KNOWN: [Partial<IotlbBenchOptions>, number][] = [
  [{ pages: 65536, ws: 1024, pattern: 'random' }, 2490185069],
  [{ pages: 65536, ws: 65536, pattern: 'random' }, 2724545901],
  [{ pages: 65536, ws: 1024, pattern: 'seq' }, 1838307328],
  [{ pages: 4096, ws: 4096, pattern: 'random' }, 1373824730],
];

t.test('the four known checksums through the virtio-iommu model', async (t) => {
  for (const [p, sum] of KNOWN) {
    const r = await runIotlbBench({ ...BENCH_DEFAULTS, ...p, ops: 1_000_000, iommu: 'virtio-iommu' });
    t.equal(r.checksum, sum, `pages ${p.pages} ws ${p.ws} ${p.pattern}`);
    t.equal(r.faults, 0);
    t.equal(r.hits + r.misses, 1_000_000, 'every translation is a hit or a miss');
    t.equal(r.iommu, 'virtio-iommu');
  }
});

t.test('workers are refused with the reason', async (t) => {
  let err = '';
  const io = { stdout: { write: () => true }, stderr: { write: (s: string) => (err += s) } };
  t.equal(await runViommu(['bench', 'iotlb', '--iommu', 'virtio-iommu', '--workers', '2', '--ops', '1000'], io), 2);
  t.match(err, /virtio-iommu keeps its mappings in the device model/);
});
