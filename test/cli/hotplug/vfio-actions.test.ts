import { readFileSync } from 'node:fs';
import t from 'tap';
import { runHotplugScript } from '../../../src/cli/hotplug/run.js';
import { repoPath } from '../../helpers/paths.js';

const SEED000 = repoPath('examples', 'hotplug', 'pseries-vfio-bind-unbind.jsonl');

t.test('the seed 000 example passes on the fixed model', async (t) => {
  const r = runHotplugScript(readFileSync(SEED000, 'utf8'), SEED000);
  t.equal(r.failed, 0, JSON.stringify(r.records.filter((x) => x.outcome === 'fail'), null, 1));
  t.ok(r.passed >= 8);
});

t.test('the same script with "regress": ["seed000"] fails where the bug bites: the host driver rebind', async (t) => {
  const text = readFileSync(SEED000, 'utf8').replace('"boot": {"dmaMode": "strict"}', '"boot": {"dmaMode": "strict", "regress": ["seed000"]}');
  const r = runHotplugScript(text, 'seed000.jsonl');
  const fails = r.records.filter((x) => x.outcome === 'fail');
  t.ok(fails.length > 0);
  const first = fails[0]!;
  t.match(first.step, /"guest": "bind-driver"/, 'the first failure is the rebind');
  t.match(first.got, /binding v1 \(0000:00:00\.0\) failed: -5 \(EIO\)/);
  t.match((first.log ?? []).join('\n'), /Warning: IOMMU dma not supported: mask 0x0fffffff, table unavailable/);
  t.ok(r.records.some((x) => x.outcome === 'fail' && /host driver rebind: -5 \(EIO\)/.test(x.got ?? '')), 'unbind-vfio with rebind reports it too');
});

t.test('unbind-vfio on a device vfio-pci does not hold is a clear failure; bind-vfio without an IOMMU group is refused', async (t) => {
  const script = [
    '{"machine": "-M q35 -nodefaults -device edu,id=e1"}',
    '{"guest": "unbind-vfio", "device": "e1"}',
    '{"guest": "bind-vfio", "device": "e1"}',
    '{"assert": {"device": "e1", "driver": "edu"}}',
  ].join('\n');
  const r = runHotplugScript(script, 'x.jsonl');
  const f = r.records.filter((x) => x.outcome === 'fail');
  t.equal(f.length, 2);
  t.match(f[0]!.got, /e1 \(0000:00:0[0-9a-f]\.0\) is bound to edu/);
  t.equal(f[0]!.expected, 'a device bound to vfio-pci');
  t.match(f[1]!.got, /no IOMMU group/);
  t.equal(r.passed, 1, 'the host driver kept the device');
});
