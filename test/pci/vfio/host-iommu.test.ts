import t from 'tap';
import { HostIommu } from '../../../src/pci/vfio/host-iommu.js';

t.test('type1: MAP over an existing mapping is -EEXIST (vfio_dma_do_map); UNMAP cuts at the edges', async (t) => {
  const h = new HostIommu('type1');
  t.equal(h.map(0x1000n, 0x3000n, 0x10000n, 3), 0);
  t.equal(h.map(0x2000n, 0x1000n, 0x20000n, 3), -17, 'overlap refused');
  t.equal(h.lookup(0x2800)!.gpa + (0x2800 - h.lookup(0x2800)!.iova), 0x11800);
  t.equal(h.unmap(0x2000n, 0x1000n), 0x1000n);
  t.equal(h.lookup(0x2800), undefined, 'the middle page is gone');
  t.equal(h.lookup(0x3000)!.gpa, 0x12000, 'the tail keeps its translation');
  t.equal(h.mappingCount, 2);
  t.equal(h.map(0x1000n, 0x1000n, 0x0n, 0), -22, 'no permission: -EINVAL');
  t.equal(h.addWindow(0n, 0x1000n, 4096), -22, 'type1 has no windows');
});

t.test('spapr-tce: MAP outside every window is -ENXIO; a MAP over an entry exchanges it; removing a window drops what it maps', async (t) => {
  const h = new HostIommu('spapr-tce');
  t.equal(h.map(0x1000n, 0x1000n, 0x5000n, 3), -6);
  t.equal(h.addWindow(0n, 0x4000_0000n, 4096), 0);
  t.equal(h.addWindow(0x1000_0000n, 0x1000n, 4096), -16, 'overlapping windows refused');
  t.equal(h.map(0x1000n, 0x1000n, 0x5000n, 1), 0);
  t.equal(h.map(0x1000n, 0x1000n, 0x6000n, 3), 0, 'H_PUT_TCE may overwrite a valid entry');
  t.equal(h.counters.exchanged, 1);
  t.equal(h.lookup(0x1000)!.gpa, 0x6000);
  t.equal(h.removeWindow(0n), 0);
  t.equal(h.mappingCount, 0);
});

t.test('mappings above 2^53 (the sPAPR 64-bit window at 2^59) are exact', async (t) => {
  const h = new HostIommu('spapr-tce');
  const base = 1n << 59n;
  t.equal(h.addWindow(base, 1n << 30n, 65536), 0);
  t.equal(h.map(base + 0x10000n, 0x10000n, 0x30000n, 3), 0);
  t.equal(h.lookupHigh(base + 0x10001n)!.gpa, 0x30000);
  t.equal(h.lookupHigh(base + 0x20000n), undefined);
  t.equal(h.unmap(base, 1n << 30n), 0x10000n);
});
