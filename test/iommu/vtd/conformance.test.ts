import t from 'tap';
import { MEMTX_OK } from '../../../src/memory/index.js';
import { IOMMU_NOTIFIER_DEVIOTLB_UNMAP, iommuNotifierInit, registerIommuNotifier, type IOMMUNotifyEntry } from '../../../src/iommu/index.js';
import { QUEUE, R, SRTP, STATUS, TE, vtdMachine } from './helpers.js';

// The VT-d conformance behaviours of ref/smmuv3-vtd.md (9-12), driven
// through the register interface of a built q35 machine.

t.test('9: GCMD with only SRTP while TE is on turns translation off; DMA becomes identity', async (t) => {
  const v = vtdMachine();
  const slpt = v.bringUp();
  v.map(slpt, 3, 0x5000, 0x200000);
  v.st64(0x200000, 0x1111);
  v.st64(0x5000, 0x2222);
  t.ok(v.r32(R.GSTS) & TE, 'TES');
  t.equal(v.dmaRead(0x5000).buf[0], 0x11, 'translated: IOVA 0x5000 reads 0x200000');
  v.w32(R.GCMD, SRTP);
  t.equal(v.r32(R.GSTS) & TE, 0, 'GSTS.TES clear');
  t.equal(v.r32(R.GSTS) & SRTP, SRTP, 'RTPS still set');
  t.equal(v.dmaRead(0x5000).buf[0], 0x22, 'identity: IOVA 0x5000 reads 0x5000');
  t.notOk(v.das().useIommu, 'the device address space is on the no-DMAR alias');
});

t.test('10: an R-only leaf and a device write record FR=5, T=0, SID=BDF; PPF, FRI=0; MSI unless IM; FPD=1 records nothing', async (t) => {
  const v = vtdMachine();
  const msis: [bigint, number][] = [];
  v.m.onMsi((a, d) => msis.push([a, d]));
  v.w32(R.FEDATA, 0x4041);
  v.w32(R.FEADDR, 0xfee00000);
  v.w32(R.FECTL, 0);
  const slpt = v.bringUp();
  v.map(slpt, 3, 0x3000, 0x200000, 1);
  t.equal(v.dmaRead(0x3000).res, MEMTX_OK, 'a read succeeds');
  t.not(v.dmaWrite(0x3000, [1, 2, 3, 4]), MEMTX_OK, 'the write fails');
  t.same(v.frcd(), { reason: 5, read: 0, sid: 0x0008, addr: 0x3000 });
  t.equal(v.r32(R.FSTS), 0x2, 'FSTS: PPF, FRI 0');
  t.same(msis, [[0xfee00000n, 0x4041]], 'fault event MSI to FEADDR/FEDATA');
  t.equal(v.r32(R.FECTL), 0, 'IP clear after the MSI was sent');

  const w = vtdMachine();
  const seen: number[] = [];
  w.m.onMsi((_a, d) => seen.push(d));
  w.w32(R.FECTL, 0);
  const s2 = w.bringUp({ fpd: true });
  w.map(s2, 3, 0x3000, 0x200000, 1);
  t.not(w.dmaWrite(0x3000, [1]), MEMTX_OK, 'the write still fails');
  t.equal(w.frcd(), undefined, 'FPD=1: nothing recorded');
  t.equal(w.r32(R.FSTS), 0);
  t.same(seen, []);
  t.equal(w.vtd.faults.counts.suppressed, 1);
});

t.test('10b: with FECTL.IM set the event stays pending (IP) until IM is cleared', async (t) => {
  const v = vtdMachine();
  const msis: number[] = [];
  v.m.onMsi((_a, d) => msis.push(d));
  v.w32(R.FEDATA, 0x55);
  v.w32(R.FEADDR, 0xfee00000);
  v.bringUp();
  v.dmaRead(0x9000);
  t.same(v.frcd(), { reason: 6, read: 1, sid: 8, addr: 0x9000 }, 'not present: READ');
  t.equal(v.r32(R.FECTL), 0xc0000000, 'IM and IP');
  t.same(msis, []);
  v.w32(R.FECTL, 0);
  t.same(msis, [0x55], 'clearing IM sends the deferred MSI');
  t.equal(v.r32(R.FECTL), 0);
});

t.test('11: a wait descriptor with SW writes 0xCAFE and IQH moves; a type-0 descriptor raises IQE and IQH stays', async (t) => {
  const v = vtdMachine();
  v.qiOn();
  v.submit([0x0000cafe00000025n, BigInt(STATUS)]);
  t.equal(v.ld32(STATUS), 0xcafe);
  t.equal(Number(v.r64(R.IQH)), 0x10);
  v.submit([0n, 0n]);
  t.equal(v.r32(R.FSTS) & 0x10, 0x10, 'IQE');
  t.equal(Number(v.r64(R.IQH)), 0x10, 'IQH on the bad descriptor');
  t.equal(v.r32(R.FECTL), 0xc0000000, 'fault event pending, masked');
  v.st64(QUEUE + 0x10, 0x0000beef00000025n);
  v.st64(QUEUE + 0x18, STATUS);
  v.w64(R.IQT, 0x20);
  t.equal(v.ld32(STATUS), 0xcafe, 'nothing runs while IQE is set');
  v.w32(R.FSTS, 0x10);
  v.w64(R.IQT, 0x20);
  t.equal(v.ld32(STATUS), 0xbeef, 'after clearing IQE the fixed descriptor runs');
  t.equal(Number(v.r64(R.IQH)), 0x20);
});

t.test('11b: the specification\'s wait variants: SW and IF together, FN alone, none (QEMU 7.2 aborts / raises IQE)', async (t) => {
  const v = vtdMachine();
  const msis: number[] = [];
  v.m.onMsi((_a, d) => msis.push(d));
  v.w32(R.IECTL, 0);
  v.w32(0xa4, 0x77);
  v.w32(0xa8, 0xfee00000);
  v.qiOn();
  v.submit([0x0000abcd00000035n, BigInt(STATUS)], [0x45n, 0n], [0x5n, 0n]);
  t.equal(v.ld32(STATUS), 0xabcd, 'SW done');
  t.same(msis, [0x77], 'and the completion MSI');
  t.equal(v.r32(R.ICS), 1, 'ICS.IWC');
  t.equal(v.r32(R.FSTS), 0, 'FN alone and a bare wait are fences, not errors');
  t.equal(Number(v.r64(R.IQH)), 0x30);
  t.equal(v.vtd.inv.wait, 3);
});

t.test('12: device-iotlb=on, ADDR 0x3000 S=1 -> one DEVIOTLB_UNMAP iova 0 mask 0x7fff; device-iotlb=off refuses the notifier', async (t) => {
  const v = vtdMachine('device-iotlb=on');
  const got: IOMMUNotifyEntry[] = [];
  const n = iommuNotifierInit((_n, e) => got.push({ ...e }), IOMMU_NOTIFIER_DEVIOTLB_UNMAP, 0n, (1n << 64n) - 1n, 0);
  t.equal(registerIommuNotifier(v.das().iommu, n), null);
  v.qiOn();
  v.submit([(0x0008n << 32n) | 0x3n, 0x3001n], v.waitDesc());
  t.equal(got.length, 1);
  t.same(got.map((e) => [e.iova, e.addrMask]), [[0n, 0x7fffn]]);
  t.equal(got[0]!.targetAs, v.das().as, 'target: the device address space');
  got.length = 0;
  v.submit([(0x0008n << 32n) | 0x3n, 0x5000n], v.waitDesc());
  t.same(got.map((e) => [e.iova, e.addrMask]), [[0x5000n, 0xfffn]], 'S=0: 4K');
  got.length = 0;
  v.submit([(0x0108n << 32n) | 0x3n, 0x0n], v.waitDesc());
  t.same(got, [], 'an unknown SID is a silent success');
  t.equal(v.r32(R.FSTS), 0);

  const off = vtdMachine();
  const n2 = iommuNotifierInit(() => undefined, IOMMU_NOTIFIER_DEVIOTLB_UNMAP, 0n, (1n << 64n) - 1n, 0);
  t.same(registerIommuNotifier(off.das().iommu, n2), { errno: -95, message: 'device 00.01.0 requires device IOTLB mode' });
  t.same(off.das().iommu.registeredNotifiers, [], 'no trace');
});

t.test('interrupt remapping (register level): SIRTP/IRE status; remappable MSIs go through the IRTE, compatibility ones pass', async (t) => {
  const v = vtdMachine('intremap=on');
  const msis: [bigint, number][] = [];
  v.m.onMsi((a, d) => msis.push([a, d]));
  const irt = 0x180000;
  v.mem.writeBytes(irt, new Uint8Array(0x1000));
  // IRTE 3 (spec 9.10): P, DM=0, TM=0, DLM fixed, vector 0x41, DST 0x02 (xAPIC: DST[15:8]); SVT=1 SQ=0 SID 00:01.0.
  v.st64(irt + 3 * 16, (0x0200n << 32n) | (0x41n << 16n) | 1n);
  v.st64(irt + 3 * 16 + 8, (1n << 18n) | 0x0008n);
  v.w64(R.IRTA, irt | 0x7);
  v.gcmdOr(0x01000000);
  t.equal(v.r32(R.GSTS) & 0x01000000, 0x01000000, 'IRTPS');
  v.gcmdOr(0x02000000);
  t.equal(v.r32(R.GSTS) & 0x02000000, 0x02000000, 'IRES');
  // A device MSI: remappable format (bit 4), handle 3 in [19:5].
  v.edu.dmaSt32(0xfee00000 + (3 << 5) + 0x10, 0);
  t.same(msis, [[0xfee02000n, 0x4041]], 'delivered to APIC 2, vector 0x41 (level-assert bit 14 set, as QEMU)');
  msis.length = 0;
  v.edu.dmaSt32(0xfee01000, 0x31);
  t.same(msis, [[0xfee01000n, 0x31]], 'compatibility format: unchanged');
  msis.length = 0;
  v.edu.dmaSt32(0xfee00000 + (4 << 5) + 0x10, 0);
  t.same(msis, [], 'a not-present IRTE: dropped');
  v.qiOn();
  v.submit([0x4n | (0x1n << 4n) | (3n << 32n), 0n], v.waitDesc());
  t.equal(v.r32(R.FSTS), 0, 'an index-selective IEC descriptor is accepted');
});

t.test('system reset: registers to their reset values, translation off, DMA identity again', async (t) => {
  const v = vtdMachine();
  v.map(v.bringUp(), 3, 0x1000, 0x300000);
  v.qiOn();
  v.dmaRead(0x9000);
  v.m.reset();
  v.edu.configWrite(4, 0x6, 2);
  t.same([v.r32(R.GSTS), v.r32(R.FSTS), v.r32(R.FECTL), Number(v.r64(R.RTADDR)), Number(v.r64(R.IQA))], [0, 0, 0x80000000, 0, 0]);
  t.equal(v.frcd(), undefined);
  v.st64(0x1000, 0x5a);
  t.equal(v.dmaRead(0x1000).buf[0], 0x5a, 'identity');
  t.equal(v.vtd.engine.iotlb.entries, 0);
});
