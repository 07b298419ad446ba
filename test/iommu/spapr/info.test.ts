import t from 'tap';
import { IOMMU_NOTIFIER_IOTLB_EVENTS, iommuNotifierInit, registerIommuNotifier } from '../../../src/iommu/index.js';
import { VFIO_DMA_MAP_FLAG_READ, VFIO_SPAPR_TCE_v2_IOMMU } from '../../../src/guest/spapr/vfio/uapi.js';
import { humanMonitorCommand } from '../../../src/machine/monitor/hmp.js';
import { bootPseries, eduOf, pseries, vfioUser } from './helpers.js';

t.test('info iommu: the PHB as a table group, its windows with geometry and TCEs, notifier consumers, endpoints, IOTLB', async (t) => {
  const rig = bootPseries(['-device', 'edu', '-device', 'edu']);
  const t0 = rig.board.phbDma.tables[0]!;
  const n = iommuNotifierInit(() => undefined, IOMMU_NOTIFIER_IOTLB_EVENTS, 0n, 0x3fffffffn, 0);
  registerIommuNotifier(t0.iommu, n);
  rig.board.tce.label(n, 'vfio container');
  const text = humanMonitorCommand(rig.m, 'info iommu');
  t.match(text, /^spapr-tce: PHB 0 \(BUID 0x800000020000000\), table group of 1 PE\n/);
  t.match(text, /DDW on, 2 windows, page sizes 4K 64K 2M 16M \(query mask 0x107\), default 0x0\+0x40000000, 64-bit windows at 0x800000000000000/);
  t.match(text, /owner: guest kernel, shadowed by vfio container \(need-vfio\)/);
  t.match(text, /window LIOBN 0x80000000: bus 0x0-0x3fffffff, 4K pages, 262144 TCEs \(0 valid\), default window, need-vfio yes/);
  t.match(text, /hcalls: \d+ TCE stores \(\d+ MAP, \d+ UNMAP\), DMA faults 0/);
  t.match(text, /notifier: vfio container UNMAP\|MAP \[0x0, 0x3fffffff\] idx 0/);
  t.match(text, /window LIOBN 0x80000001: disabled/);
  t.match(text, /endpoints: pci\.0 00\.0, pci\.0 01\.0/);
  t.match(text, /IOTLB: \d+\/4096 entries \(4-way, fifo\), hits \d+, misses \d+/);
});

t.test('info iommu while a VFIO user owns the group: the user\'s windows and TCEs show', async (t) => {
  const rig = bootPseries(['-device', 'edu']);
  const dev = eduOf(rig.k);
  rig.k.drivers.unbind(dev);
  const { c, u, user } = vfioUser(rig.k);
  c.setContainer(rig.k.iommu.groupOf(dev)!);
  c.setIommu(VFIO_SPAPR_TCE_v2_IOMMU);
  const b = user.mmap(0x10000)!;
  u.registerMemory(b.vaddr, 0x10000n);
  u.removeWindow(0n);
  const w = u.createWindow(16, 1n << 30n);
  u.mapDma(w.start, b.vaddr, 0x10000n, VFIO_DMA_MAP_FLAG_READ);
  const text = humanMonitorCommand(rig.m, 'info iommu');
  t.equal(w.start, 0n, 'take_ownership removed every window, so the user\'s first one lands at dma_win_addr');
  t.match(text, /window LIOBN 0x80000000: bus 0x0-0x3fffffff, 64K pages, 16384 TCEs \(1 valid\), need-vfio no/);
  t.match(text, /window LIOBN 0x80000001: disabled/);
});

t.test('unplug drops the function\'s endpoint; the PE\'s windows and IOTLB stay with the PE', async (t) => {
  const { m, board } = pseries('-device', 'edu', '-device', 'edu,id=e1');
  const dev = m.devicesById.get('e1')!;
  t.match(board.tce.info(), /endpoints: pci\.0 00\.0, pci\.0 01\.0/);
  m.rootBus.unplug(dev as Parameters<typeof m.rootBus.unplug>[0]);
  t.match(board.tce.info(), /endpoints: pci\.0 00\.0\n/);
  t.ok(board.phbDma.tables[0]!.enabled);
});
