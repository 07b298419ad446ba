import t from 'tap';
import { BENCH_DEFAULTS, runIotlbBench } from '../../../src/iommu/index.js';
import { spaprBenchMachine } from '../../../src/iommu/spapr/bench-setup.js';

// The workload's known checksums (shared/bench/IOTLB-WORKLOAD.md): the sPAPR run translates the same guest-physical pages.
const KNOWN: [number, number, 'random' | 'seq', number][] = [
  [65536, 1024, 'random', 2490185069], [65536, 65536, 'random', 2724545901], [65536, 1024, 'seq', 1838307328], [4096, 4096, 'random', 1373824730],
];

for (const [pages, ws, pattern, checksum] of KNOWN) {
  t.test(`viommu bench iotlb --iommu spapr --pages ${pages} --ws ${ws} --pattern ${pattern}: the known checksum`, async (t) => {
    const r = await runIotlbBench({ ...BENCH_DEFAULTS, iommu: 'spapr', pages, ws, pattern, ops: 1_000_000 });
    t.equal(r.checksum, checksum);
    t.equal(r.faults, 0);
    t.equal(r.iommu, 'spapr');
    t.equal(r.hits + r.misses, 1_000_000);
  });
}

t.test('the sPAPR bench maps through the guest-visible interface: a DDW from RTAS, TCEs from H_PUT_TCE_INDIRECT', async (t) => {
  const m = spaprBenchMachine({ ...BENCH_DEFAULTS, pages: 1000, ws: 10, ops: 10 });
  t.equal(m.windowStart, 0x0800_0000_0000_0000n, 'IOVA_BASE is the DDW start (dma64_win_addr)');
  const table = m.tce.findTable(0x80000001)!.table;
  t.same([table.pageShift, table.nbTable], [12, 1024], 'the smallest power-of-two window that holds the pages');
  t.equal(table.stats.puts, 1000);
  t.equal(table.validCount(), 1000);
  t.ok(m.stream.every((a) => a >= 0 && a < 1000 * 4096), 'the stream is window-relative');
});
