import t from 'tap';
import { readFileSync } from 'node:fs';
import type { AcpiTable } from '../../src/guest/fw/acpi/sdt.js';
import { parseViot, viotEndpointId } from '../../src/guest/fw/acpi/viot.js';
import { repoPath } from '../helpers/paths.js';

// The guest's VIOT parser (ACPI 6.5 section 5.2.32; Linux drivers/acpi/viot.c)
// on QEMU 7.2's table and on hand-made ones.
const table = (bytes: Uint8Array): AcpiTable => ({ signature: 'VIOT', addr: 0, length: bytes.length, revision: 0, oemId: '', oemTableId: '', bytes });

/** A VIOT with the given nodes (each a byte array) from offset 48. */
function viot(...nodes: Uint8Array[]): Uint8Array {
  const len = 48 + nodes.reduce((n, x) => n + x.length, 0);
  const b = new Uint8Array(len);
  const v = new DataView(b.buffer);
  b.set([...'VIOT'].map((c) => c.charCodeAt(0)));
  v.setUint32(4, len, true);
  v.setUint16(36, nodes.length, true);
  v.setUint16(38, 48, true);
  let at = 48;
  for (const n of nodes) {
    b.set(n, at);
    at += n.length;
  }
  return b;
}
function node(type: number, len: number, fill: (v: DataView) => void = () => undefined): Uint8Array {
  const b = new Uint8Array(Math.max(len, 4));
  const v = new DataView(b.buffer);
  v.setUint8(0, type);
  v.setUint16(2, len, true);
  fill(v);
  return b;
}
const iommuPci = (bdf: number) => node(3, 16, (v) => v.setUint16(6, bdf, true));
const range = (epStart: number, bdfStart: number, bdfEnd: number, out = 48) => node(1, 24, (v) => {
  v.setUint32(4, epStart, true);
  v.setUint16(12, bdfStart, true);
  v.setUint16(14, bdfEnd, true);
  v.setUint16(16, out, true);
});

t.test("QEMU 7.2's q35 VIOT", async (t) => {
  const bytes = readFileSync(repoPath('test', 'iommu', 'virtio-iommu', 'data', 'q35-viommu-acpi', 'VIOT.dat'));
  const r = parseViot(table(new Uint8Array(bytes)));
  if (!r.ok) throw new Error(r.error);
  t.same(r.value.iommus, [{ offset: 48, kind: 'pci', segment: 0, bdf: 8 }], 'the virtio-pci IOMMU node names 00:01.0');
  t.equal(r.value.pciRanges.length, 1);
  const pr = r.value.pciRanges[0]!;
  t.same([pr.bdfStart, pr.bdfEnd, pr.endpointStart, pr.output.offset], [0, 0xff, 0, 48]);
  t.equal(viotEndpointId(pr, 0, 0x18), 0x18, 'endpoint ID = BDF');
  t.equal(viotEndpointId(pr, 0, 0x100), undefined, 'bus 1 is outside the range');
});

t.test('endpoint IDs: ((segment - start) << 16) + (bdf - bdf_start) + endpoint_start', async (t) => {
  const r = parseViot(table(viot(iommuPci(8), range(0x100, 0x0008, 0x00ff))));
  if (!r.ok) throw new Error(r.error);
  const pr = r.value.pciRanges[0]!;
  t.equal(viotEndpointId(pr, 0, 0x0010), 0x108, 'BDF 0x0010 -> endpoint 0x108');
  t.equal(viotEndpointId(pr, 0, 0x0007), undefined);
  t.equal(viotEndpointId(pr, 1, 0x0010), undefined, 'another segment');
});

t.test('malformed tables are refused, unknown nodes skipped', async (t) => {
  const short = viot(iommuPci(8), node(1, 2));
  t.match(parseViot(table(short)), { ok: false, error: /length 2 is invalid/ }, 'a node shorter than 4 bytes');
  const past = viot(iommuPci(8), range(0, 0, 0xff));
  new DataView(past.buffer).setUint16(64 + 2, 200, true);
  t.match(parseViot(table(past)), { ok: false, error: /is invalid/ }, 'a node past the end of the table');
  const count = viot(iommuPci(8));
  new DataView(count.buffer).setUint16(36, 3, true);
  t.match(parseViot(table(count)), { ok: false, error: /runs past the table/ }, 'more nodes than the table holds');
  t.match(parseViot(table(viot(iommuPci(8), range(0, 0, 0xff, 52)))), { ok: false, error: /output node 52 is not an IOMMU node/ });
  t.match(parseViot(table(viot(iommuPci(8), node(1, 16)))), { ok: false, error: /short for type 1/ });
  t.match(parseViot(table(new Uint8Array(40))), { ok: false, error: /shorter than the VIOT header/ });
  const r = parseViot(table(viot(iommuPci(8), node(9, 8), range(0, 0, 0xff))));
  t.ok(r.ok, 'an unknown node type');
  if (r.ok) t.same([r.value.skipped, r.value.pciRanges.length], [[9], 1], 'is skipped, the rest used');
});
