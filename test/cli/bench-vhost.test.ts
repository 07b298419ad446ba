import t from 'tap';
import { runViommu } from '../../src/cli/main.js';

async function run(args: string[]) {
  let out = '';
  let err = '';
  const code = await runViommu(args, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

t.test('viommu bench vhost runs every configuration and reports the notifier flags each used (no timing asserted)', async (t) => {
  const r = await run(['bench', 'vhost', '--packets', '40', '--rounds', '1', '--workers', '1', '--json']);
  t.equal(r.code, 0, r.err);
  const rows = JSON.parse(r.out) as { config: string; ok: boolean; registration: string; hitRate?: number; packets: number }[];
  t.same(rows.map((x) => x.config), ['vhost-deviotlb', 'vhost-unmap-fallback', 'emulated', 'vhost-no-viommu']);
  t.ok(rows.every((x) => x.ok && x.packets === 40));
  t.equal(rows[0]!.registration, 'DEVIOTLB_UNMAP');
  t.equal(rows[1]!.registration, 'UNMAP (fallback: device 01.00.0 requires device IOTLB mode)');
  t.equal(rows[2]!.registration, 'emulated');
  t.ok(rows[0]!.hitRate !== undefined && rows[0]!.hitRate > 0.5, 'the device IOTLB hits on a steady working set');
  t.equal(rows[3]!.hitRate, undefined, 'no device IOTLB without a vIOMMU');
});

t.test('--kicks async,sync measures both kick modes (sync: x-vhost-sync-kick=on); emulated has no kicks to compare', async (t) => {
  const r = await run(['bench', 'vhost', '--packets', '40', '--rounds', '1', '--workers', '1,2', '--kicks', 'async,sync', '--config', 'vhost-no-viommu,emulated', '--json']);
  t.equal(r.code, 0, r.err);
  const rows = JSON.parse(r.out) as { config: string; workers: number; kicks: string; ok: boolean; packets: number }[];
  t.same(rows.map((x) => `${x.config}/${x.workers}/${x.kicks}`), [
    'emulated/1/async', 'emulated/2/async', 'vhost-no-viommu/1/async', 'vhost-no-viommu/2/async', 'vhost-no-viommu/1/sync', 'vhost-no-viommu/2/sync',
  ]);
  t.ok(rows.every((x) => x.ok && x.packets === 40 * x.workers));
  const bad = await run(['bench', 'vhost', '--kicks', 'later']);
  t.equal(bad.code, 2);
  t.match(bad.err, /--kicks: 'later' is not async or sync/);
});

t.test('bench vhost usage errors', async (t) => {
  const c = await run(['bench', 'vhost', '--config', 'vhost-deviotbl']);
  t.equal(c.code, 2);
  t.match(c.err, /did you mean 'vhost-deviotlb'/);
  const p = await run(['bench', 'vhost', '--packts', '1']);
  t.equal(p.code, 2);
  t.match(p.err, /did you mean '--packets'/);
  const h = await run(['bench', 'vhost', '--help']);
  t.match(h.out, /usage: viommu bench vhost/);
});
