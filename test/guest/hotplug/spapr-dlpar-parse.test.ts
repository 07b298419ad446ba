import { readFileSync } from 'node:fs';
import t from 'tap';
import { DEFAULT_DMA_API } from '../../../src/guest/dma/dma-api.js';
import { AcpiParsers } from '../../../src/guest/fw/acpi/registry.js';
import { FdtNode } from '../../../src/guest/fw/fdt/fdt.js';
import { parseRtasHotplugLog } from '../../../src/guest/hotplug/rtas-hotplug-log.js';
import { CC_ERR_CFG_USE, dlparConfigureConnector } from '../../../src/guest/hotplug/spapr-cc.js';
import { DrcRtas, drcsOf } from '../../../src/guest/hotplug/spapr-drc.js';
import { IOMMU_DOMAIN_DMA_FQ } from '../../../src/guest/iommu-core/domain-types.js';
import { GuestKernel } from '../../../src/guest/kernel.js';
import { repoPath } from '../../helpers/paths.js';
import { FakeMachine } from '../fake/machine.js';

/** Recorded from QEMU 7.2 with qtest (see the file's _comment and spapr-dlpar-qemu72.record.py). */
const REC = JSON.parse(readFileSync(repoPath('test/guest/data/spapr-dlpar-qemu72.json'), 'utf8')) as {
  drcIndex: number; addLog: string; removeLog: string; cc: { status: number; wa: string }[];
};
const hexBytes = (h: string): Uint8Array => Uint8Array.from(h.match(/../g)!.map((b) => parseInt(b, 16)));
const padded = (b: Uint8Array, n = 2048): Uint8Array => {
  const out = new Uint8Array(n);
  out.set(b);
  return out;
};

t.test('QEMU 7.2 hot-plug logs: v6 extended log, sections PH UH HP walked by length, the PCI event by DRC index', async (t) => {
  const add = parseRtasHotplugLog(padded(hexBytes(REC.addLog)));
  t.ok(add.ok);
  if (!add.ok) return;
  t.equal(add.value.type, 0xe5, 'RTAS_TYPE_HOTPLUG');
  t.equal(add.value.version, 6);
  t.equal(add.value.initiator, 6, 'initiator: hot-plug');
  t.equal(add.value.extendedLength, 108);
  t.same(add.value.sections.map((s) => [s.id, s.offset, s.length]), [['PH', 24, 48], ['UH', 72, 24], ['HP', 96, 20]]);
  t.same(add.value.hotplug, { resource: 5, action: 1, idType: 2, drcIndex: REC.drcIndex, drcName: undefined });
  const rm = parseRtasHotplugLog(padded(hexBytes(REC.removeLog)));
  t.ok(rm.ok && rm.value.hotplug?.action === 2 && rm.value.hotplug.drcIndex === 0x40000018, 'device_del: action 2 (remove) for the same DRC');
});

/** The recorded add log with an extra 12-byte section "XX" between UH and HP (extended length grows by 12). */
function withUnknownSection(): Uint8Array {
  const rec = hexBytes(REC.addLog);
  const b = new Uint8Array(2048);
  b.set(rec.subarray(0, 96));
  b.set([0x58, 0x58, 0x00, 0x0c, 1, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef], 96);
  b.set(rec.subarray(96, 116), 108);
  new DataView(b.buffer).setUint32(4, 108 + 12, false);
  return b;
}

t.test('an unknown section is skipped by its length; broken logs fail as values', async (t) => {
  const r = parseRtasHotplugLog(withUnknownSection());
  t.ok(r.ok);
  if (r.ok) {
    t.same(r.value.sections.map((s) => s.id), ['PH', 'UH', 'XX', 'HP']);
    t.equal(r.value.hotplug?.drcIndex, 0x40000018);
  }
  const long = padded(hexBytes(REC.addLog));
  long[96 + 3] = 0x40; // HP claims 64 bytes: past the extended length
  const bad = parseRtasHotplugLog(long);
  t.notOk(bad.ok);
  if (!bad.ok) t.match(bad.error, /section "HP" at 96: length 64 does not fit the log/);
  const zero = padded(hexBytes(REC.addLog));
  zero[72 + 2] = 0;
  zero[72 + 3] = 0; // a zero-length section would loop forever
  t.notOk(parseRtasHotplugLog(zero).ok);
  const notIbm = padded(hexBytes(REC.addLog));
  notIbm[20] = 0x41;
  const n = parseRtasHotplugLog(notIbm);
  t.ok(!n.ok && /company ID 0x41424d00 is not IBM's/.test(n.error));
  t.notOk(parseRtasHotplugLog(new Uint8Array(6)).ok, 'shorter than the fixed part');
});

/** A guest kernel over a fake pseries whose RTAS answers configure-connector from the recording. */
function replayRig(steps: { status: number; wa: string }[]) {
  const m = new FakeMachine('pseries');
  const calls: number[][] = [];
  let i = 0;
  const port0 = m.port();
  m.rtas = (token, args) => {
    calls.push([token, ...args]);
    const s = steps[Math.min(i++, steps.length - 1)]!;
    const wa = args[0]! + args[1]! * 2 ** 32;
    port0.writeBytes(wa, hexBytes(s.wa));
    return [s.status];
  };
  const port = m.port();
  const k = new GuestKernel(port, { defaultDomainType: IOMMU_DOMAIN_DMA_FQ, iommuDma: true, regress: [], dma: DEFAULT_DMA_API }, new AcpiParsers());
  const rtas = new DrcRtas(port, { checkException: 0x200e, setIndicator: 0x201a, getSensorState: 0x201d, configureConnector: 0x201e });
  return { m, k, rtas, calls };
}

t.test('configure-connector replayed from QEMU 7.2: one node legacy-device@3 with its properties, in order', async (t) => {
  const { k, rtas, calls } = replayRig(REC.cc);
  const phb = new FdtNode('pci@800000020000000', undefined);
  const free = k.mem.bytesFree;
  const r = dlparConfigureConnector(k, rtas, REC.drcIndex, phb);
  t.ok(r.ok);
  if (!r.ok) return;
  t.equal(r.value.length, 1);
  const n = r.value[0]!;
  t.equal(n.name, 'legacy-device@3');
  t.equal(n.parent, phb);
  t.equal(phb.children.length, 0, 'built, not attached');
  t.same([...n.props.keys()], ['max-latency', 'min-grant', 'reg', 'ibm,my-drc-index', 'ibm,loc-code', 'devsel-speed', 'cache-line-size',
    'subsystem-vendor-id', 'subsystem-id', 'class-code', 'revision-id', 'device-id', 'vendor-id']);
  t.equal(n.u32('ibm,my-drc-index'), 0x40000018);
  t.equal(n.u32('vendor-id'), 0x1b36);
  t.equal(n.u32('device-id'), 0x5);
  t.equal(n.cells('reg')!.length, 15, 'config space + 2 BARs, 5 cells each');
  t.equal(n.cells('reg')![0]! >>> 8 & 0xff, 0x18, 'phys.hi devfn: slot 3 function 0');
  t.equal(n.string('ibm,loc-code'), 'qemu_pci-testdev:0000:00:03.0');
  t.equal(calls.length, REC.cc.length, 'one call per step, until COMPLETE');
  t.ok(calls.every((c) => c[0] === 0x201e && c.length === 3), 'args: work area low, high');
  t.equal(k.mem.bytesFree, free, 'the work area is freed');
});

t.test('configure-connector errors: not unisolated (-9003), a property outside the work area', async (t) => {
  const { k, rtas, m } = replayRig([{ status: CC_ERR_CFG_USE, wa: '40000018' }]);
  const phb = new FdtNode('pci@800000020000000', undefined);
  const r = dlparConfigureConnector(k, rtas, REC.drcIndex, phb);
  t.ok(!r.ok && /returned -9003 \(the connector is not usable: not unisolated\)/.test(r.error));
  t.ok(m.log.lines.some((l) => l.text === 'Unexpected Error (-9003) returned from configure-connector'), 'Linux\'s message');
  const bad = REC.cc.slice(0, 2).map((s) => ({ ...s }));
  bad[1] = { status: 3, wa: `${bad[1]!.wa.slice(0, 24)}00000004` + '00000ffe' + bad[1]!.wa.slice(40) };
  const r2 = replayRig(bad);
  const e = dlparConfigureConnector(r2.k, r2.rtas, REC.drcIndex, phb);
  t.ok(!e.ok && /property at offset 4094 \(4 bytes\) does not fit the work area/.test(e.error));
});

t.test('DRC lists of a PHB node: counted names, types, power domains', async (t) => {
  const n = new FdtNode('pci@800000020000000', undefined);
  const be = (...v: number[]) => { const b = new Uint8Array(v.length * 4); v.forEach((x, i) => new DataView(b.buffer).setUint32(i * 4, x >>> 0)); return b; };
  const strs = (...s: string[]) => { const body = s.map((x) => x + '\0').join(''); return Uint8Array.from([...be(s.length), ...Array.from(body, (c) => c.charCodeAt(0))]); };
  n.props.set('ibm,drc-indexes', be(2, 0x40000000, 0x40000018));
  n.props.set('ibm,drc-names', strs('C0', 'C24'));
  n.props.set('ibm,drc-types', strs('28', '28'));
  n.props.set('ibm,drc-power-domains', be(2, 0xffffffff, 0xffffffff));
  t.same(drcsOf(n), [{ index: 0x40000000, name: 'C0', type: '28', powerDomain: 0xffffffff }, { index: 0x40000018, name: 'C24', type: '28', powerDomain: 0xffffffff }]);
  n.props.set('ibm,drc-names', strs('C0'));
  t.throws(() => drcsOf(n), /2 DRC indexes but 1 names/);
});
