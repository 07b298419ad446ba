import t from 'tap';
import { runViommu } from '../../src/cli/main.js';

async function run(args: string[]) {
  let out = '';
  let err = '';
  const code = await runViommu(args, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

for (const mode of ['strict', 'lazy']) {
  t.test(`viommu boot --dma-mode ${mode} -- -M q35 -device intel-iommu -device edu: DMA through VT-d, oracle clean`, async (t) => {
    const r = await run(['boot', '--dma-mode', mode, '--json', '--', '-M', 'q35', '-device', 'intel-iommu', '-device', 'edu']);
    t.equal(r.code, 0, r.err);
    const rep = JSON.parse(r.out);
    t.same(rep.iommu.instances, [{ name: 'dmar0', driver: 'intel-iommu', fwnode: 'DRHD:fed90000' }], 'the DMAR unit');
    const edu = rep.devices.find((d: { id: string }) => d.id === '1234:11e8');
    t.equal(edu.iommu, 'dmar0');
    t.match(edu.domain, mode === 'strict' ? /^#\d+ DMA$/ : /^#\d+ DMA-FQ$/, 'its domain');
    t.ok(mode === 'strict' ? rep.invalidations.iotlbSyncs > 0 : rep.invalidations.fqFlushes > 0, 'invalidations');
    t.ok(rep.oracle.checked > 0);
    t.same([rep.oracle.violations, rep.oracle.untranslated], [0, 0], 'no violation; every access went through translation');
    const text = await run(['boot', '--dma-mode', mode, '--', '-M', 'q35', '-device', 'intel-iommu', '-device', 'edu']);
    t.match(text.out, /^IOMMU: dmar0 \(intel-iommu, DRHD:fed90000\)$/m);
    t.match(text.out, /RESULT: ok\n$/);
  });
}
