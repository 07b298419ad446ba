import t from 'tap';
import { GuestDevice } from '../../../src/guest/device.js';
import { IOMMU_READ, IOMMU_WRITE } from '../../../src/guest/iommu-core/domain-types.js';
import { SharedDomain } from '../../../src/guest/iommu-core/shared-domain.js';
import { pciAtsEnabled } from '../../../src/guest/pci-core/ats.js';
import { IOMMU_NOTIFIER_DEVIOTLB_UNMAP, IOMMU_NOTIFIER_UNMAP, iommuNotifierInit, type IOMMUNotifyEntry } from '../../../src/iommu/index.js';
import { MEMTX_OK } from '../../../src/memory/index.js';
import { AtsPasidDev, bootSmmu, guestDev, smmuMachine } from './helpers.js';

const DEV = [0x1b36, 0x00f0] as const;

t.test('ats=on: the guest enables ATS (STE.EATS), and unmaps reach a DEVIOTLB_UNMAP consumer as ATC invalidations', async (t) => {
  const got: IOMMUNotifyEntry[] = [];
  let iova = 0;
  const mach = smmuMachine(['-global', 'arm-smmuv3.ats=on', '-device', 'x-ats-pasid-dev']);
  const hw = mach.m.pciDevices().find((d) => d instanceof AtsPasidDev)!;
  const ep = mach.smmu.endpointFor(hw.bus, hw.devfn);
  t.equal(ep.region.registerNotifier(iommuNotifierInit((_n, e) => got.push(e), IOMMU_NOTIFIER_DEVIOTLB_UNMAP, 0n, (1n << 48n) - 1n, 0)), null,
    'DEVIOTLB_UNMAP accepted with ats=on');
  const b = bootSmmu(mach, {
    dmaMode: 'strict', workloads: [],
    scenario: (k) => {
      const dev = guestDev(k, ...DEV);
      const page = k.mem.alloc(3 * 4096)!;
      iova = k.dma.mapSingle(dev, page, 3 * 4096, 'bidirectional');
      k.dma.unmapSingle(dev, iova, 3 * 4096, 'bidirectional');
    },
  });
  const dev = guestDev(b.k, ...DEV);
  t.ok(pciAtsEnabled(dev.pci!), 'ATS Enable set in the device\'s capability');
  const [w0] = b.drv.strtab.read(dev.pci!.devId);
  t.equal((w0 >>> 1) & 7, 5);
  const master = b.drv.masters.get(dev)!;
  t.ok(master.atsEnabled);
  const ste2 = b.m.systemAs.read(b.drv.strtab.steAddress(dev.pci!.devId) + 8, 4).lo;
  t.equal((ste2 >>> 28) & 3, 1, 'STE.EATS = 0b01 (full ATS)');
  const atc = got.filter((e) => e.addrMask !== (1n << 48n) - 1n);
  t.same(atc.map((e) => [e.iova, e.addrMask]), [[BigInt(iova), 0x3fffn]], 'the 12 KiB unmap, as the 16 KiB ATC span covering it');
  t.ok(b.smmu.smmu.stats.atcInvalidations >= 2, 'ATC_INV at attach (all) and after the TLBI');
});

t.test('ats=off: no ATS, DEVIOTLB_UNMAP vetoed; an UNMAP consumer gets the TLBI ranges instead', async (t) => {
  const got: IOMMUNotifyEntry[] = [];
  let iova = 0;
  const b = bootSmmu(['-device', 'x-ats-pasid-dev'], {
    dmaMode: 'strict', workloads: [],
    scenario: (k) => {
      const dev = guestDev(k, ...DEV);
      const page = k.mem.alloc(4096)!;
      iova = k.dma.mapSingle(dev, page, 4096, 'to-device');
      k.dma.unmapSingle(dev, iova, 4096, 'to-device');
    },
  });
  const hw = b.m.pciDevices().find((d) => d instanceof AtsPasidDev)!;
  const ep = b.smmu.endpointFor(hw.bus, hw.devfn);
  t.same(ep.region.registerNotifier(iommuNotifierInit(() => undefined, IOMMU_NOTIFIER_DEVIOTLB_UNMAP, 0n, 1n, 0)),
    { errno: -22, message: 'SMMUv3 does not support dev-iotlb yet' });
  t.notOk(pciAtsEnabled(guestDev(b.k, ...DEV).pci!), 'no ATS without IDR0.ATS');
  ep.region.registerNotifier(iommuNotifierInit((_n, e) => got.push(e), IOMMU_NOTIFIER_UNMAP, 0n, (1n << 48n) - 1n, 0));
  const dev = guestDev(b.k, ...DEV);
  const page = b.k.mem.alloc(4096)!;
  const again = b.k.dma.mapSingle(dev, page, 4096, 'to-device');
  b.k.dma.unmapSingle(dev, again, 4096, 'to-device');
  t.same(got.map((e) => [e.iova, e.addrMask]), [[BigInt(again), 0xfffn]], 'TLBI_NH_VA (range) -> UNMAP {iova, 4K - 1}');
  t.ok(iova > 0);
});

t.test('substreams: mediated functions of one parent share one domain at their own PASIDs (seed 001)', async (t) => {
  const b = bootSmmu(['-global', 'arm-smmuv3.ssidsize=8', '-device', 'x-ats-pasid-dev'], { dmaMode: 'strict', workloads: [] });
  const k = b.k;
  const parent = guestDev(k, ...DEV);
  parent.pci!.setMaster(); // no driver binds to the test device: bus mastering by hand
  t.ok(k.iommu.capable(parent, 'pasid'), 'PASID-capable through the SMMU (SSIDSIZE 8, PASID width 8)');
  const shared = SharedDomain.alloc(k.iommu, parent);
  if (typeof shared === 'number') return t.fail(`alloc: ${shared}`);
  const m1 = shared.attachMediated(new GuestDevice('mdev0', undefined, parent));
  const m2 = shared.attachMediated(new GuestDevice('mdev1', undefined, parent));
  if (typeof m1 === 'number' || typeof m2 === 'number') return t.fail('attachMediated failed');
  t.ok(m1.pasid > 0 && m2.pasid > 0 && m1.pasid !== m2.pasid, `PASIDs ${m1.pasid} and ${m2.pasid}`);
  const page = k.mem.alloc(4096)!;
  k.port.write(page, 4, 0xfeedbeef);
  t.equal(shared.map(0x7000000, page, 4096, IOMMU_READ | IOMMU_WRITE), 0);
  const hw = b.m.pciDevices().find((d) => d instanceof AtsPasidDev)!;
  const read = (pasid?: number) => {
    const buf = new Uint8Array(4);
    const r = hw.busMaster.as.readBytes(0x7000000, buf, { requesterId: hw.requesterId, ...(pasid !== undefined ? { pasid } : {}) });
    return r === MEMTX_OK ? new DataView(buf.buffer).getUint32(0, true) : -1;
  };
  t.equal(read(m1.pasid), 0xfeedbeef, 'mdev0\'s PASID reaches the shared page');
  t.equal(read(m2.pasid), 0xfeedbeef, 'mdev1\'s too');
  t.equal(read(), -1, 'the RID (the parent\'s DMA domain) does not map it');
  t.equal(read(77), -1, 'an unattached PASID faults (its CD is invalid)');
  const sid = parent.pci!.devId;
  const e = b.smmu.smmu.cache.get(sid)!;
  t.equal(e.ste.s1cdmax, 8);
  t.equal(e.cds.get(m1.pasid)!.ctx, e.cds.get(m2.pasid)!.ctx, 'both PASIDs use one ASID regime: one IOTLB context');
  t.equal(shared.unmap(0x7000000, 4096), 4096);
  t.equal(read(m1.pasid), -1, 'unmapped and invalidated (TLBI by the domain\'s ASID + CMD_SYNC)');
  shared.detachMediated(m2.dev);
  t.equal(read(m2.pasid), -1, 'detached: CD cleared, CFGI_CD');
  const kinds = b.drv.evtq.seen.map((x) => x.type);
  t.ok(kinds.includes(0x10) || kinds.includes(0x0a), 'the refused accesses were recorded');
});
