import t from 'tap';
import { repoPath } from '../../helpers/paths.js';
import { loadTranscript, replay, type Transcript } from '../../machine/transcript.js';
import { pseries } from './helpers.js';

/** A transcript recorded from QEMU 7.2 (see the data folder's generator), optionally replayed with more viommu arguments. */
function transcript(name: string, extra: string[] = []): Transcript {
  return loadTranscript(name, repoPath('test', 'iommu', 'spapr', 'data'), extra);
}

/** The first line where viommu's exchange differs from QEMU's, or -1. */
function firstDifference(tr: Transcript): { at: number; got: string | undefined; want: string | undefined; after: string | undefined } | undefined {
  const got = replay(tr);
  for (let i = 0; i < Math.max(got.length, tr.lines.length); i++) {
    if (got[i] !== tr.lines[i]) {
      return { at: i + 1, got: got[i], want: tr.lines[i], after: tr.lines.slice(0, i + 1).reverse().find((l) => l.includes('rtas ')) };
    }
  }
  return undefined;
}

t.test('behaviours 4-6: query/create/remove/reset answer what QEMU 7.2 answers through qtest\'s rtas command', async (t) => {
  const tr = transcript('pseries-ddw.txt');
  t.ok(tr.lines.length > 1000);
  t.equal(firstDifference(tr), undefined, `${tr.lines.length} lines identical`);
});

t.test('the def_win quirk: QEMU\'s answers with def-win-quirk=on; the LoPAPR reading restores the default window by default', async (t) => {
  t.equal(firstDifference(transcript('pseries-ddw-defwin.txt', ['-global', 'spapr-pci-host-bridge.def-win-quirk=on'])), undefined, 'identical with the compat property');
  const d = firstDifference(transcript('pseries-ddw-defwin.txt'));
  t.ok(d, 'without it the answers differ');
  t.match(d!.after ?? '', /rtas ibm,query-pe-dma-window/, 'at the query after removing the DDW that sat in LIOBN#0');
  t.same([d!.want, d!.got], ['< OK 0x0000000000000002', '< OK 0x0000000000000001'], 'QEMU: 2 windows free (none left); LoPAPR: 1 (the default window is back)');
});

const BUID = [0x08000000, 0x20000000];

t.test('behaviour 5/6 geometry: the DDW at 0x0800000000000000; the default 1 GiB 4 KiB window comes back at 0', async (t) => {
  const { board, m } = pseries('-device', 'edu');
  const rtas = (tok: number, args: number[], n: number) => board.rtas.callWithArrays(tok, args, n).map((v) => v >>> 0);
  const [t0, t1] = board.phbDma.tables;
  t.same(rtas(0x2027, [0, ...BUID, 16, 40], 4), [0, 0x80000001, 0x08000000, 0]);
  t.same([t1!.busOffset, t1!.pageShift, t1!.nbTable], [0x0800_0000_0000_0000n, 16, 2 ** 24]);
  t.same(rtas(0x2027, [0, ...BUID, 16, 40], 4)[0], 0xffffffff, 'a further create: -1');
  t.same(rtas(0x2027, [0, ...BUID, 13, 40], 4)[0], 0xfffffffd, 'page shift 13: -3');
  t.same(rtas(0x2027, [0, ...BUID, 16, 15], 4)[0], 0xfffffffd, 'window shift < page shift: -3');
  t.same(rtas(0x2028, [0x80000000], 1), [0]);
  t.notOk(t0!.enabled);
  t.same(rtas(0x2028, [0x80000001], 1), [0]);
  t.same([t0!.enabled, t0!.busOffset, t0!.pageShift, t0!.nbTable, t0!.defWin], [true, 0n, 12, 0x40000, true], 'the default window is back');
  t.notOk(t1!.enabled);
  t.match(m.log.grep(/default window restored/)[0]?.text ?? '', /last window removed/);
  t.same(rtas(0x2027, [0, ...BUID, 24, 34], 4), [0, 0x80000001, 0x08000000, 0]);
  t.same(rtas(0x2029, [0, ...BUID], 1), [0]);
  t.same([t0!.enabled, t1!.enabled], [true, false], 'reset: only the default window');
  t.same(rtas(0x2027, [0, ...BUID, 12, 53], 4)[0], 0xffffffff, 'viommu keeps windows within 2^52 bytes: -1');
});

t.test('the DMA address space follows the windows (QEMU\'s iommu-root layout)', async (t) => {
  const { board, m } = pseries('-device', 'edu');
  board.rtas.callWithArrays(0x2027, [0, ...BUID, 16, 30], 4);
  const { infoMtree } = await import('../../../src/memory/mtree.js');
  const text = infoMtree(m.mem);
  const phbAs = text.slice(text.indexOf('address-space: pci@800000020000000'));
  t.match(phbAs, /pci@800000020000000\.iommu-root\n {4}0000000000000000-ffffffffffffffff \(prio 0, i\/o\): tce-root-80000001\n {6}0800000000000000-080000003fffffff \(prio 0, i\/o\): tce-iommu-80000001\n {4}0000000000000000-ffffffffffffffff \(prio 0, i\/o\): tce-root-80000000\n {6}0000000000000000-000000003fffffff \(prio 0, i\/o\): tce-iommu-80000000\n {4}0000040000000000-0000040000000fff \(prio 0, i\/o\): msi/);
});

t.test('ddw=off: one window, no DDW calls (every one answers -3), no DDW properties in the device tree', async (t) => {
  const { board, m } = pseries('-device', 'edu', '-global', 'spapr-pci-host-bridge.ddw=off');
  t.equal(board.phbDma.tables.length, 1);
  t.same(board.rtas.callWithArrays(0x2026, [0, ...BUID], 5)[0], -3);
  t.same(board.rtas.callWithArrays(0x2027, [0, ...BUID, 16, 30], 4)[0], -3);
  t.same(board.rtas.callWithArrays(0x2028, [0x80000000], 1)[0], -3);
  t.same(board.rtas.callWithArrays(0x2029, [0, ...BUID], 1)[0], -3);
  const { parseFdt } = await import('../../../src/guest/fw/fdt/fdt.js');
  const tree = parseFdt(m.firmware.fdt!);
  const phb = tree.ok ? tree.value.byPath('/pci@800000020000000') : undefined;
  t.ok(phb?.has('ibm,dma-window'));
  t.notOk(phb?.has('ibm,ddw-applicable'));
  t.notOk(phb?.has('ibm,ddw-extensions'));
});

t.test('sriov-vf: one window per PE; query reports none free; a DDW needs the default window gone and lands at the default address', async (t) => {
  const { board } = pseries('-device', 'edu', '-global', 'spapr-pci-host-bridge.sriov-vf=on');
  const rtas = (tok: number, args: number[], n: number) => board.rtas.callWithArrays(tok, args, n).map((v) => v >>> 0);
  t.same(rtas(0x2026, [0, ...BUID], 5), [0, 0, 0x80000000, 0x107, 0]);
  t.same(rtas(0x2027, [0, ...BUID, 16, 30], 4)[0], 0xffffffff);
  t.same(rtas(0x2028, [0x80000000], 1), [0]);
  t.same(rtas(0x2027, [0, ...BUID, 16, 30], 4), [0, 0x80000000, 0, 0], 'table[0] holds the DDW');
  t.match(board.tce.info(), /1 window \(SR-IOV VF PE\)/);
});

t.test('bad PHB properties are configuration errors naming the -global', async (t) => {
  t.throws(() => pseries('-global', 'spapr-pci-host-bridge.dma_win_size=0x1234'), /spapr-pci-host-bridge.*dma_win_size/);
  t.throws(() => pseries('-global', 'spapr-pci-host-bridge.nosuch=1'), /Property 'spapr-pci-host-bridge.nosuch' not found/);
  t.throws(() => pseries('-device', 'spapr-pci-host-bridge,index=1'), /not supported by viommu/);
});
