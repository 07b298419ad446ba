import t from 'tap';
import { findExtCapability } from '../../src/pci/capability.js';
import { PCI_EXT_CAP_ID_ATS } from '../../src/pci/regs.js';
import { VirtioPciProxy } from '../../src/virtio/pci/virtio-pci.js';
import { echoRegistry, type EchoDevice } from './helpers/echo-device.js';
import { COMMON, DEVICE, ISR, VirtioHarness } from './helpers/harness.js';

// The virtio-pci modern transport with a test device (virtio 1.2 sections
// 3.1, 4.1): discovery, negotiation, status and reset, notifications,
// MSI-X and INTx, EVENT_IDX, ACCESS_PLATFORM and ATS.
const V1 = 1n << 32n;
const EVENT_IDX = 1n << 29n;
const INDIRECT = 1n << 28n;
const PLATFORM = 1n << 33n;

const echo = (extra = '', slot = 2, pre = '', bus?: number) =>
  new VirtioHarness(`-machine q35 -nodefaults -display none ${pre}-device virtio-echo-pci,addr=${slot}${extra}`, slot, echoRegistry(), bus);
const vdev = (h: VirtioHarness) => h.dev.vdev as EchoDevice;

t.test('discovery: identity and vendor capabilities in BAR 4', async (t) => {
  const h = echo();
  const cs = h.dev.cs;
  t.equal(cs.get16(0), 0x1af4);
  t.equal(cs.get16(2), 0x1040 + 0x3f, 'device ID 0x1040 + virtio ID');
  t.equal(cs.get8(8), 1, 'revision 1 (non-transitional)');
  const caps: number[][] = [];
  for (let p = cs.get8(0x34); p; p = cs.get8(p + 1)) {
    if (cs.get8(p) === 0x09) caps.push([cs.get8(p + 3), cs.get8(p + 4), cs.get32(p + 8), cs.get32(p + 12)]);
  }
  t.same(caps, [[5, 0, 0, 0], [2, 4, 0x3000, 0x1000], [4, 4, 0x2000, 0x1000], [3, 4, 0x1000, 0x1000], [1, 4, 0, 0x1000]],
    'PCI cfg window, notify, device, ISR, common (the list head is the newest, as in QEMU)');
  const notify = caps.length && cs.get8(0x70 + 3) === 2 ? cs.get32(0x70 + 16) : -1;
  t.equal(notify, 4, 'notify_off_multiplier 4');
  t.equal(h.r16(COMMON + 18), 1, 'num_queues');
  h.w16(COMMON + 22, 0);
  t.equal(h.r16(COMMON + 24), 64, 'queue_size shows the maximum');
  t.equal(h.r16(COMMON + 30), 0, 'queue_notify_off is the queue index');
  h.w16(COMMON + 22, 5);
  t.equal(h.r16(COMMON + 24), 0, 'a queue that does not exist has size 0');
});

t.test('feature negotiation with the FEATURES_OK re-read (strict)', async (t) => {
  const h = echo(',platform=on');
  t.equal(h.deviceFeatures(), V1 | EVENT_IDX | INDIRECT | PLATFORM, 'device features in two words');
  t.equal(h.negotiate(V1 | PLATFORM | (1n << 5n)), 3, 'a bit that was not offered: FEATURES_OK stays clear');
  t.equal(h.negotiate(PLATFORM), 3, 'VERSION_1 not accepted: refused');
  t.equal(h.negotiate(V1), 3, 'ACCESS_PLATFORM offered but not accepted: refused');
  t.equal(h.negotiate(V1 | PLATFORM | EVENT_IDX), 0xb, 'an acceptable subset: FEATURES_OK reads back');
  h.writeFeatures(V1);
  t.equal(vdev(h).guestFeatures, V1 | PLATFORM | EVENT_IDX, 'features cannot change after FEATURES_OK');
  h.setStatus(0);
  t.equal(h.status, 0, 'status 0 resets');
  t.equal(vdev(h).guestFeatures, 0n);
});

t.test('queue set-up, notification, used ring, INTx and ISR', async (t) => {
  const h = echo();
  h.negotiate(V1);
  h.w16(COMMON + 22, 0);
  h.w16(COMMON + 24, 63);
  t.equal(h.r16(COMMON + 24), 64, 'a size that is not a power of two is ignored');
  h.w16(COMMON + 24, 128);
  t.equal(h.r16(COMMON + 24), 64, 'a size above the maximum is ignored');
  const q = h.setupQueue(0, 32);
  t.equal(h.r16(COMMON + 28), 1, 'queue_enable reads 1');
  t.equal(h.r16(COMMON + 26), 0xffff, 'no MSI-X: vectors read NO_VECTOR');
  h.w16(COMMON + 26, 0);
  t.equal(h.r16(COMMON + 26), 0xffff, 'a vector the function does not have is refused');
  const head = h.chain(0, [{ data: Uint8Array.of(1, 2, 3) }, { len: 3, write: true, addr: 0x300000 }]);
  h.kick(0, head);
  t.equal(h.usedIdx(0), 0, 'nothing is consumed before DRIVER_OK');
  h.setStatus(0xf);
  t.equal(h.usedIdx(0), 1, 'DRIVER_OK consumes what was made available');
  t.same(h.usedElem(0, 0), { id: head, len: 3 });
  t.same([...h.bytes(0x300000, 3)], [2, 3, 4], 'the device wrote its answer');
  t.equal(h.dev.intxLevel(0), 1, 'INTx asserted');
  t.equal(h.r8(ISR), 1, 'ISR bit 0');
  t.equal(h.dev.intxLevel(0), 0, 'reading ISR clears it and lowers INTx');
  t.equal(h.r8(ISR), 0);
  h.w32(DEVICE + 4, 0x1234);
  t.equal(h.r8(COMMON + 21), 1, 'a configuration change bumps config_generation');
  t.equal(h.r8(ISR), 3, 'and sets ISR bit 1');
  h.w16(q.avail, 1);
  h.kick(0, h.chain(0, [{ data: Uint8Array.of(7) }, { len: 1, write: true }]));
  t.equal(h.usedIdx(0), 2);
  t.equal(h.r8(ISR), 0, 'VIRTQ_AVAIL_F_NO_INTERRUPT: no interrupt');
  h.setStatus(0);
  h.w16(COMMON + 22, 0);
  t.same([h.r16(COMMON + 28), h.r32(COMMON + 32), h.r16(COMMON + 24)], [0, 0, 64], 'reset: queue disabled, rings cleared, size back to the maximum');
  t.equal(h.r8(COMMON + 21), 1, 'config_generation survives reset');
});

t.test('EVENT_IDX: used_event suppresses interrupts, avail_event is written', async (t) => {
  const h = echo();
  h.negotiate(V1 | EVENT_IDX);
  const q = h.setupQueue(0, 16);
  h.setStatus(0xf);
  h.w16(q.avail + 4 + 16 * 2, 5);
  h.kick(0, h.chain(0, [{ data: Uint8Array.of(1) }, { len: 1, write: true }]));
  t.equal(h.r8(ISR), 1, 'the first used buffer always interrupts');
  h.kick(0, h.chain(0, [{ data: Uint8Array.of(1) }, { len: 1, write: true }]));
  t.equal(h.r8(ISR), 0, 'used_event 5 not crossed: no interrupt');
  t.equal(h.r16(q.used + 4 + 16 * 8), 2, 'avail_event = the next avail index the device will read');
  for (let i = 0; i < 4; i++) h.kick(0, h.chain(0, [{ data: Uint8Array.of(1) }, { len: 1, write: true }]));
  t.equal(h.usedIdx(0), 6);
  t.equal(h.r8(ISR), 1, 'crossing used_event interrupts');
});

t.test('indirect descriptors', async (t) => {
  const h = echo();
  h.init(V1 | INDIRECT, 1);
  const table = 0x380000;
  h.as.writeBytes(0x390000, Uint8Array.of(9, 8));
  h.writeDesc(table, 0, 0x390000, 2, 1, 1);
  h.writeDesc(table, 1, 0x391000, 2, 2, 0);
  h.writeDesc(h.queues[0]!.desc, 0, table, 32, 4, 0);
  h.kick(0, 0);
  t.same(h.usedElem(0, 0), { id: 0, len: 2 });
  t.same([...h.bytes(0x391000, 2)], [10, 9]);
});

t.test('MSI-X: queue and configuration vectors', async (t) => {
  const h = echo(',vectors=2');
  const got: [bigint, number][] = [];
  h.m.onMsi((a, d) => got.push([a, d]));
  const msix = h.dev.msix!;
  const bar1 = 0xfe100000;
  h.dev.configWrite(0x14, bar1, 4);
  h.dev.configWrite(0x04, 0x6, 2);
  h.w32(bar1, 0xfee00000);
  h.w32(bar1 + 8, 0x41);
  h.w32(bar1 + 12, 0);
  h.w32(bar1 + 16, 0xfee00000);
  h.w32(bar1 + 24, 0x42);
  h.w32(bar1 + 28, 0);
  h.dev.configWrite(msix.offset + 2, 0x8000, 2);
  h.negotiate(V1);
  h.w16(COMMON + 16, 1);
  t.equal(h.r16(COMMON + 16), 1, 'config vector 1');
  h.setupQueue(0);
  h.w16(COMMON + 26, 0);
  t.equal(h.r16(COMMON + 26), 0, 'queue vector 0');
  h.w16(COMMON + 26, 2);
  t.equal(h.r16(COMMON + 26), 0xffff, 'vector 2 does not exist: NO_VECTOR');
  h.w16(COMMON + 26, 0);
  h.setStatus(0xf);
  h.kick(0, h.chain(0, [{ data: Uint8Array.of(1) }, { len: 1, write: true }]));
  h.w32(DEVICE + 4, 7);
  t.same(got, [[0xfee00000n, 0x41], [0xfee00000n, 0x42]], 'the queue interrupt on vector 0, the configuration change on vector 1');
  t.equal(h.dev.intxLevel(0), 0, 'no INTx with MSI-X enabled');
});

t.test('the PCI configuration access window reaches BAR 4', async (t) => {
  const h = echo();
  const cap = 0x84;
  t.equal(h.dev.cs.get8(cap + 3), 5);
  h.dev.configWrite(cap + 4, 4, 1);
  h.dev.configWrite(cap + 8, 0x14, 4);
  h.dev.configWrite(cap + 12, 1, 4);
  h.dev.configWrite(cap + 16, 0x3, 1);
  t.equal(h.status, 3, 'a write through the window sets the status');
  t.equal(h.dev.configRead(cap + 16, 1), 3, 'and a read through it returns it');
  h.dev.configWrite(cap + 4, 2, 1);
  h.dev.configWrite(cap + 16, 0, 1);
  t.equal(h.status, 3, 'a window naming another BAR does nothing (strict)');
});

t.test('Bus Master Enable off stops the device', async (t) => {
  const h = echo();
  h.init(V1, 1);
  h.dev.configWrite(0x04, 0x2, 2);
  t.equal(h.status, 0xb, 'DRIVER_OK is cleared');
  h.kick(0, h.chain(0, [{ data: Uint8Array.of(1) }, { len: 1, write: true }]));
  t.equal(h.usedIdx(0), 0, 'and nothing is processed');
  h.dev.configWrite(0x04, 0x6, 2);
  h.setStatus(0xf);
  t.equal(h.usedIdx(0), 1, 'once the driver is back, the pending chain is consumed');
});

t.test('ACCESS_PLATFORM: DMA through the vIOMMU only when negotiated', async (t) => {
  const pre = '-device virtio-iommu-pci,addr=2 ';
  const run = (platform: boolean, accept: boolean) => {
    const h = echo(`,platform=${platform ? 'on' : 'off'}`, 3, pre);
    h.init(V1 | (accept ? PLATFORM : 0n), 1);
    const viommu = h.m.pciDevices().find((d) => d.typeName === 'virtio-iommu-pci') as unknown as { core: { bypass: boolean; switchAll(): void } };
    viommu.core.bypass = false;
    viommu.core.switchAll();
    h.kick(0, h.chain(0, [{ data: Uint8Array.of(1) }, { len: 1, write: true }]));
    return h;
  };
  const direct = run(false, false);
  t.equal(direct.usedIdx(0), 1, 'without ACCESS_PLATFORM the device uses guest-physical addresses, past the vIOMMU');
  const translated = run(true, true);
  t.equal(translated.status & 0x40, 0x40, 'with ACCESS_PLATFORM its DMA is translated: unmapped rings fail, DEVICE_NEEDS_RESET');
  t.equal(translated.usedIdx(0), 0);
});

t.test('ats=on: an ATS capability on a PCIe endpoint, its Enable write observed', async (t) => {
  const h = echo(',ats=on,bus=rp', 0, '-device pcie-root-port,id=rp,addr=4,chassis=1 ', undefined);
  t.ok(h.dev instanceof VirtioPciProxy);
  t.ok(h.dev.isExpress, 'behind a root port: a PCI Express function');
  const ats = findExtCapability(h.dev.cs, PCI_EXT_CAP_ID_ATS);
  t.equal(ats, 0x100, 'ATS at 0x100');
  const seen: boolean[] = [];
  h.dev.ats!.onChange = (on) => seen.push(on);
  h.dev.configWrite(ats + 6, 0x8000, 2);
  h.dev.configWrite(ats + 6, 0, 2);
  t.same(seen, [true, false]);
  const root = echo(',ats=on');
  t.notOk(root.dev.isExpress, 'on the root bus a conventional function');
  t.equal(findExtCapability(root.dev.cs, PCI_EXT_CAP_ID_ATS), 0, 'and no ATS (as in QEMU)');
});

t.test('a backend that processed chains itself hands the ring indices back (vhost)', async (t) => {
  const h = echo();
  h.init(V1, 1);
  const vq = vdev(h).queues[0]!;
  const q = h.queues[0]!;
  const first = h.chain(0, [{ data: Uint8Array.of(1) }, { len: 1, write: true, addr: 0x320000 }]);
  h.kick(0, first, false);
  // The backend consumed the first chain and wrote the used ring itself.
  h.w32(q.used + 4, first);
  h.w32(q.used + 8, 0);
  h.w16(q.used + 2, 1);
  vq.setIndices(1, 1);
  h.kick(0, h.chain(0, [{ data: Uint8Array.of(5) }, { len: 1, write: true, addr: 0x321000 }]));
  t.equal(h.usedIdx(0), 2, 'the device continues after the backend');
  t.equal(h.r8(0x320000), 0, 'the first chain was not processed again');
  t.equal(h.r8(0x321000), 6);
});
