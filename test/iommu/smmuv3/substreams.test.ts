import t from 'tap';
import { SmmuGuest, cdWords } from '../../../src/iommu/index.js';
import { CD_BASE, DATA, ok, rig } from './rig.js';

function read32(r: ReturnType<typeof rig>, d: ReturnType<typeof rig>['pci'][number], iova: number, pasid?: number) {
  const x = r.dmaRead(d, iova, 4, pasid === undefined ? {} : { pasid });
  return ok(x.result) ? new DataView(x.data.buffer).getUint32(0, true) : -1;
}

t.test('IDR1.SSIDSIZE and IDR0.CD2L reflect the ssidsize property; a PASID without substreams is C_BAD_SUBSTREAMID', async (t) => {
  const r = rig({ globals: ['ssidsize=5'] });
  t.equal((r.g.r32(4) >>> 6) & 0x1f, 5, 'SSIDSIZE');
  t.equal(r.g.r32(0) & (1 << 19), 1 << 19, 'CD2L');
  const z = rig();
  t.equal((z.g.r32(4) >>> 6) & 0x1f, 0, 'QEMU\'s default: 0');
  const edu = z.pci[0]!;
  const pt = z.tables();
  pt.map(0x1000, DATA);
  z.g.cd(CD_BASE, { asid: 1, ttb0: pt.root, tsz: 25 });
  z.g.ste(z.sid(edu), 's1', { cd: CD_BASE });
  z.g.enable();
  t.equal(read32(z, edu, 0x1000, 3), -1);
  const [e] = z.g.drainEvents();
  t.same([e![0]! & 0xff, e![0]! >>> 12, e![1]], [0x08, 3, z.sid(edu)], 'C_BAD_SUBSTREAMID with the SubstreamID');
});

for (const fmt of ['linear', '2-level 4K', '2-level 64K'] as const) {
  t.test(`two PASIDs on one device, ${fmt} CD table: different CDs translate differently`, async (t) => {
    const r = rig({ globals: ['ssidsize=8'] });
    const edu = r.pci[0]!;
    const mem = r.m.systemAs;
    const a = r.tables(12, 25);
    const b = r.tables(12, 25);
    a.map(0x10000, DATA);
    b.map(0x10000, DATA + 0x1000);
    mem.write(DATA, 4, 0xaaaa0001);
    mem.write(DATA + 0x1000, 4, 0xbbbb0002);
    // CD table: 2^6 CDs (S1CDMax 6) linear at CD_BASE, or an L1 of L1CDs pointing at leaves.
    const cdAt = (ssid: number): number => {
      if (fmt === 'linear') return CD_BASE + ssid * 64;
      const leaf = fmt === '2-level 4K' ? 64 : 1024;
      const l2 = CD_BASE + 0x10000 + Math.floor(ssid / leaf) * leaf * 64;
      r.g.st64(CD_BASE + Math.floor(ssid / leaf) * 8, l2 + 1, 0);
      return l2 + (ssid % leaf) * 64;
    };
    r.g.cd(cdAt(0), { asid: 10, ttb0: a.root, tsz: 25 });
    r.g.cd(cdAt(5), { asid: 11, ttb0: a.root, tsz: 25 });
    r.g.cd(cdAt(70), { asid: 12, ttb0: b.root, tsz: 25 });
    const max = 7;
    const s1fmt = fmt === 'linear' ? 0 : fmt === '2-level 4K' ? 1 : 2;
    r.g.ste(r.sid(edu), 's1', { cd: CD_BASE, s1fmt, s1cdmax: max, s1dss: 2 /* substream 0 */ });
    r.g.enable();
    t.equal(read32(r, edu, 0x10000, 5), 0xaaaa0001, 'PASID 5 -> CD 5 (tables A)');
    t.equal(read32(r, edu, 0x10000, 70), 0xbbbb0002, 'PASID 70 -> CD 70 (tables B)');
    t.equal(read32(r, edu, 0x10000), 0xaaaa0001, 'no PASID, S1DSS = 0b10: CD 0');
    t.equal(read32(r, edu, 0x10000, 0), -1, 'PASID 0 is reserved with S1DSS = 0b10: F_STREAM_DISABLED');
    t.equal(read32(r, edu, 0x10000, 128), -1, 'PASID >= 2^S1CDMax: C_BAD_SUBSTREAMID');
    t.equal(read32(r, edu, 0x10000, 9), -1, 'a CD with V = 0: C_BAD_CD');
    const ev = r.g.drainEvents().map((w) => [w[0]! & 0xff, w[0]! & (1 << 11) ? w[0]! >>> 12 : -1]);
    t.same(ev, [[0x06, -1], [0x08, -1], [0x0a, 9]], 'F_STREAM_DISABLED, C_BAD_SUBSTREAMID (SubstreamID 128, no SSV bit), C_BAD_CD with SSV');
    // CFGI_CD for one SSID: the new CD 70 is used only after it.
    r.g.cd(cdAt(70), { asid: 13, ttb0: a.root, tsz: 25 });
    t.equal(read32(r, edu, 0x10000, 70), 0xbbbb0002, 'CD 70 is cached');
    r.g.cmd([0x05 | (70 << 12), r.sid(edu), 1, 0], SmmuGuest.SYNC);
    t.equal(read32(r, edu, 0x10000, 70), 0xaaaa0001, 'CFGI_CD(70): the new CD');
    t.equal(r.smmu.cache.get(r.sid(edu))!.cds.has(5), true, 'CD 5 stayed cached');
  });
}

t.test('S1DSS: 0b00 terminates non-substream traffic (F_STREAM_DISABLED), 0b01 bypasses stage 1; an invalid L1CD is C_BAD_SUBSTREAMID', async (t) => {
  const r = rig({ globals: ['ssidsize=8'] });
  const edu = r.pci[0]!;
  r.m.systemAs.write(DATA, 4, 0x5a5a5a5a);
  r.g.st64(CD_BASE, 0, 0); // L1CD 0: V = 0
  r.g.ste(r.sid(edu), 's1', { cd: CD_BASE, s1fmt: 1, s1cdmax: 8, s1dss: 0 });
  r.g.enable();
  t.equal(read32(r, edu, 0x1000), -1);
  t.equal(read32(r, edu, 0x1000, 1), -1);
  t.same(r.g.drainEvents().map((w) => w[0]! & 0xff), [0x06, 0x08]);
  r.g.ste(r.sid(edu), 's1', { cd: CD_BASE, s1fmt: 1, s1cdmax: 8, s1dss: 1 });
  r.g.cmd(SmmuGuest.cfgiSte(r.sid(edu)), SmmuGuest.SYNC);
  t.equal(read32(r, edu, DATA), 0x5a5a5a5a, 'S1DSS = 0b01: bypass');
});

t.test('the shared-domain case: mediated functions of one parent, each with its own PASID, share one CD regime', async (t) => {
  const r = rig({ globals: ['ssidsize=4'] });
  const edu = r.pci[0]!;
  const pt = r.tables();
  pt.map(0x8000, DATA);
  const words = cdWords({ asid: 20, ttb0: pt.root, tsz: 25 });
  for (const ssid of [1, 2]) {
    r.g.st64(CD_BASE + ssid * 64, words[0]!, words[1]!);
    r.g.st64(CD_BASE + ssid * 64 + 8, words[2]!, words[3]!);
  }
  r.g.ste(r.sid(edu), 's1', { cd: CD_BASE, s1cdmax: 4, s1dss: 2 });
  r.g.enable();
  t.ok(read32(r, edu, 0x8000, 1) >= 0);
  t.ok(read32(r, edu, 0x8000, 2) >= 0);
  const e = r.smmu.cache.get(r.sid(edu))!;
  t.equal(e.cds.get(1)!.ctx, e.cds.get(2)!.ctx, 'one translation context (one ASID, one table): IOTLB entries are shared');
  pt.unmap(0x8000);
  r.g.cmd(SmmuGuest.tlbiVa(20, 0x8000), SmmuGuest.SYNC);
  t.equal(read32(r, edu, 0x8000, 1), -1, 'one TLBI by ASID covers both PASIDs');
  t.equal(read32(r, edu, 0x8000, 2), -1);
});
