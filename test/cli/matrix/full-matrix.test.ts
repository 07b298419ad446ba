import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import t from 'tap';
import { compareExpected, parseExpected } from '../../../src/cli/matrix/expected.js';
import { matrixResult, planMatrix } from '../../../src/cli/matrix/run.js';
import type { MatrixCell, MatrixResult } from '../../../src/cli/matrix/types.js';
import { repoPath } from '../../helpers/paths.js';

const run = promisify(execFile);

// The whole matrix is about 90 s of CPU (two shards in parallel: about 45 s on two idle cores); on a machine
// shared with other jobs it can take longer than tap's default per-file limit, which is about load, not a hang.
t.setTimeout(900_000);
const SHARDS = 2;
const EXPECTED = repoPath('test', 'cli', 'matrix', 'expected.json');

/** The whole matrix, as CI would run it: shards in parallel processes, merged. */
async function fullMatrix(): Promise<MatrixResult> {
  const cli = repoPath('.build', 'src', 'cli', 'viommu.js');
  const outs = await Promise.all(Array.from({ length: SHARDS }, (_, i) =>
    run(process.execPath, [cli, 'matrix', '--json', '--shard', `${i + 1}/${SHARDS}`, '--expected', EXPECTED], { maxBuffer: 64 << 20 })));
  const cells: MatrixCell[] = outs.flatMap((o) => (JSON.parse(o.stdout) as MatrixResult).cells);
  const order = new Map(planMatrix().map((p, i) => [p.key, i]));
  cells.sort((a, b) => order.get(a.key)! - order.get(b.key)!);
  return matrixResult(cells);
}

t.test('the full matrix matches the checked-in expected matrix, and the regression columns catch each historical bug', async (t) => {
  const r = await fullMatrix();
  const expected = parseExpected(readFileSync(EXPECTED, 'utf8'), EXPECTED);
  t.same(compareExpected(r, expected, true), [], 'no cell differs from test/cli/matrix/expected.json');
  t.equal(r.cells.length, planMatrix().length, 'every planned cell ran exactly once across the shards');
  t.equal(new Set(r.cells.map((c) => c.key)).size, r.cells.length);

  const cell = (k: string) => r.cells.find((c) => c.key === k)!;
  // The fixed model: nothing broken; every cell that works has DMA the oracle checked.
  t.equal(r.byMode['fixed']!.broken, 0, 'the fixed model has no broken cell');
  for (const c of r.cells.filter((x) => x.status === 'works')) {
    if (c.counts.dmaChecked === 0 || c.counts.ops === 0) t.fail(`${c.key}: works without checked DMA`);
  }
  // VFIO needs MAP: refused by VT-d without caching-mode and by SMMUv3, with their own messages.
  t.match(cell('intel-iommu,caching-mode=off,device-iotlb=off|vfio|ats=off|steady|fixed').message, /requires caching mode$/);
  t.match(cell('smmuv3,ats=on|vfio|ats=off|steady|fixed').message, /requires iommu MAP notifier which is not currently supported$/);
  t.equal(cell('intel-iommu,caching-mode=on,device-iotlb=off|vfio|ats=off|churn-strict|fixed').notifierFlags, 'MAP|UNMAP');
  const churn = cell('virtio-iommu|vfio|ats=off|churn-strict|fixed');
  t.ok(churn.counts.mapEvents > 0 && churn.counts.unmapEvents > 0 && churn.counts.dmaFaults > 0, 'churn: MAP/UNMAP events, and the stray DMAs faulted');
  // seed 000: only the bind/unbind cells break, on the host driver rebind.
  for (const c of r.cells.filter((x) => x.mode === 'seed000')) {
    if (c.scenario === 'bind-unbind') t.match(c.broken?.details.join('\n'), /host driver rebind: -5 \(EIO\)/, `${c.key} catches seed 000`);
    else t.not(c.status, 'broken', `${c.key} is not affected by seed 000`);
  }
  // seed 004: the bind/unbind cells break: the user's TCEs survive it, and a DMA engine that tries the old IOVA reaches the page (oracle).
  for (const c of r.cells.filter((x) => x.mode === 'seed004' && x.scenario === 'bind-unbind')) {
    t.match(c.broken?.details.join('\n'), /stale TCE 0x[0-9a-f]+ at 0x100000 after the user left|isolation: .* IOVA 0x100000/, `${c.key} catches seed 004`);
    if (c.consumer === 'vfio' || c.consumer === 'edu') t.ok(c.broken!.oracleViolations > 0, `${c.key}: the oracle sees the stray DMA reach the old page`);
  }
  t.equal(cell('spapr-tce|vfio|ats=off|bind-unbind|fixed').status, 'works', 'and the fixed sPAPR model passes the same scenario');
  // seed 002: with the fallback switched off, a DEVIOTLB veto fails vhost; the fixed model falls back to UNMAP and says why.
  const vetoes: [string, RegExp][] = [
    ['intel-iommu,caching-mode=on,device-iotlb=off', /requires device IOTLB mode$/],
    ['smmuv3,ats=off', /^SMMUv3 does not support dev-iotlb yet$/],
    ['virtio-iommu', /^Virtio-iommu does not support dev-iotlb yet$/],
  ];
  for (const [v, msg] of vetoes) {
    const pre = cell(`${v}|vhost-net|ats=on|steady|x-vhost-iotlb-fallback=off`);
    t.equal(pre.status, 'refused', `${v}: the regression column catches seed 002`);
    t.match(pre.message, msg);
    const fixed = cell(`${v}|vhost-net|ats=on|steady|fixed`);
    t.equal(fixed.notifierFlags, 'UNMAP', `${v}: the fixed model falls back to UNMAP`);
    t.ok(fixed.notes?.some((n) => n.startsWith('fallback to UNMAP: ') && msg.test(n.slice('fallback to UNMAP: '.length))), 'and logs the vIOMMU\'s reason');
  }
  t.equal(cell('intel-iommu,caching-mode=on,device-iotlb=on|vhost-net|ats=on|steady|fixed').notifierFlags, 'DEVIOTLB_UNMAP');
  t.equal(cell('intel-iommu,caching-mode=on,device-iotlb=on|vhost-net|ats=off|steady|fixed').notifierFlags, 'UNMAP');
  const fb = r.byMode['x-vhost-iotlb-fallback=off']!;
  const vetoed = r.cells.filter((c) => c.mode === 'x-vhost-iotlb-fallback=off' && c.status === 'refused' && /dev-iotlb|device IOTLB/.test(c.message ?? ''));
  t.ok(fb.refused > 0 && vetoed.length > 0 && vetoed.every((c) => c.ats), 'only guest-ATS cells meet the DEVIOTLB veto');
});
