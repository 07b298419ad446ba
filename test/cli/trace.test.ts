import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { ChromeTraceEvent, ChromeTraceFile } from '../../src/base/chrome-trace.js';
import { runViommu } from '../../src/cli/main.js';
import { repoPath } from '../helpers/paths.js';
import { checkTrace, trackNames } from '../helpers/trace-check.js';

async function run(args: string[]) {
  let out = '';
  let err = '';
  const code = await runViommu(args, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

const dir = mkdtempSync(join(tmpdir(), 'viommu-trace-'));

function load(file: string): { f: ChromeTraceFile; evs: ChromeTraceEvent[]; names: Map<string, string>; track: (e: ChromeTraceEvent) => string } {
  const f = JSON.parse(readFileSync(file, 'utf8')) as ChromeTraceFile;
  const names = trackNames(f);
  return { f, evs: f.traceEvents.filter((e) => e.ph !== 'M'), names, track: (e) => `${names.get(String(e.pid))}/${names.get(`${e.pid}/${e.tid}`)}` };
}

t.test('viommu boot --trace (q35 + intel-iommu): DMA, IOTLB misses and fills, invalidations and their completion, notifiers, vhost', async (t) => {
  const file = join(dir, 'boot.json');
  const r = await run(['boot', '--dma-mode', 'strict', '--trace', file]);
  t.equal(r.code, 0, r.err);
  const { f, evs, track } = load(file);
  t.same(checkTrace(f), [], 'valid and well-nested per track');
  const kinds = new Set(evs.map((e) => `${e.ph} ${e.name}`));
  for (const k of ['X DMA read', 'X DMA write', 'X IOTLB miss', 'i IOTLB fill', 'B IOTLB invalidation', 'E IOTLB invalidation',
    'B invalidation wait (completion)', 'E invalidation wait (completion)', 'B context-cache invalidation',
    'B device-TLB invalidation', 'B notify DEVIOTLB_UNMAP', 'i vhost MISS', 'i vhost UPDATE', 'i vhost INVALIDATE']) t.ok(kinds.has(k), k);
  const dma = evs.filter((e) => e.cat === 'dma');
  t.ok(dma.every((e) => track(e).startsWith('devices/')), 'DMA on the devices\' tracks');
  for (const d of [/edu/, /virtio-net-pci/]) t.ok(dma.some((e) => d.test(track(e))), `DMA of ${d.source}`);
  t.ok(dma.some((e) => e.args?.['path'] === 'vhost') && dma.some((e) => e.args?.['path'] === 'emulated'), 'the vhost worker\'s DMA and the emulated devices\'');
  t.ok(dma.every((e) => e.args?.['outcome'] === 'ok' && typeof e.args?.['gpa'] === 'string'), 'every DMA reached memory');
  const checked = Number(/DMA oracle: (\d+) accesses checked/.exec((await run(['boot', '--dma-mode', 'strict'])).out)![1]);
  t.equal(dma.length, checked, 'one DMA event per access the oracle checked');
  t.ok(evs.filter((e) => e.cat === 'iotlb' || e.cat === 'inv').every((e) => track(e) === 'vIOMMU/intel-iommu'), 'the vIOMMU\'s events on its track');
  t.ok(evs.filter((e) => e.cat === 'vhost').every((e) => /^vhost\/vhost .*\(net0\)$/.test(track(e))), 'vhost messages on the vhost device\'s track');
  t.ok(evs.filter((e) => e.cat === 'notify').every((e) => track(e).startsWith('vIOMMU notifiers/')), 'deliveries on the notifier region\'s track');
  // a device-TLB invalidation reaches vhost as a DEVIOTLB_UNMAP delivery and then an INVALIDATE message, at the same virtual time
  const dev = evs.find((e) => e.name === 'notify DEVIOTLB_UNMAP')!;
  t.ok(evs.some((e) => e.name === 'vhost INVALIDATE' && e.ts === dev.ts), 'the INVALIDATE goes out during the delivery');
  const inv = evs.findIndex((e) => e.ph === 'B' && e.name === 'IOTLB invalidation' && e.ts > 0);
  t.ok(inv >= 0 && evs.slice(inv).some((e) => e.name === 'invalidation wait (completion)'), 'a completion follows an invalidation');
  const ts = evs.map((e) => e.ts);
  t.ok(Math.max(...ts) > Math.min(...ts), 'events spread over virtual time');
});

t.test('viommu boot --trace on virt + SMMUv3: commands and CMD_SYNC completions', async (t) => {
  const file = join(dir, 'smmu.json');
  const r = await run(['boot', '--dma-mode', 'strict', '--trace', file, '--', '-M', 'virt,iommu=smmuv3', '-device', 'edu']);
  t.equal(r.code, 0, r.err);
  const { f, evs, track } = load(file);
  t.same(checkTrace(f), []);
  const names = new Set(evs.map((e) => e.name));
  for (const k of ['CMD_SYNC (completion)', 'CMD_TLBI_NH_VA', 'CMD_CFGI_STE', 'IOTLB miss', 'IOTLB fill', 'DMA read']) t.ok(names.has(k), k);
  t.ok(evs.filter((e) => e.cat === 'inv').every((e) => track(e) === 'vIOMMU/arm-smmuv3'));
});

t.test('viommu boot --trace on virtio-iommu and on pseries: requests, TCE invalidations, misses and fills', async (t) => {
  const cases = [
    { args: ['-M', 'q35', '-device', 'virtio-iommu-pci', '-device', 'edu'], track: 'vIOMMU/virtio-iommu', want: ['B ATTACH request', 'B MAP request', 'E UNMAP request', 'X IOTLB miss', 'i IOTLB fill'] },
    { args: ['-M', 'pseries', '-device', 'edu'], track: 'vIOMMU/spapr-tce', want: ['X TCE invalidation (completion)', 'X IOTLB miss', 'i IOTLB fill'] },
  ];
  for (const c of cases) {
    const file = join(dir, `${c.args[1]}.json`);
    const r = await run(['boot', '--dma-mode', 'strict', '--trace', file, '--', ...c.args]);
    t.equal(r.code, 0, r.err);
    const { f, evs, track } = load(file);
    t.same(checkTrace(f), [], c.args.join(' '));
    const kinds = new Set(evs.map((e) => `${e.ph} ${e.name}`));
    for (const k of c.want) t.ok(kinds.has(k), `${c.args[1]}: ${k}`);
    t.ok(evs.filter((e) => e.cat === 'inv' || e.cat === 'iotlb').every((e) => track(e) === c.track), `on ${c.track}`);
    const maps = evs.filter((e) => e.ph === 'E' && e.name === 'MAP request');
    t.ok(maps.every((e) => e.args?.['status'] === 0), 'MAP requests complete with VIRTIO_IOMMU_S_OK');
  }
});

t.test('viommu hotplug --trace: a span per script step, the hot-added device\'s DMA', async (t) => {
  const file = join(dir, 'hotplug.json');
  const r = await run(['hotplug', repoPath('examples', 'hotplug', 'q35-edu-hotplug.jsonl'), '--trace', file]);
  t.equal(r.code, 0, r.code === 0 ? 'the script passes' : r.out);
  const { f, evs, track } = load(file);
  t.same(checkTrace(f), []);
  const steps = evs.filter((e) => e.cat === 'hotplug' && e.ph === 'B');
  const tap = r.out.split('\n').filter((l) => /^(not )?ok /.test(l)).length;
  t.ok(steps.length >= tap, `one span per step (${steps.length} spans, ${tap} test points)`);
  t.ok(steps.every((e) => track(e) === 'hotplug/script'));
  t.ok(steps.some((e) => /^qmp: device_add/.test(e.name)), 'the device_add step');
  t.ok(evs.some((e) => e.cat === 'dma' && /e1/.test(track(e))), 'DMA of the hot-added edu (id e1)');
});

t.test('viommu bench iotlb --trace: the miss passes, adding up to the run\'s misses', async (t) => {
  const file = join(dir, 'bench.json');
  const r = await run(['bench', 'iotlb', '--pages', '4096', '--ws', '2048', '--ops', '50000', '--capacity', '512', '--json', '--trace', file]);
  t.equal(r.code, 0, r.err);
  const res = JSON.parse(r.out);
  const { f, evs } = load(file);
  t.same(checkTrace(f), []);
  const passes = evs.filter((e) => e.name === 'IOTLB misses');
  t.ok(passes.length > 0);
  t.equal(passes.reduce((a, e) => a + Number(e.args?.['misses']), 0), res.misses, 'the misses of the trace are the run\'s');
  t.equal(passes.reduce((a, e) => a + Number(e.args?.['fills']), 0), res.misses - res.faults);
  t.ok(passes.every((e) => e.ts === Number(e.args?.['first']) / 1000), 'time axis: one virtual ns per translation');
  const w = await run(['bench', 'iotlb', '--workers', '1', '--trace', file]);
  t.equal(w.code, 2);
  t.match(w.err, /use --workers 0/);
});
