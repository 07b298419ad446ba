import t from 'tap';
import { runViommu } from '../../../src/cli/main.js';

async function run(args: string[]) {
  let out = '';
  let err = '';
  const code = await runViommu(args, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

const EDU64 = 'edu,dma_mask=0xffffffffffffffff';

t.test('viommu boot -- -M pseries -device edu: the guest DMAs through the default TCE window at the default RAM size, oracle clean', async (t) => {
  const r = await run(['boot', '--json', '--', '-M', 'pseries', '-device', 'edu']);
  t.equal(r.code, 0, r.out);
  const rep = JSON.parse(r.out);
  t.same(rep.iommu.instances, [{ name: 'spapr-tce pci@800000020000000', driver: 'spapr-tce', fwnode: '/pci@800000020000000' }]);
  t.equal(rep.devices[0].dmaOps, 'dma-iommu (TCE)');
  t.equal(rep.devices[0].domain, '#0 platform');
  t.ok(rep.oracle.checked > 0);
  t.equal(rep.oracle.untranslated, 0, 'every DMA went through a TCE window');
  t.equal(rep.oracle.violations, 0);
  t.ok(rep.invalidations.iotlbSyncs > 0, 'each unmap is a completed TCE clear');
});

t.test('a DDW run: a 64-bit mask gets a direct-mapped dynamic window (16 MiB TCE pages), oracle clean', async (t) => {
  const r = await run(['boot', '--json', '--edu-dma-bits', '64', '--', '-M', 'pseries', '-device', EDU64,
    '-global', 'spapr-pci-host-bridge.dma64_win_addr=0x10000000000']);
  t.equal(r.code, 0, r.out);
  const rep = JSON.parse(r.out);
  t.equal(rep.devices[0].dmaOps, 'dma-direct (DDW)');
  t.ok(rep.log.some((l: string) => /DDW direct-mapped: LIOBN 0x80000001 at 0x10000000000, 2\^29 bytes of 16777216-byte pages/.test(l)));
  t.equal(rep.oracle.violations, 0);
  t.equal(rep.oracle.untranslated, 0);
  t.ok(rep.oracle.ok > 0);
});

t.test('the SR-IOV VF path: no window free, so the default window goes before the DDW, which lands at 0', async (t) => {
  const r = await run(['boot', '--json', '--edu-dma-bits', '64', '--', '-M', 'pseries', '-device', EDU64, '-global', 'spapr-pci-host-bridge.sriov-vf=on']);
  t.equal(r.code, 0, r.out);
  const rep = JSON.parse(r.out);
  t.ok(rep.log.some((l: string) => /DDW direct-mapped: LIOBN 0x80000000 at 0x0, .*default window removed: single-window PE/.test(l)));
  t.equal(rep.devices[0].dmaOps, 'dma-direct (DDW)');
  t.equal(rep.oracle.violations, 0);
});

t.test('the default 64-bit window address is beyond what this guest\'s doubles hold: it stays on the default window', async (t) => {
  const r = await run(['boot', '--edu-dma-bits', '64', '--', '-M', 'pseries', '-device', EDU64]);
  t.equal(r.code, 0, r.out);
  t.match(r.out, /enable_ddw: the window at 0x800000000000000 ends beyond the 53-bit bus addresses/);
  t.match(r.out, /dma-iommu \(TCE\)/);
});

t.test('--workload vfio-spapr: a VFIO user cycle; --regress seed000 and seed004 are reachable and caught', async (t) => {
  const ok = await run(['boot', '--workload', 'vfio-spapr', '--', '-M', 'pseries', '-device', 'edu']);
  t.equal(ok.code, 0, ok.out);
  t.match(ok.out, /vfio-spapr +ok/);
  const s0 = await run(['boot', '--regress', 'seed000', '--workload', 'vfio-spapr', '--', '-M', 'pseries', '-device', 'edu']);
  t.equal(s0.code, 1);
  t.match(s0.out, /Warning: IOMMU dma not supported: mask 0x0fffffff, table unavailable/);
  t.match(s0.out, /vfio-spapr: host driver rebind: -5 \(EIO\)/);
  const s4 = await run(['boot', '--regress', 'seed004', '--workload', 'vfio-spapr', '--', '-M', 'pseries', '-device', 'edu']);
  t.match(s4.out, /spapr-tce: LIOBN 0x80000000: window removed with 4 valid TCEs; PAPR expects the OS to clear them first/, 'the hypervisor check');
  t.equal(s4.code, 0, 'QEMU frees removed tables, so nothing leaks there');
  const p4 = await run(['boot', '--regress', 'seed004', '--workload', 'vfio-spapr', '--', '-M', 'pseries', '-device', 'edu',
    '-global', 'spapr-pci-host-bridge.persistent-tces=on']);
  t.equal(p4.code, 1, 'with PowerVM-style tables the stale TCEs leak');
  t.match(p4.out, /DMA oracle: isolation: .*IOVA 0x100000 .*not mapped in the device's domain, yet the DMA reached/);
  t.match(p4.out, /stale TCE 0x[0-9a-f]+003 at 0x100000 after the user left/);
  const p0 = await run(['boot', '--workload', 'vfio-spapr', '--', '-M', 'pseries', '-device', 'edu', '-global', 'spapr-pci-host-bridge.persistent-tces=on']);
  t.equal(p0.code, 0, 'the fixed order leaves nothing behind even there');
});
