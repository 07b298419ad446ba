import t from 'tap';
import { BENCH_DEFAULTS, runIotlbBench, type IotlbBenchOptions } from '../../src/iommu/index.js';
import { runViommu } from '../../src/cli/main.js';
import { parseIotlbArgs } from '../../src/cli/bench.js';

/** The known checksums of IOTLB-WORKLOAD.md (iotlb-std/1), with --ops 1000000. */
const KNOWN: [Partial<IotlbBenchOptions>, number][] = [
  [{ pages: 65536, ws: 1024, pattern: 'random' }, 2490185069],
  [{ pages: 65536, ws: 65536, pattern: 'random' }, 2724545901],
  [{ pages: 65536, ws: 1024, pattern: 'seq' }, 1838307328],
  [{ pages: 4096, ws: 4096, pattern: 'random' }, 1373824730],
];

t.test('the four known checksums, through VT-d tables in guest RAM', async (t) => {
  for (const [p, sum] of KNOWN) {
    const r = await runIotlbBench({ ...BENCH_DEFAULTS, ...p, ops: 1_000_000 });
    t.equal(r.checksum, sum, `pages ${p.pages} ws ${p.ws} ${p.pattern}`);
    t.equal(r.faults, 0);
    t.equal(r.hits + r.misses, 1_000_000);
  }
});

t.test('--workers 2 splits the stream over the pool and gets the same checksum', async (t) => {
  const r = await runIotlbBench({ ...BENCH_DEFAULTS, ws: 65536, ops: 1_000_000, workers: 2 });
  t.equal(r.checksum, 2724545901);
  t.equal(r.workers, 2);
  t.equal(r.hits + r.misses, 1_000_000);
});

t.test('viommu bench iotlb --json prints the fields of the workload report', async (t) => {
  let out = '';
  const io = { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (out += s) } };
  t.equal(await runViommu(['bench', 'iotlb', '--ops', '100000', '--pattern=seq', '--json'], io), 0);
  const r = JSON.parse(out) as Record<string, unknown>;
  for (const f of ['ops', 'seconds', 'translations_per_s', 'hits', 'misses', 'checksum', 'workers', 'iommu', 'iotlb_capacity']) {
    t.ok(f in r, f);
  }
  t.match(r, { ops: 100000, workers: 0, iommu: 'vtd', iotlb_capacity: 4096 });
  out = '';
  t.equal(await runViommu(['bench', 'iotlb', '--ops', '1000'], io), 0);
  t.match(out, /checksum\s+\d+/);
  t.match(out, /translations\/s/);
});

t.test('bad flags and unknown IOMMUs are clear errors', async (t) => {
  let err = '';
  const io = { stdout: { write: () => true }, stderr: { write: (s: string) => (err += s) } };
  t.equal(await runViommu(['bench', 'iotlb', '--iommu', 'amd'], io), 2);
  t.match(err, /unknown IOMMU 'amd'/);
  err = '';
  t.equal(await runViommu(['bench', 'iotlb', '--wokers', '2'], io), 2);
  t.match(err, /did you mean '--workers'/);
  t.equal(parseIotlbArgs(['--seed', '0x10']).opts.seed, 16);
  t.throws(() => parseIotlbArgs(['--ops', '1e6']), /not a non-negative integer/);
  err = '';
  t.equal(await runViommu(['bench', 'iotlb', '--ws', '70000'], io), 2);
  t.match(err, /--ws/);
});
