import t from 'tap';
import { dmaBitMask, GuestDevice } from '../../src/guest/device.js';
import { DirectDmaOps } from '../../src/guest/dma/dma-direct.js';
import { Swiotlb } from '../../src/guest/dma/swiotlb.js';
import { IOMMU_DOMAIN_DMA } from '../../src/guest/iommu-core/domain-types.js';
import { FakeMachine } from './fake/machine.js';
import { bootQ35, eduDev, eduRaw } from './fake/helpers.js';

t.test('direct DMA bounces a buffer the device mask cannot reach, and copies it back on unmap', async (t) => {
  const m = new FakeMachine('q35', 64 << 20);
  const port = m.port();
  const pool = new Swiotlb(port, 0x10_0000, 0x4_0000);
  const ops = new DirectDmaOps(pool, dmaBitMask(24));
  const dev = new GuestDevice('test');
  dev.dmaMask = dmaBitMask(24);
  t.equal(ops.map(dev, 0x20_0000, 64, 'to-device'), 0x20_0000, 'reachable: the bus address is the physical address');
  port.writeBytes(0x200_0000, Uint8Array.from([1, 2, 3, 4]));
  const b = ops.map(dev, 0x200_0000, 4, 'bidirectional');
  t.ok(b >= 0x10_0000 && b < 0x14_0000, 'a buffer at 32 MiB is bounced below the 16 MiB mask');
  const got = new Uint8Array(4);
  port.readBytes(b, got);
  t.same([...got], [1, 2, 3, 4], 'copied in for the device');
  port.writeBytes(b, Uint8Array.from([5, 6, 7, 8]));
  ops.unmap(dev, b, 4, 'bidirectional');
  port.readBytes(0x200_0000, got);
  t.same([...got], [5, 6, 7, 8], 'copied back for the CPU');
  t.equal(pool.bounced, 1);
  t.notOk(ops.supported(dev, dmaBitMask(20)), 'a mask below ZONE_DMA is refused');
  t.equal(new DirectDmaOps(undefined, dmaBitMask(24)).map(dev, 0x200_0000, 4, 'to-device'), -1, 'without swiotlb the map fails');
});

t.test('scatter-gather through the IOMMU: one IOVA range, segments meeting on page boundaries merged', async (t) => {
  let segs: { dma: number; length: number }[] | undefined;
  const rig = bootQ35({
    boot: {
      dmaMode: 'strict',
      workloads: [],
      scenario: (k) => {
        const dev = eduDev(k);
        const p1 = k.mem.alloc(8192)!;
        const p2 = k.mem.alloc(4096)!;
        k.port.writeBytes(p1 + 4096 - 2, Uint8Array.from([1, 2]));
        k.port.writeBytes(p1 + 4096, Uint8Array.from([3, 4]));
        k.port.writeBytes(p2 + 0x10, Uint8Array.from([5, 6]));
        const sg = [{ paddr: p1 + 4096 - 2, length: 2 }, { paddr: p1 + 4096, length: 2 }, { paddr: p2 + 0x10, length: 2 }];
        segs = k.dma.mapSg(dev, sg, 'to-device');
        eduRaw(k, dev, segs![0]!.dma, 4, false, 0);
        eduRaw(k, dev, segs![1]!.dma, 2, false, 4);
        k.dma.unmapSg(dev, sg, segs!, 'to-device');
      },
    },
  });
  t.equal(segs!.length, 2, 'the first two entries are contiguous in IOVA and merged');
  t.equal(segs![0]!.dma % 4096, 4094);
  t.equal(segs![0]!.length, 4);
  t.equal(segs![1]!.dma, segs![0]!.dma - 4094 + 8192 + 0x10, 'the third follows at its in-page offset');
  t.same([...rig.board.edus[0]!.buf.subarray(0, 6)], [1, 2, 3, 4, 5, 6], 'the device read all three pieces');
  t.equal(rig.booted.report.oracle.violations, 0);
  t.equal(rig.booted.kernel.iommu.groupOf(eduDev(rig.booted.kernel))!.defaultDomain!.type, IOMMU_DOMAIN_DMA);
});

t.test('coherent allocations are zeroed and mapped both ways', async (t) => {
  let c: { paddr: number; dma: number } | undefined;
  bootQ35({
    boot: {
      workloads: [],
      scenario: (k) => {
        const dev = eduDev(k);
        c = k.dma.allocCoherent(dev, 4096);
        const z = new Uint8Array(16);
        k.port.readBytes(c!.paddr, z);
        t.same([...z], new Array(16).fill(0));
        k.dma.freeCoherent(dev, 4096, c!.paddr, c!.dma);
      },
    },
  });
  t.ok(c && c.dma !== c.paddr, 'an IOVA, not the physical address');
});
