import t, { type Test } from 'tap';
import type { VirtioIommuPci } from '../../../src/virtio/iommu/virtio-iommu-pci.js';
import { attachReq, F_NO_BYPASS_CONFIG, F_NO_MMIO, probeReq, S, unmapReq, ViommuDriver } from './helpers/viommu.js';

// Every status case of the virtio-iommu specification (virtio 1.2 section
// 5.13.6; ref B4), spec-strict mode (the default), through the request queue.
const EDU = 0x18;
const core = (d: ViommuDriver) => (d.dev as VirtioIommuPci).core;
const mappings = (d: ViommuDriver, dom: number) => core(d).domains.get(dom)?.mappings.all().map((m) => [Number(m.start), Number(m.end)]);

t.test('ATTACH', async (t) => {
  const d = new ViommuDriver();
  t.equal(d.send(attachReq(1, EDU, 0, 1)), S.INVAL, 'reserved != 0: INVAL');
  t.equal(d.attach(1, EDU, 2), S.INVAL, 'unknown flag: INVAL');
  t.equal(d.attach(1, 0x300), S.NOENT, 'no such endpoint: NOENT');
  t.equal(core(d).domains.size, 0, 'nothing was created by refused requests');
  t.equal(d.attach(1, EDU), S.OK, 'a missing domain is created');
  t.equal(d.map(1, 0x1000, 0x1fff, 0x200000), S.OK);
  t.equal(d.attach(2, EDU), S.OK, 'attached elsewhere: implicit detach, then attach');
  t.equal(d.map(1, 0x2000, 0x2fff, 0x200000), S.NOENT, 'the old domain lost its last endpoint and is gone');
  t.equal(d.attach(2, EDU), S.OK, 'attaching where it is already attached');
  t.equal(d.attach(3, 0, 1), S.OK, 'a bypass domain (BYPASS_CONFIG negotiated)');
  t.equal(d.attach(3, EDU, 0), S.INVAL, 'F_BYPASS inconsistent with the existing domain: INVAL');
  t.equal(core(d).endpoints.get(EDU)?.domain?.id, 2, 'a refused attach leaves the endpoint where it was');
  t.equal(d.attach(2, 0, 1), S.INVAL, 'F_BYPASS on an existing translated domain: INVAL');
});

t.test('ATTACH F_BYPASS needs BYPASS_CONFIG; NOMEM past the domain cap', async (t) => {
  const d = new ViommuDriver(',x-max-domains=1', F_NO_BYPASS_CONFIG);
  t.equal(d.attach(1, EDU, 1), S.INVAL, 'F_BYPASS is not a known flag without BYPASS_CONFIG');
  t.equal(d.attach(1, EDU), S.OK);
  t.equal(d.attach(2, 0), S.NOMEM, 'a second domain exceeds x-max-domains');
  t.equal(d.attach(1, 0), S.OK, 'the existing domain can be shared');
  t.equal(d.attach(2, EDU), S.NOMEM, 'moving to a new domain while the old one stays: NOMEM');
  t.equal(core(d).endpoints.get(EDU)?.domain?.id, 1, 'and nothing changed');
});

t.test('DETACH', async (t) => {
  const d = new ViommuDriver();
  t.equal(d.detach(1, 0x300), S.NOENT, 'no such endpoint: NOENT');
  t.equal(d.detach(1, EDU), S.INVAL, 'an existing endpoint that is not attached: INVAL');
  t.equal(d.attach(1, EDU), S.OK);
  t.equal(d.detach(2, EDU), S.INVAL, 'attached to another domain: INVAL');
  t.equal(d.map(1, 0, 0xfff, 0x200000), S.OK);
  t.equal(d.detach(1, EDU), S.OK, 'detach with live mappings');
  t.equal(core(d).domains.size, 0, 'the domain ceased to exist with its last endpoint');
  t.equal(core(d).mappingCount, 0, 'and its mappings with it');
});

t.test('MAP', async (t) => {
  const d = new ViommuDriver(',x-max-mappings=3');
  t.equal(d.map(1, 0, 0xfff, 0x200000), S.NOENT, 'no such domain: NOENT');
  d.attach(1, EDU);
  d.attach(9, 0, 1);
  t.equal(d.map(9, 0, 0xfff, 0x200000), S.INVAL, 'bypass domain: INVAL');
  t.equal(d.map(1, 0, 0xfff, 0x200000, 8), S.INVAL, 'unknown flag bit 3: INVAL');
  t.equal(d.map(1, 0x10, 0x100f, 0x200000), S.RANGE, 'virt_start off the granule: RANGE');
  t.equal(d.map(1, 0, 0xfff, 0x200010), S.RANGE, 'phys_start off the granule: RANGE');
  t.equal(d.map(1, 0, 0xffe, 0x200000), S.RANGE, 'virt_end + 1 off the granule: RANGE');
  t.equal(d.map(1, 0x2000, 0xfff, 0x200000), S.INVAL, 'virt_end below virt_start: INVAL');
  t.equal(d.map(1, 0xfee00000, 0xfee00fff, 0x200000), S.RANGE, 'over the MSI reserved region: RANGE');
  t.equal(d.map(1, 0, 0xfff, 0x200000), S.OK);
  t.equal(d.map(1, 0, 0xffff, 0x300000), S.INVAL, 'overlapping an existing mapping: INVAL');
  t.equal(d.map(1, 0x800, 0x800, 0x300000), S.RANGE, 'a byte inside a mapping is off the granule first');
  t.equal(d.map(1, 0x1000, 0x1fff, 0x201000, 4), S.OK, 'MMIO with VIRTIO_IOMMU_F_MMIO');
  t.equal(d.map(1, 0x2000, 0x2fff, 0x202000, 1), S.OK);
  t.equal(d.map(1, 0x3000, 0x3fff, 0x203000, 1), S.NOMEM, 'past x-max-mappings: NOMEM');
  const n = new ViommuDriver('', F_NO_MMIO);
  n.attach(1, EDU);
  t.equal(n.map(1, 0, 0xfff, 0x200000, 4), S.INVAL, 'MMIO without VIRTIO_IOMMU_F_MMIO is an unknown flag');
});

t.test('MAP outside input_range', async (t) => {
  const d = new ViommuDriver(',aw-bits=48');
  d.attach(1, EDU);
  t.equal(d.map(1, 0xffff_ffff_f000n, 0xffff_ffff_ffffn, 0x200000), S.OK, 'the last page of a 48-bit input range');
  t.equal(d.map(1, 0x1_0000_0000_0000n, 0x1_0000_0000_0fffn, 0x200000), S.RANGE, 'beyond input_range: RANGE');
  t.equal(d.r32(0xfe002010), 0xffffffff, 'input_range.end low half');
  t.equal(d.r32(0xfe002014), 0xffff, 'input_range.end high half');
});

t.test('UNMAP', async (t) => {
  const d = new ViommuDriver();
  t.equal(d.unmap(1, 0, 0xfff), S.NOENT, 'no such domain: NOENT');
  d.attach(1, EDU);
  d.attach(9, 0, 1);
  t.equal(d.unmap(9, 0, 0xfff), S.INVAL, 'bypass domain: INVAL');
  d.map(1, 0, 0x1fff, 0x200000);
  t.equal(d.send(unmapReq(1, 0n, 0x1fffn, 1)), S.INVAL, 'reserved != 0: INVAL');
  t.same(mappings(d, 1), [[0, 0x1fff]], 'and nothing was removed');
  d.map(1, 0x10000, 0x10fff, 0x300000);
  d.map(1, 0x11000, 0x12fff, 0x301000);
  t.equal(d.unmap(1, 0x10000, 0x11fff), S.RANGE, 'would split [0x11000, 0x12fff]: RANGE');
  t.same(mappings(d, 1), [[0, 0x1fff], [0x10000, 0x10fff], [0x11000, 0x12fff]], 'nothing removed, not even the covered one');
  t.equal(d.unmap(1, 0x8000, 0x12fff), S.OK, 'holes and covered mappings');
  t.same(mappings(d, 1), [[0, 0x1fff]]);
});

t.test("the specification's seven UNMAP examples (section 5.13.6.6)", async (t) => {
  // Byte ranges as the specification writes them: a device whose granule is one byte.
  const ex = (t: Test, title: string, maps: [number, number][], unmap: [number, number], status: number, left: [number, number][]) => {
    const d = new ViommuDriver();
    d.attach(1, EDU);
    const g = 0x1000;
    for (const [s, e] of maps) t.equal(d.map(1, s * g, (e + 1) * g - 1, 0x200000 + s * g), S.OK);
    t.equal(d.unmap(1, unmap[0] * g, (unmap[1] + 1) * g - 1), status, title);
    t.same(mappings(d, 1), left.map(([s, e]) => [s * g, (e + 1) * g - 1]), `${title}: what is left`);
  };
  ex(t, '(1) unmap [0,4] on an empty space succeeds', [], [0, 4], S.OK, []);
  ex(t, '(2) map [0,9], unmap [0,9]', [[0, 9]], [0, 9], S.OK, []);
  ex(t, '(3) [0,4] + [5,9], unmap [0,9]', [[0, 4], [5, 9]], [0, 9], S.OK, []);
  ex(t, '(4) map [0,9], unmap [0,4] fails', [[0, 9]], [0, 4], S.RANGE, [[0, 9]]);
  ex(t, '(5) [0,4] + [5,9], unmap [0,4]', [[0, 4], [5, 9]], [0, 4], S.OK, [[5, 9]]);
  ex(t, '(6) map [0,4], unmap [0,9]', [[0, 4]], [0, 9], S.OK, []);
  ex(t, '(7) [0,4] + [10,14], unmap [0,14]', [[0, 4], [10, 14]], [0, 14], S.OK, []);
});

t.test('PROBE', async (t) => {
  const d = new ViommuDriver();
  const r = d.submit(0, probeReq(EDU), 512 + 4);
  t.equal(r.used, 516, 'used length probe_size + 4');
  const v = new DataView(r.out.buffer);
  t.equal(r.out[512], S.OK, 'the tail sits at probe_size');
  t.same([v.getUint16(0, true), v.getUint16(2, true), r.out[4]], [1, 20, 1], 'RESV_MEM, length 20, subtype MSI');
  t.same([v.getBigUint64(8, true), v.getBigUint64(16, true)], [0xfee00000n, 0xfeefffffn], "q35's MSI doorbell");
  t.ok(r.out.subarray(24, 512).every((b) => b === 0), 'the rest of the properties is zero');
  t.equal(d.send(probeReq(0x300), 516), S.NOENT, 'no such endpoint: NOENT');
  const short = d.submit(0, probeReq(EDU), 100);
  t.equal(short.used, 100, 'a writable part smaller than probe_size + 4');
  t.equal(short.out[96], S.INVAL, 'INVAL in its last four bytes');
  t.ok(short.out.subarray(0, 96).every((b) => b === 0xaa), 'and no property written');
});

t.test('framing: unknown types and short buffers', async (t) => {
  const d = new ViommuDriver();
  const unknown = d.submit(0, Uint8Array.of(9, 0, 0, 0, 0, 0, 0, 0), 4);
  t.equal(unknown.used, 0, 'an unknown type: used length 0');
  t.same([...unknown.out], [0xaa, 0xaa, 0xaa, 0xaa], 'nothing written');
  t.equal(d.send(Uint8Array.of(1, 0, 0, 0, 1, 0, 0, 0)), S.INVAL, 'a short ATTACH: INVAL');
  t.equal(d.submit(0, attachReq(1, EDU), 2).used, 0, 'no room for the tail: buffers returned unwritten');
  t.equal(d.status & 0x40, 0, 'and the device carries on');
  t.equal(d.attach(1, EDU), S.OK);
});
