import { readFileSync } from 'node:fs';
import t from 'tap';
import { repoPath } from '../../helpers/paths.js';
import { compareWithQemu } from '../../machine/firmware/helpers/dtb-compare.js';
import { findNode, readDtb, u32s } from '../../machine/firmware/helpers/dtb-reader.js';
import { bootPseries, pseries } from './helpers.js';

const qemu = (name: string) => readDtb(readFileSync(repoPath('test', 'iommu', 'spapr', 'data', name)));

for (const [name, args, window, ddw] of [
  ['pseries-ddw-off-qemu.dtb', ['-global', 'spapr-pci-host-bridge.ddw=off', '-global', 'spapr-pci-host-bridge.dma_win_size=0x20000000'], [0x80000000, 0, 0, 0, 0x20000000], false],
  ['pseries-dma64-qemu.dtb', ['-global', 'spapr-pci-host-bridge.dma64_win_addr=0x10000000000', '-global', 'spapr-pci-host-bridge.dma_win_addr=0x10000000'], [0x80000000, 0, 0x10000000, 0, 0x40000000], true],
] as const) {
  t.test(`the PHB's DMA properties follow -global like QEMU 7.2's dumpdtb (${name})`, async (t) => {
    const { m } = pseries('-device', 'edu', ...args);
    const ours = readDtb(m.firmware.fdt!);
    compareWithQemu(t, ours.root, qemu(name).root);
    const phb = findNode(ours.root, '/pci@800000020000000')!;
    t.same(u32s(phb.props.get('ibm,dma-window')), window);
    t.equal(phb.props.has('ibm,ddw-applicable'), ddw);
    t.equal(phb.props.has('ibm,ddw-extensions'), ddw);
  });
}

t.test('the guest parses the PHB: default window, DDW tokens and extensions, multi-TCE hypercalls', async (t) => {
  const rig = bootPseries(['-device', 'edu,dma_mask=0xffffffff', '-global', 'spapr-pci-host-bridge.dma_win_addr=0x10000000'], { eduDmaBits: 32 });
  const lines = rig.m.log.grep(/default DMA window/).map((l) => l.text);
  t.same(lines, ['/pci@800000020000000: default DMA window LIOBN 0x80000000 [0x10000000-0x4fffffff], DDW: 2 window(s), page sizes mask 0x1211000, reset']);
  t.equal(rig.booted.report.oracle.violations, 0);
  t.ok(rig.booted.report.workloads[0]!.ok, 'DMA through a default window that does not start at 0');
  t.ok(rig.board.phbDma.tables[0]!.stats.puts > 0);
  const low = bootPseries(['-device', 'edu', '-global', 'spapr-pci-host-bridge.dma_win_addr=0x10000000']);
  t.ok(low.m.log.grep(/IOMMU offset too big for device mask 0x0fffffff/).length > 0, 'a 28-bit mask cannot reach a window at 256 MiB');
  t.equal(low.k.deviceByName('0000:00:00.0')?.driver, undefined);
});
