import t from 'tap';
import { readFileSync } from 'node:fs';
import { checkSdt } from '../../../src/guest/fw/acpi/sdt.js';
import { parseDmar, SCOPE_BRIDGE, SCOPE_ENDPOINT, SCOPE_IOAPIC } from '../../../src/guest/drivers/vtd/dmar.js';
import { repoPath } from '../../helpers/paths.js';

// The guest's DMAR parser on QEMU 7.2's own tables (recorded in
// test/machine/firmware/data/q35-vtd-*-acpi/DMAR.dat) and on broken ones.

function table(dir: string): Uint8Array {
  return new Uint8Array(readFileSync(repoPath('test/machine/firmware/data', dir, 'DMAR.dat')));
}

function parse(bytes: Uint8Array) {
  const fixed = new Uint8Array(bytes);
  fixed[9] = 0;
  fixed[9] = (256 - (fixed.reduce((a, b) => a + b, 0) & 0xff)) & 0xff;
  const sdt = checkSdt(fixed, 0x1000, 'DMAR');
  if (!sdt.ok) throw new Error(sdt.error);
  return parseDmar(sdt.value);
}

t.test('QEMU 7.2 q35 + intel-iommu + edu: HAW 39, INTR_REMAP, one DRHD at 0xfed90000 with the IOAPIC and five endpoints', async (t) => {
  const r = parse(table('q35-vtd-edu-acpi'));
  if (!r.ok) return t.fail(r.error);
  const d = r.value;
  t.same([d.haw, d.flags, d.drhds.length, d.atsrs.length], [39, 1, 1, 0]);
  const h = d.drhds[0]!;
  t.same([h.base, h.segment, h.includeAll], [0xfed90000, 0, false]);
  t.same(h.scopes.map((s) => [s.type, s.startBus, s.path.map((p) => `${p.dev}.${p.fn}`).join('/')]), [
    [SCOPE_IOAPIC, 0xff, '0.0'], [SCOPE_ENDPOINT, 0, '0.0'], [SCOPE_ENDPOINT, 0, '1.0'], [SCOPE_ENDPOINT, 0, '31.0'],
    [SCOPE_ENDPOINT, 0, '31.2'], [SCOPE_ENDPOINT, 0, '31.3'],
  ]);
});

t.test('device-iotlb, aw-bits 48, a root port: HAW 48, a bridge scope, ATSR ALL_PORTS', async (t) => {
  const r = parse(table('q35-vtd-dt-rp-acpi'));
  if (!r.ok) return t.fail(r.error);
  t.equal(r.value.haw, 48);
  t.equal(r.value.flags, 0);
  t.ok(r.value.drhds[0]!.scopes.some((s) => s.type === SCOPE_BRIDGE && s.path[0]!.dev === 3));
  t.same(r.value.atsrs, [{ flags: 1, segment: 0, allPorts: true, scopes: [] }]);
});

t.test('malformed DMAR tables are refused with the reason', async (t) => {
  const good = table('q35-vtd-edu-acpi');
  const cases: [string, (b: Uint8Array) => void, RegExp][] = [
    ['a DRHD longer than the table', (b) => { b[0x32] = 0xff; }, /structure at 48 \(type 0\) has length 255/],
    ['a structure of length 0', (b) => { b[0x32] = 0; b[0x33] = 0; }, /has length 0/],
    ['a device scope running past its DRHD', (b) => { b[0x69] = 0x10; }, /device scope at 104 has length 16/],
    ['a scope path with device 32', (b) => { b[0x4e] = 32; }, /bad path/],
    ['no DRHD', (b) => { b[0x30] = 9; }, /no DRHD structure/],
  ];
  for (const [name, corrupt, want] of cases) {
    const b = new Uint8Array(good);
    corrupt(b);
    const r = parse(b);
    t.notOk(r.ok, name);
    if (!r.ok) t.match(r.error, want, name);
  }
});

t.test('INCLUDE_PCI_ALL and an RMRR are decoded', async (t) => {
  const b = new Uint8Array(table('q35-vtd-edu-acpi'));
  b[0x34] = 1;
  const r = parse(b);
  t.ok(r.ok && r.value.drhds[0]!.includeAll);
  const rmrr = new Uint8Array(24 + 8);
  new DataView(rmrr.buffer).setUint16(0, 1, true);
  new DataView(rmrr.buffer).setUint16(2, 32, true);
  new DataView(rmrr.buffer).setUint32(8, 0xe0000, true);
  new DataView(rmrr.buffer).setUint32(16, 0xeffff, true);
  rmrr.set([1, 8, 0, 0, 0, 0, 1, 0], 24);
  const withRmrr = new Uint8Array(b.length + rmrr.length);
  withRmrr.set(b);
  withRmrr.set(rmrr, b.length);
  new DataView(withRmrr.buffer).setUint32(4, withRmrr.length, true);
  const r2 = parse(withRmrr);
  t.same(r2.ok && r2.value.rmrrs.map((x) => [x.base, x.limit, x.scopes[0]!.path[0]!.dev]), [[0xe0000, 0xeffff, 1]]);
});
