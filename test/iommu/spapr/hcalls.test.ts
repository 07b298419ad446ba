import t from 'tap';
import {
  IOMMU_NOTIFIER_DEVIOTLB_UNMAP, IOMMU_NOTIFIER_IOTLB_EVENTS, IOMMU_NOTIFIER_MAP, IOMMU_NOTIFIER_UNMAP, iommuNotifierInit,
  registerIommuNotifier, TranslationPool, unregisterIommuNotifier, type IOMMUNotifier, type IOMMUNotifyEntry,
} from '../../../src/iommu/index.js';
import { MEMTX_OK } from '../../../src/memory/index.js';
import { pseries } from './helpers.js';

const H_PUT_TCE = 0x20;
const H_GET_TCE = 0x1c;
const H_STUFF_TCE = 0x138;
const H_PUT_TCE_INDIRECT = 0x13c;
const H_SUCCESS = 0n;
const H_PARAMETER = -4n;
const LIOBN0 = 0x80000000n;

function rig(...args: string[]) {
  const r = pseries(...args);
  const h = (op: number, ...a: (bigint | number)[]) => r.board.hcalls.call(op, a.map((x) => BigInt(x)));
  return { ...r, h, t0: r.board.phbDma.tables[0]!, dma: r.board.dmaAs };
}

/** Records every event a notifier gets: type, window-relative iova, translated address, mask, perm. */
function recorder(flags = IOMMU_NOTIFIER_IOTLB_EVENTS, start = 0n, end = (1n << 64n) - 1n) {
  const seen: string[] = [];
  const n: IOMMUNotifier = iommuNotifierInit((_n, e: IOMMUNotifyEntry) => {
    seen.push(`${e.perm ? 'MAP' : 'UNMAP'} iova=0x${e.iova.toString(16)} -> 0x${e.translatedAddr.toString(16)} mask=0x${e.addrMask.toString(16)} perm=${e.perm}`);
  }, flags, start, end, 0);
  return { n, seen };
}

t.test('behaviour 1: unknown LIOBN, a LIOBN above 32 bits, or an I/O address outside the window -> H_PARAMETER, table unchanged', async (t) => {
  const { h, t0 } = rig('-device', 'edu');
  t.same(h(H_PUT_TCE, 0x80000005, 0x1000, 0x5003), { ret: H_PARAMETER, out: [] });
  t.same(h(H_PUT_TCE, (1n << 32n) | LIOBN0, 0x1000, 0x5003), { ret: H_PARAMETER, out: [] }, 'spapr_tce_find_by_liobn rejects bits above 31');
  t.same(h(H_GET_TCE, 0x80000005, 0x1000), { ret: H_PARAMETER, out: [] });
  t.same(h(H_PUT_TCE, LIOBN0, 0x40000000, 0x5003), { ret: H_PARAMETER, out: [] }, 'one page past the 1 GiB window');
  t.same(h(H_GET_TCE, LIOBN0, 0x40000000), { ret: H_PARAMETER, out: [] });
  t.same(h(H_PUT_TCE, 0x80000001, 0x0, 0x5003), { ret: H_PARAMETER, out: [] }, 'a disabled window (LIOBN#1 before any DDW)');
  t.equal(t0.validCount(), 0);
  t.equal(t0.stats.puts, 0);
});

t.test('behaviour 2: a valid H_PUT_TCE -> H_SUCCESS and one event: MAP with a permission, UNMAP without; relative iova, page mask', async (t) => {
  const { h, t0, board } = rig('-device', 'edu');
  const r = recorder();
  t.equal(registerIommuNotifier(t0.iommu, r.n), null);
  t.same(h(H_PUT_TCE, LIOBN0, 0x3fff_f123, 0x1234_5003), { ret: H_SUCCESS, out: [] }, 'ioba is masked to the page');
  t.same(h(H_GET_TCE, LIOBN0, 0x3fff_f000), { ret: H_SUCCESS, out: [0x1234_5003n] }, 'H_GET_TCE returns the raw TCE');
  t.same(h(H_PUT_TCE, LIOBN0, 0x3fff_f000, 0x2222_2ff1), { ret: H_SUCCESS, out: [] }, 'overwrite');
  t.same(h(H_GET_TCE, LIOBN0, 0x3fff_f000), { ret: H_SUCCESS, out: [0x2222_2ff1n] }, 'other bits are stored as given');
  t.same(h(H_PUT_TCE, LIOBN0, 0x3fff_f000, 0x2222_2000), { ret: H_SUCCESS, out: [] }, 'no permission: a fault entry');
  t.same(r.seen, [
    'MAP iova=0x3ffff000 -> 0x12345000 mask=0xfff perm=3',
    'MAP iova=0x3ffff000 -> 0x22222000 mask=0xfff perm=1',
    'UNMAP iova=0x3ffff000 -> 0x22222000 mask=0xfff perm=0',
  ], 'one event per store; an overwrite is a MAP with no UNMAP before it');
  // A 64 KiB-page DDW at 0x800000000000000: iova relative to the window.
  const c = board.rtas.callWithArrays(0x2027, [0, 0x08000000, 0x20000000, 16, 30], 4);
  t.same(c, [0, 0x80000001 | 0, 0x08000000, 0], 'RTAS words come back signed');
  const t1 = board.phbDma.tables[1]!;
  const r1 = recorder();
  registerIommuNotifier(t1.iommu, r1.n);
  t.same(h(H_PUT_TCE, 0x80000001, 0x0800_0000_0003_1234n, 0x7_0000_0002n), { ret: H_SUCCESS, out: [] });
  t.same(r1.seen, ['MAP iova=0x30000 -> 0x700000000 mask=0xffff perm=2']);
  t.same(h(H_PUT_TCE, 0x80000001, 0x1000, 3), { ret: H_PARAMETER, out: [] }, 'an address below the window start');
});

t.test('behaviour 3: H_PUT_TCE_INDIRECT and H_STUFF_TCE limits; npages 0 is H_PARAMETER (QEMU) unless lopapr-npages0', async (t) => {
  const { h, t0, m } = rig('-device', 'edu');
  const list = 0x100000;
  const tces = new Uint8Array(8 * 4);
  const dv = new DataView(tces.buffer);
  for (let i = 0; i < 4; i++) dv.setBigUint64(i * 8, BigInt(0x200000 + i * 0x1000) | 3n, false);
  m.systemAs.writeBytes(list, tces);
  t.same(h(H_PUT_TCE_INDIRECT, LIOBN0, 0x1000, list, 513).ret, H_PARAMETER, 'more than 512 entries');
  t.same(h(H_PUT_TCE_INDIRECT, LIOBN0, 0x1000, list + 8, 4).ret, H_PARAMETER, 'list not 4 KiB aligned');
  t.same(h(H_PUT_TCE_INDIRECT, LIOBN0, 0x1000, list, 0).ret, H_PARAMETER, 'npages 0');
  t.same(h(H_STUFF_TCE, LIOBN0, 0x1000, 0, 0).ret, H_PARAMETER, 'npages 0');
  t.same(h(H_STUFF_TCE, LIOBN0, 0, 0, 0x40001).ret, H_PARAMETER, 'more pages than the table has');
  t.equal(t0.validCount(), 0);
  t.same(h(H_PUT_TCE_INDIRECT, LIOBN0, 0x1000, list, 4).ret, H_SUCCESS);
  t.same([1, 2, 3, 4].map((i) => h(H_GET_TCE, LIOBN0, i * 0x1000).out[0]), [0x200003n, 0x201003n, 0x202003n, 0x203003n], 'big-endian list, consecutive pages');
  t.same(h(H_PUT_TCE_INDIRECT, LIOBN0, 0x3fffe000, list, 4).ret, H_PARAMETER, 'runs off the window end');
  t.same([h(H_GET_TCE, LIOBN0, 0x3fffe000).out[0], h(H_GET_TCE, LIOBN0, 0x3ffff000).out[0]], [0x200003n, 0x201003n], 'the stores before the failure stay');
  t.same(h(H_STUFF_TCE, LIOBN0, 0x1000, 0, 4).ret, H_SUCCESS);
  t.equal(t0.validCount(), 2, 'only the two pages at the window end are left');
  t.same(h(H_STUFF_TCE, LIOBN0, 0x3fffe000, 0, 3).ret, H_PARAMETER, 'stops at the end, cleared what it could');
  t.equal(t0.validCount(), 0);
  const lop = rig('-device', 'edu', '-global', 'spapr-pci-host-bridge.lopapr-npages0=on');
  t.same(lop.h(H_PUT_TCE_INDIRECT, LIOBN0, 0x1000, list, 0).ret, H_SUCCESS, 'LoPAPR reading: nothing to do is success');
  t.same(lop.h(H_STUFF_TCE, LIOBN0, 0x1000, 0, 0).ret, H_SUCCESS);
});

t.test('notifier policy: DEVIOTLB_UNMAP vetoed with QEMU\'s text; NONE <-> some switches need-vfio; replay MAPs the valid TCEs', async (t) => {
  const { h, t0 } = rig('-device', 'edu');
  const dev = recorder(IOMMU_NOTIFIER_DEVIOTLB_UNMAP);
  t.same(registerIommuNotifier(t0.iommu, dev.n), { errno: -22, message: 'spart_tce does not support dev-iotlb yet' });
  t.equal(t0.iommu.registeredNotifiers.length, 0, 'a vetoed notifier leaves no trace');
  t.equal(t0.needVfio, false);
  h(H_PUT_TCE, LIOBN0, 0x5000, 0x9000_0001);
  h(H_PUT_TCE, LIOBN0, 0x7000, 0x9100_0002);
  const unmapOnly = recorder(IOMMU_NOTIFIER_UNMAP);
  t.equal(registerIommuNotifier(t0.iommu, unmapOnly.n), null, 'vhost falls back to UNMAP (qemu-core section 3)');
  t.equal(t0.needVfio, true, 'the first notifier makes the table need VFIO');
  const vfio = recorder(IOMMU_NOTIFIER_MAP | IOMMU_NOTIFIER_UNMAP, 0n, 0x3fffffffn);
  t.equal(registerIommuNotifier(t0.iommu, vfio.n), null);
  t.equal(t0.iommu.replay(vfio.n), null);
  t.same(vfio.seen, ['MAP iova=0x5000 -> 0x90000000 mask=0xfff perm=1', 'MAP iova=0x7000 -> 0x91000000 mask=0xfff perm=2'], 'replay');
  h(H_PUT_TCE, LIOBN0, 0x5000, 0);
  t.same(unmapOnly.seen, ['UNMAP iova=0x5000 -> 0x0 mask=0xfff perm=0'], 'an UNMAP-only notifier gets only the UNMAP');
  unregisterIommuNotifier(t0.iommu, unmapOnly.n);
  t.equal(t0.needVfio, true);
  unregisterIommuNotifier(t0.iommu, vfio.n);
  t.equal(t0.needVfio, false, 'the last one gone: back to NONE');
  t.equal(t0.stats.needVfioSwitches, 2);
});

t.test('DMA through the PHB: a mapped page, a fault entry, the permission bits, outside every window; no stale entry after H_PUT_TCE', async (t) => {
  const { h, dma, m, t0 } = rig('-device', 'edu', '-m', '512M');
  m.systemAs.writeBytes(0x1234_5000, Uint8Array.from([0xaa, 0xbb]));
  m.systemAs.writeBytes(0x1234_6000, Uint8Array.from([0xcc, 0xdd]));
  const rd = (a: number | bigint) => dma.read(a, 2);
  t.equal(rd(0x1000).result === MEMTX_OK, false, 'no TCE: the access fails');
  h(H_PUT_TCE, LIOBN0, 0x1000, 0x1234_5001);
  t.equal(rd(0x1000).lo, 0xbbaa);
  t.equal(dma.write(0x1000, 1, 0) === MEMTX_OK, false, 'read-only TCE: a device write fails');
  h(H_PUT_TCE, LIOBN0, 0x1000, 0x1234_6003);
  t.equal(rd(0x1000).lo, 0xddcc, 'the new TCE is used at once: the IOTLB entry of the old one went');
  t.equal(rd(0x5000_0000).result === MEMTX_OK, false, 'no window there');
  t.ok(t0.stats.faults >= 2);
  t.match(m.log.grep(/blocked: no permission in the TCE/)[0]?.text ?? '', /LIOBN 0x80000000: DMA read at 0x1000/);
});

t.test('workers translate through the TCE arena; the return of H_PUT_TCE is a completion point for them', async (t) => {
  const { h, board } = rig('-device', 'edu');
  const tce = board.tce;
  const pool = await TranslationPool.start({ workers: 1, ram: tce.engine.ram, coherence: tce.coherence });
  t.teardown(() => pool.close());
  h(H_PUT_TCE, LIOBN0, 0x3000, 0x4567_8003);
  const iovas = new Float64Array(new SharedArrayBuffer(16)).fill(0x3010);
  const out = new Float64Array(new SharedArrayBuffer(16));
  const ctx = board.phbDma.tables[0]!.ctx;
  t.same(await pool.translate(ctx, 1, iovas, out), { faults: 0 });
  t.same([...out], [0x4567_8010, 0x4567_8010]);
  h(H_PUT_TCE, LIOBN0, 0x3000, 0x1111_1003);
  t.same(await pool.translate(ctx, 1, iovas, out), { faults: 0 });
  t.same([...out], [0x1111_1010, 0x1111_1010], 'the worker dropped its cached entry before the hcall returned');
  h(H_STUFF_TCE, LIOBN0, 0x3000, 0, 1);
  t.same(await pool.translate(ctx, 1, iovas, out), { faults: 2 });
});
