import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runViommu } from '../../../src/cli/main.js';
import { parseShard } from '../../../src/cli/matrix/axes.js';
import { planMatrix, runMatrix } from '../../../src/cli/matrix/run.js';
import type { MatrixConsumer } from '../../../src/cli/matrix/consumer.js';
import type { MatrixResult } from '../../../src/cli/matrix/types.js';
import { repoPath } from '../../helpers/paths.js';

async function run(args: string[], tty = false) {
  let out = '';
  let err = '';
  const code = await runViommu(args, { stdout: { write: (s: string) => (out += s), isTTY: tty }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

const SMALL = ['--viommu', 'spapr-tce', '--consumer', 'vfio', '--scenario', 'bind-unbind'];

t.test('--shard I/N: deterministic slices that partition the matrix', async (t) => {
  const all = planMatrix().map((p) => p.key);
  t.ok(all.length >= 200);
  const slices = [1, 2, 3].map((i) => planMatrix({ shard: { index: i, count: 3 } }).map((p) => p.key));
  t.same(slices.flat().sort(), [...all].sort(), 'the union is the whole matrix');
  t.equal(new Set(slices.flat()).size, all.length, 'no cell in two shards');
  t.same(planMatrix({ shard: { index: 2, count: 3 } }).map((p) => p.key), slices[1], 'the same slice every time');
  t.same(parseShard('2/4'), { index: 2, count: 4 });
  t.match(parseShard('5/4'), /1 <= I <= N/);
  const bad = await run(['matrix', '--shard', '0/2']);
  t.equal(bad.code, 2);
  t.match(bad.err, /--shard: I\/N needs 1 <= I <= N/);
});

t.test('--json: the MatrixResult, no progress bar; the regression columns for one vIOMMU', async (t) => {
  const r = await run(['matrix', '--json', ...SMALL], true);
  t.equal(r.code, 0, r.err);
  t.notMatch(r.out, /\r/, 'quiet with --json even on a terminal');
  const m = JSON.parse(r.out) as MatrixResult;
  t.same(m.axes.modes, ['fixed', 'x-vhost-iotlb-fallback=off', 'seed000', 'seed004']);
  t.same(m.cells.map((c) => `${c.mode}:${c.status}`), ['fixed:works', 'seed000:broken', 'seed004:broken', 'fixed:works', 'seed000:broken', 'seed004:broken']);
  t.same(m.byMode['seed000'], { cells: 2, works: 0, refused: 0, broken: 2 });
  t.match(r.err, /6 cells match .*expected\.json/);
});

t.test('the terminal table: a progress bar only on a terminal; refusals as footnotes', async (t) => {
  const tty = await run(['matrix', '--viommu', 'smmuv3,ats=off', '--consumer', 'vfio', '--consumer', 'edu', '--scenario', 'steady', '--mode', 'fixed'], true);
  t.match(tty.out, /\r\[#+\] 4\/4 /, 'progress on a terminal');
  const plain = await run(['matrix', '--viommu', 'smmuv3,ats=off', '--consumer', 'vfio', '--consumer', 'edu', '--scenario', 'steady', '--mode', 'fixed']);
  t.notMatch(plain.out, /\r/, 'no progress when not a terminal');
  t.match(plain.out, /^mode fixed: 4 cells, 2 works, 2 refused, 0 broken$/m);
  t.match(plain.out, /^smmuv3,ats=off +vfio +off +refused \[1\]$/m);
  t.match(plain.out, /^smmuv3,ats=off +edu +on +ok -$/m);
  t.match(plain.out, /^\[1\] memory listener initialization failed: Region smmuv3-\S+: device \S+ requires iommu MAP notifier which is not currently supported$/m);
  t.match(plain.out, /^4 cells: 2 works, 2 refused, 0 broken$/m);
});

t.test('--md: Markdown tables', async (t) => {
  const r = await run(['matrix', '--md', '--viommu', 'virtio-iommu', '--scenario', 'churn-strict']);
  t.match(r.out, /^# viommu matrix$/m);
  t.match(r.out, /^\| vIOMMU \| consumer \| ATS \| churn-strict \|$/m);
  t.match(r.out, /^\| virtio-iommu \| vfio \| off \| ok MAP\\\|UNMAP \|$/m, 'the | of the flags escaped');
});

t.test('--expected: a cell that differs fails the run with the cell and both verdicts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'viommu-matrix-'));
  const f = join(dir, 'expected.json');
  const text = readFileSync(repoPath('test', 'cli', 'matrix', 'expected.json'), 'utf8')
    .replace('"spapr-tce|vfio|ats=off|bind-unbind|seed000": {"status":"broken","broken":["wrong-data"]}', '"spapr-tce|vfio|ats=off|bind-unbind|seed000": {"status":"works","flags":"MAP|UNMAP"}');
  writeFileSync(f, text);
  const r = await run(['matrix', '--expected', f, ...SMALL]);
  t.equal(r.code, 1);
  t.match(r.err, /1 cell differs from .*expected\.json:\n  spapr-tce\|vfio\|ats=off\|bind-unbind\|seed000: expected works \(MAP\|UNMAP\), got broken \(wrong-data\) \(host driver rebind: -5 \(EIO\)\)/);
  const w = join(dir, 'written.json');
  const wr = await run(['matrix', '--write-expected', w, ...SMALL]);
  t.equal(wr.code, 0);
  t.equal(Object.keys(JSON.parse(readFileSync(w, 'utf8')).cells).length, 6);
});

t.test('consumers are plug-ins: a new one runs through every scenario', async (t) => {
  const calls: string[] = [];
  const probe: MatrixConsumer = {
    id: 'probe',
    summary: 'an edu that records what the matrix asks of it',
    device: () => ({ driver: 'edu', props: {} }),
    steady: (_a, dev, ops) => (calls.push(`steady ${dev.guest.name} ${ops}`), { ops, bytes: 0, wrongData: 0, hang: false, errors: [] }),
    churn: (_a, _dev, ops) => (calls.push('churn'), { ops, bytes: 0, wrongData: 0, hang: true, errors: ['the probe never finished'] }),
    bindUnbind: () => (calls.push('bind-unbind'), { ops: 1, bytes: 0, wrongData: 1, hang: false, errors: ['the probe says it broke'] }),
    notifierUse: () => ({ flags: 'UNMAP', map: 0, unmap: 7, devIotlb: 0 }),
  };
  const r = await runMatrix({ consumerPlugins: [probe], viommus: ['intel-iommu,caching-mode=on,device-iotlb=on'], modes: ['fixed'] });
  t.same(r.axes.consumers, ['probe']);
  t.equal(r.cells.length, 10);
  t.ok(calls.includes('churn') && calls.includes('bind-unbind'));
  t.ok(calls.some((c) => /^steady 0000:01:00\.0 3$/.test(c)), 'the hot-added device got traffic too');
  const steady = r.cells.find((c) => c.scenario === 'steady' && !c.ats)!;
  t.equal(steady.status, 'works');
  t.equal(steady.notifierFlags, 'UNMAP');
  t.equal(steady.counts.unmapEvents, 7);
  const churn = r.cells.find((c) => c.scenario === 'churn-strict')!;
  t.equal(churn.status, 'broken');
  t.same([churn.broken!.hang, churn.broken!.wrongData, churn.broken!.oracleViolations], [true, 0, 0], 'a hang is its own kind of breakage');
  const bu = r.cells.find((c) => c.scenario === 'bind-unbind')!;
  t.equal(bu.status, 'broken');
  t.same(bu.broken!.details, ['the probe says it broke']);
});
