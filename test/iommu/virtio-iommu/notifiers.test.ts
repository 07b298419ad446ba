import t from 'tap';
import {
  IOMMU_NOTIFIER_DEVIOTLB_UNMAP, IOMMU_NOTIFIER_IOTLB_EVENTS, IOMMU_NOTIFIER_MAP, IOMMU_NOTIFIER_UNMAP, iommuNotifierInit,
  U64_MAX, type IOMMUNotifier,
} from '../../../src/iommu/notifier.js';
import { dmaAlignedPow2Mask, pow2Chunks } from '../../../src/iommu/virtio-iommu/notify.js';
import { IOMMU_RO, IOMMU_WO, MEMTXATTRS_UNSPECIFIED } from '../../../src/memory/index.js';
import type { VirtioIommuPci } from '../../../src/virtio/iommu/virtio-iommu-pci.js';
import { S, ViommuDriver } from './helpers/viommu.js';

// The virtio-iommu's IOMMU regions under the notifier API (QEMU semantics,
// ref qemu-core.md section 2): DEVIOTLB_UNMAP vetoed with QEMU's message,
// MAP/UNMAP in aligned power-of-two chunks, replay, attach/detach events,
// and the IOTLB in front of the mapping trees.
const EDU = 0x18;
type Ev = [string, bigint, bigint, bigint, number];

function listen(d: ViommuDriver, ep: number, flags = IOMMU_NOTIFIER_IOTLB_EVENTS): { events: Ev[]; n: IOMMUNotifier } {
  const events: Ev[] = [];
  const n = iommuNotifierInit((_n, e) => events.push([e.perm ? 'MAP' : 'UNMAP', e.iova, e.addrMask, e.translatedAddr, e.perm]), flags, 0n, U64_MAX, 0);
  const region = (d.dev as VirtioIommuPci).endpointRegion(ep)!;
  const err = region.registerNotifier(n);
  if (err) throw new Error(err.message);
  return { events, n };
}

t.test('dma_aligned_pow2_mask and the chunking of a range', async (t) => {
  t.equal(dmaAlignedPow2Mask(0x1000n, 0x4fffn), 0xfffn, 'alignment limits the first chunk');
  t.equal(dmaAlignedPow2Mask(0x2000n, 0x4fffn), 0x1fffn);
  t.equal(dmaAlignedPow2Mask(0n, 0x2fffn), 0x1fffn, 'size limits a chunk at 0');
  t.same(pow2Chunks(0x1000n, 0x4fffn, 0xa000n, true).map((c) => [c.iova, c.addrMask, c.translated]),
    [[0x1000n, 0xfffn, 0xa000n], [0x2000n, 0x1fffn, 0xb000n], [0x4000n, 0xfffn, 0xd000n]]);
  t.same(pow2Chunks(0n, U64_MAX, 0n, false).map((c) => [c.iova, c.addrMask]), [[0n, U64_MAX]], 'the whole space is one event');
  t.same(pow2Chunks(10n, 14n, 0x100n, true).map((c) => [c.iova, c.addrMask]), [[10n, 1n], [12n, 1n], [14n, 0n]], 'byte ranges too');
});

t.test('DEVIOTLB_UNMAP is vetoed with QEMU\'s message and leaves no trace', async (t) => {
  const d = new ViommuDriver();
  const region = (d.dev as VirtioIommuPci).endpointRegion(EDU)!;
  const n = iommuNotifierInit(() => undefined, IOMMU_NOTIFIER_DEVIOTLB_UNMAP, 0n, U64_MAX, 0);
  const err = region.registerNotifier(n);
  t.same(err, { errno: -22, message: 'Virtio-iommu does not support dev-iotlb yet' });
  t.equal(region.iommuNotifyFlags, 0);
  t.equal(region.registeredNotifiers.length, 0);
  const both = iommuNotifierInit(() => undefined, IOMMU_NOTIFIER_UNMAP | IOMMU_NOTIFIER_DEVIOTLB_UNMAP, 0n, U64_MAX, 0);
  t.ok(region.registerNotifier(both), 'any union with DEVIOTLB_UNMAP is refused');
  t.equal(region.registerNotifier(iommuNotifierInit(() => undefined, IOMMU_NOTIFIER_UNMAP, 0n, U64_MAX, 0)), null, 'UNMAP alone is accepted');
});

t.test('MAP and UNMAP events in chunks; MMIO mappings are not sent', async (t) => {
  const d = new ViommuDriver();
  d.attach(1, EDU);
  const { events } = listen(d, EDU);
  t.equal(d.map(1, 0x1000, 0x4fff, 0x200000, 1), S.OK);
  t.same(events, [
    ['MAP', 0x1000n, 0xfffn, 0x200000n, IOMMU_RO], ['MAP', 0x2000n, 0x1fffn, 0x201000n, IOMMU_RO], ['MAP', 0x4000n, 0xfffn, 0x203000n, IOMMU_RO],
  ]);
  events.length = 0;
  t.equal(d.map(1, 0x10000, 0x10fff, 0x300000, 4 | 2), S.OK);
  t.same(events, [], 'no MAP for an MMIO mapping');
  t.equal(d.unmap(1, 0, 0xffff), S.OK);
  t.same(events.map((e) => [e[0], e[1], e[2], e[4]]), [['UNMAP', 0x1000n, 0xfffn, 0], ['UNMAP', 0x2000n, 0x1fffn, 0], ['UNMAP', 0x4000n, 0xfffn, 0]]);
  events.length = 0;
  t.equal(d.unmap(1, 0x10000, 0x10fff), S.OK);
  t.same(events.map((e) => e[0]), ['UNMAP'], 'UNMAP is sent for MMIO mappings too');
});

t.test('a notifier sees only the types it asked for', async (t) => {
  const d = new ViommuDriver();
  d.attach(1, EDU);
  const { events } = listen(d, EDU, IOMMU_NOTIFIER_UNMAP);
  d.map(1, 0, 0xfff, 0x200000);
  t.same(events, [], 'no MAP');
  d.unmap(1, 0, 0xfff);
  t.equal(events.length, 1);
});

t.test('attach replays the domain, detach unmaps it, replay re-sends MAPs', async (t) => {
  const d = new ViommuDriver();
  d.attach(1, 0);
  d.map(1, 0, 0x1fff, 0x200000, 3);
  const { events, n } = listen(d, EDU, IOMMU_NOTIFIER_MAP | IOMMU_NOTIFIER_UNMAP);
  t.equal(d.attach(1, EDU), S.OK);
  t.same(events, [['MAP', 0n, 0x1fffn, 0x200000n, IOMMU_RO | IOMMU_WO]], 'joining a domain replays its mappings');
  events.length = 0;
  (d.dev as VirtioIommuPci).endpointRegion(EDU)!.replay(n);
  t.same(events, [['MAP', 0n, 0x1fffn, 0x200000n, IOMMU_RO | IOMMU_WO]], 'replay');
  events.length = 0;
  t.equal(d.detach(1, EDU), S.OK);
  t.same(events, [['UNMAP', 0n, 0x1fffn, 0n, 0]], 'detach unmaps what the endpoint could reach');
});

t.test('the IOTLB in front of the trees: hits, and no stale entry after UNMAP', async (t) => {
  const d = new ViommuDriver();
  const dev = d.dev as VirtioIommuPci;
  d.attach(1, EDU);
  d.map(1, 0x200000, 0x3fffff, 0x600000, 1);
  const region = dev.endpointRegion(EDU)!;
  const tr = (a: number, f = IOMMU_RO) => {
    const e = region.translate(a, f, 0, MEMTXATTRS_UNSPECIFIED);
    return e.perm ? e.translatedAddr : -1;
  };
  t.equal(tr(0x200010), 0x600010);
  const hits = dev.core.iotlb.hits;
  t.equal(tr(0x3ff000), 0x7ff000, 'a 2 MiB block was cached from a 2 MiB-aligned mapping');
  t.equal(dev.core.iotlb.hits, hits + 1, 'the second access hit the IOTLB');
  t.equal(tr(0x200000, IOMMU_WO), -1, 'a write to a read-only mapping faults even with the entry cached');
  t.equal(d.unmap(1, 0x200000, 0x3fffff), S.OK);
  t.equal(tr(0x3ff000), -1, 'after the UNMAP reply no translation uses the removed entry');
  t.equal(dev.core.iotlb.entries, 0);
});

t.test('the MSI doorbell is never cached inside a mapping (compat allows such a mapping)', async (t) => {
  const d = new ViommuDriver(',x-qemu-compat=on');
  const dev = d.dev as VirtioIommuPci;
  d.attach(1, EDU);
  t.equal(d.map(1, 0xfe000000, 0xffffffff, 0x1000000, 3), S.OK);
  const region = dev.endpointRegion(EDU)!;
  region.translate(0xfed00000, IOMMU_RO, 0, MEMTXATTRS_UNSPECIFIED);
  const e = region.translate(0xfee00000, IOMMU_WO, 0, MEMTXATTRS_UNSPECIFIED);
  t.equal(e.translatedAddr, 0xfee00000, 'the doorbell keeps the identity');
});
