import t from 'tap';
import { parseCmdline } from '../../../src/machine/cmdline.js';
import { Machine } from '../../../src/machine/machine.js';
import { humanMonitorCommand } from '../../../src/machine/monitor/hmp.js';
import { PCI_SECONDARY_BUS, PCI_SUBORDINATE_BUS } from '../../../src/pci/regs.js';
import type { VirtioIommuPci } from '../../../src/virtio/iommu/virtio-iommu-pci.js';
import { attachReq, S, unmapReq, ViommuDriver } from './helpers/viommu.js';

// Fault reports, the bypass rules, reset, unplug, QEMU-compatible mode and
// `info iommu` of virtio-iommu-pci on q35.
const EDU = 0x18;
const EDU_BAR = 0xfd000000;

/** edu at 00:03.0 moves `cnt` bytes (read: into its buffer; write: out of it) 100 ms later. */
function eduDma(d: ViommuDriver, addr: number, write: boolean, cnt = 4): void {
  const edu = d.m.pciDevices().find((x) => x.typeName === 'edu')!;
  if (edu.cs.get32(0x10) !== EDU_BAR) {
    edu.configWrite(0x10, EDU_BAR, 4);
    edu.configWrite(0x04, 0x6, 2);
  }
  d.as.write(EDU_BAR + (write ? 0x88 : 0x80), 8, addr, 0);
  d.as.write(EDU_BAR + (write ? 0x80 : 0x88), 8, 0x40000, 0);
  d.as.write(EDU_BAR + 0x90, 8, cnt, 0);
  d.as.write(EDU_BAR + 0x98, 8, write ? 3 : 1, 0);
  d.m.clock.step(200_000_000);
}

/** Posts n event buffers of `len` bytes; returns a reader of the reports. */
function eventBuffers(d: ViommuDriver, n: number, len = 24): () => { reason: number; flags: number; endpoint: number; address: number }[] {
  const addrs: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = 0x700000 + i * 0x40;
    addrs.push(a);
    d.kick(1, d.chain(1, [{ len, write: true, addr: a }]));
  }
  return () => {
    const out = [];
    for (let i = 0; i < d.usedIdx(1); i++) {
      const v = new DataView(d.bytes(addrs[i]!, 24).buffer);
      out.push({ reason: v.getUint8(0), flags: v.getUint32(4, true), endpoint: v.getUint32(8, true), address: Number(v.getBigUint64(16, true)) });
    }
    return out;
  };
}

t.test('fault reports (strict): DOMAIN for any unattached endpoint, MAPPING with permission flags', async (t) => {
  const d = new ViommuDriver();
  const events = eventBuffers(d, 4);
  d.w8(0xfe002024, 0);
  t.equal(d.r8(0xfe002024), 0, 'bypass off (BYPASS_CONFIG negotiated)');
  eduDma(d, 0x300000, false);
  t.same(events(), [{ reason: 1, flags: 0x100, endpoint: EDU, address: 0x300000 }], 'an endpoint never attached: DOMAIN (QEMU: UNKNOWN)');
  d.attach(1, EDU);
  d.map(1, 0x10000, 0x10fff, 0x300000, 1);
  eduDma(d, 0x10000, false);
  t.equal(events().length, 1, 'a permitted read: no report');
  eduDma(d, 0x10008, true);
  t.same(events()[1], { reason: 2, flags: 0x102, endpoint: EDU, address: 0x10008 }, 'a write to a READ mapping: MAPPING, WRITE|ADDRESS');
  eduDma(d, 0x20000, false);
  t.same(events()[2], { reason: 2, flags: 0x100, endpoint: EDU, address: 0x20000 }, 'no mapping: MAPPING, ADDRESS');
  t.equal(d.r8(0xfe001000) & 1, 1, 'the event queue interrupted');
});

t.test('fault reports (compat): UNKNOWN for an endpoint QEMU never saw', async (t) => {
  const d = new ViommuDriver(',x-qemu-compat=on');
  const events = eventBuffers(d, 2);
  d.w8(0xfe002024, 0);
  eduDma(d, 0x300000, false);
  d.attach(1, EDU);
  d.detach(1, EDU);
  eduDma(d, 0x300000, false);
  t.same(events().map((e) => e.reason), [0, 1], 'UNKNOWN before the first attach, DOMAIN after a detach (QEMU 7.2)');
});

t.test('events without buffers are dropped; a too small buffer needs a reset', async (t) => {
  const d = new ViommuDriver();
  const dev = d.dev as VirtioIommuPci;
  d.w8(0xfe002024, 0);
  eduDma(d, 0x300000, false);
  t.equal(dev.core.counters.dropped, 1, 'dropped');
  t.equal(d.status & 0x40, 0);
  eventBuffers(d, 1, 16);
  eduDma(d, 0x300000, false);
  t.equal(d.status & 0x40, 0x40, 'a 16-byte event buffer: DEVICE_NEEDS_RESET');
});

t.test('bypass: boot-bypass, the config write, ATTACH_F_BYPASS, sticky across device reset', async (t) => {
  const d = new ViommuDriver(',boot-bypass=off');
  const dev = d.dev as VirtioIommuPci;
  const region = dev.endpointRegion(EDU)!;
  t.equal(d.r8(0xfe002024), 0, 'boot-bypass=off');
  t.ok(region.usesRemapping, 'an unattached endpoint is translated (faults)');
  d.attach(5, EDU, 1);
  t.notOk(region.usesRemapping, 'a bypass domain lets it through');
  d.detach(5, EDU);
  d.w8(0xfe002024, 1);
  t.notOk(region.usesRemapping, 'config.bypass = 1: unattached endpoints bypass');
  d.setStatus(0);
  t.equal(d.r8(0xfe002024), 1, 'config.bypass survives a device reset');
  d.m.reset();
  d.mapBar();
  t.equal(d.r8(0xfe002024), 0, 'and a system reset restores boot-bypass');
  d.init(1n << 32n);
  d.w8(0xfe002024, 1);
  t.equal(d.status & 0x40, 0x40, 'writing bypass without BYPASS_CONFIG: DEVICE_NEEDS_RESET');
});

t.test('a device reset drops domains and endpoints', async (t) => {
  const d = new ViommuDriver();
  const dev = d.dev as VirtioIommuPci;
  d.attach(1, EDU);
  d.map(1, 0, 0xfff, 0x200000);
  d.setStatus(0);
  t.equal(dev.core.domains.size, 0);
  t.equal(dev.core.endpoints.size, 0);
  t.equal(dev.core.mappingCount, 0);
});

t.test('x-qemu-compat: QEMU 7.2 departures', async (t) => {
  const d = new ViommuDriver(',x-qemu-compat=on');
  const dev = d.dev as VirtioIommuPci;
  t.equal(d.send(attachReq(1, EDU, 0, 1)), S.OK, 'ATTACH reserved is not checked');
  t.equal(d.map(1, 10, 14, 0x200000), S.OK, 'unaligned byte ranges are mapped');
  t.equal(d.send(unmapReq(1, 10n, 14n, 1)), S.OK, 'UNMAP reserved is ignored');
  d.map(1, 0x10000, 0x10fff, 0x300000);
  d.map(1, 0x11000, 0x12fff, 0x301000);
  t.equal(d.unmap(1, 0x10000, 0x11fff), S.RANGE);
  t.same(dev.core.domains.get(1)!.mappings.all().map((m) => Number(m.start)), [0x11000], 'the covered mapping met first was removed before RANGE');
  d.attach(2, 0, 1);
  t.equal(d.attach(2, EDU, 0), S.INVAL, 'a bypass mismatch is INVAL');
  t.equal(dev.core.endpoints.get(EDU)!.domain, undefined, '... after the implicit detach');
  t.equal(dev.core.domains.has(1), false, 'which dropped the old domain');
  const unknown = d.submit(0, Uint8Array.of(9, 0, 0, 0), 4);
  t.same([unknown.used, unknown.out[0]], [4, S.UNSUPP], 'an unknown type gets UNSUPP written');
  d.submit(0, attachReq(1, EDU), 2);
  t.equal(d.status & 0x40, 0x40, 'no room for the tail: DEVICE_NEEDS_RESET');
});

t.test('unplugging an endpoint drops its state', async (t) => {
  const d = new ViommuDriver('', undefined, false);
  const dev = d.dev as VirtioIommuPci;
  const m = d.m;
  const port = m.addDevice({ driver: 'pcie-root-port', props: { id: 'rp', chassis: 1, addr: '4' }, origin: '-device', json: false });
  const portDev = m.pciDevices().find((x) => x === port)!;
  portDev.configWrite(PCI_SECONDARY_BUS, 1, 1);
  portDev.configWrite(PCI_SUBORDINATE_BUS, 1, 1);
  const edu = m.addDevice({ driver: 'edu', props: { bus: 'rp' }, origin: '-device', json: false });
  t.equal(d.attach(1, 0x100), S.OK, 'edu at 01:00.0 is endpoint 0x100');
  d.map(1, 0, 0xfff, 0x200000);
  const pci = m.pciDevices().find((x) => x === edu)!;
  pci.bus.unplug(pci);
  t.notOk(dev.core.endpoints.has(0x100), 'the endpoint is gone');
  t.notOk(dev.core.domains.has(1), 'and its domain with it');
  t.equal(dev.endpointRegion(0x100), undefined, 'and its address space');
  m.addDevice({ driver: 'edu', props: { bus: 'rp' }, origin: '-device', json: false });
  t.ok(dev.endpointRegion(0x100), 'a new function at that BDF gets a fresh region');
  t.notOk(dev.core.endpoints.has(0x100), 'unattached');
});

t.test('info iommu shows domains, endpoints and mappings', async (t) => {
  const d = new ViommuDriver(',id=viommu0');
  d.attach(1, EDU);
  d.map(1, 0x1000, 0x1fff, 0xa1000, 3);
  d.attach(7, 0, 1);
  const text = humanMonitorCommand(d.m, 'info iommu');
  t.match(text, /virtio-iommu-pci \(id viommu0\) at 00:02\.0: spec-strict, bypass 1, page_size_mask 0xfffffffffffff000/);
  t.match(text, /domain 1: endpoints 0x0018 \(00:03\.0\)\n {4}\[0x1000, 0x1fff\] -> 0xa1000 rw/);
  t.match(text, /domain 7 \(bypass\): endpoints 0x0000 \(00:00\.0\)/);
  t.match(text, /reserved \[0xfee00000, 0xfeefffff\] msi/);
});

t.test('placement: root bus only, one IOMMU, no hot-plug', async (t) => {
  const args = '-machine q35 -nodefaults -device pcie-root-port,id=rp,chassis=1 -device virtio-iommu-pci,bus=rp'.split(' ');
  t.throws(() => Machine.create(parseCmdline(args).config), /virtio-iommu-pci must be plugged on the root bus/);
  const d = new ViommuDriver();
  t.throws(() => d.m.addDevice({ driver: 'virtio-iommu-pci', props: {}, origin: 'device_add', json: false }), /does not support hotplugging/);
});
