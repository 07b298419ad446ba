import t from 'tap';
import { ACS_ISOLATING } from './fake/topology.js';
import { coreSetup } from './fake/soft-iommu.js';

function groups(o: Parameters<typeof coreSetup>[0] = {}): Map<string, number | undefined> {
  const s = coreSetup(o);
  s.core.registerInstance(s.drv.instance);
  for (const d of s.devs) s.core.addDevice(d);
  return new Map(Object.keys(s.topo.fns).map((n) => [n, s.core.groupOf(s.dev(n))?.id]));
}

t.test('without ACS on the root ports, devices below share the port\'s group', async (t) => {
  const g = groups();
  t.equal(g.get('ep'), g.get('rp1'));
  t.equal(g.get('legacy1'), g.get('rp2'));
  t.equal(g.get('pcie2pci'), g.get('rp2'));
  t.not(g.get('rp1'), g.get('rp2'), 'root ports on the root bus are separate');
});

t.test('with ACS (SV, RR, CR, UF) enabled on the root ports, an endpoint gets its own group', async (t) => {
  const g = groups({ rootPortAcs: ACS_ISOLATING });
  t.not(g.get('ep'), g.get('rp1'));
  t.equal(g.get('legacy1'), g.get('legacy2'), 'conventional PCI behind one PCIe-to-PCI bridge cannot be told apart');
  t.equal(g.get('legacy1'), g.get('pcie2pci'), 'their alias is the bridge\'s');
  t.not(g.get('pcie2pci'), g.get('rp2'));
  const partial = groups({ rootPortAcs: 0x1 });
  t.not(partial.get('ep'), partial.get('rp1'), 'controls a port does not implement count as hard-wired on (Linux pci_acs_flags_enabled)');
  const off = groups({ rootPortAcs: ACS_ISOLATING, enableAcs: false });
  t.equal(off.get('ep'), off.get('rp1'), 'ACS implemented but never enabled does not isolate');
});

t.test('a multi-function device without ACS is one group; with ACS its functions are separate', async (t) => {
  const g = groups();
  t.equal(g.get('mf0'), g.get('mf1'));
  const a = groups({ mfAcs: ACS_ISOLATING });
  t.not(a.get('mf0'), a.get('mf1'));
  t.not(g.get('virtio'), g.get('mf0'), 'a single-function device is isolated');
});
