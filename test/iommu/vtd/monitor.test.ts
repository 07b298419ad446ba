import t from 'tap';
import { readFileSync } from 'node:fs';
import { IOMMU_NOTIFIER_UNMAP, iommuNotifierInit, registerIommuNotifier } from '../../../src/iommu/index.js';
import { humanMonitorCommand } from '../../../src/machine/monitor/hmp.js';
import { repoPath } from '../../helpers/paths.js';
import { R, vtdMachine } from './helpers.js';

/** The blank-line separated blocks of `info mtree` that start with `head`. */
function blocks(text: string, head: RegExp): string[] {
  return text.split(/\n\s*\n/).map((b) => b.trim()).filter((b) => head.test(b.split('\n')[0]!));
}

t.test('info mtree: the per-device VT-d address spaces are QEMU 7.2\'s (vtd-root, vtd-SS.F, vtd-nodmar, vtd-ir)', async (t) => {
  const qemu = readFileSync(repoPath('test/iommu/vtd/data/mtree.txt'), 'utf8').replace(/\r/g, '');
  const v = vtdMachine();
  const ours = humanMonitorCommand(v.m, 'info mtree');
  const want = blocks(qemu, /^address-space: vtd-root$|^memory-region: vtd-/).sort();
  t.equal(want.length, 12, 'five vtd-root address spaces, their five root regions, vtd-nodmar and vtd-ir');
  t.same(blocks(ours, /^address-space: vtd-root$|^memory-region: vtd-/).sort(), want);
});

t.test('info mtree with translation on: the edu address space shows vtd-01.0-dmar with vtd-ir over the interrupt range', async (t) => {
  const v = vtdMachine();
  v.bringUp();
  const ours = humanMonitorCommand(v.m, 'info mtree');
  const edu = blocks(ours, /^address-space: vtd-root$/).find((b) => b.includes('vtd-01.0'));
  t.equal(edu, [
    'address-space: vtd-root',
    '  0000000000000000-ffffffffffffffff (prio 0, i/o): vtd-01.0',
    '    0000000000000000-ffffffffffffffff (prio 0, i/o): vtd-01.0-dmar',
    '      00000000fee00000-00000000feefffff (prio 1, i/o): alias vtd-ir @vtd-ir 0000000000000000-00000000000fffff',
  ].join('\n'), 'ref/qemu-core.md section 1');
});

t.test('info iommu: registers, root table, domains, endpoints with notifiers, IOTLB counters, faults, invalidations', async (t) => {
  const v = vtdMachine();
  t.match(humanMonitorCommand(v.m, 'info iommu'), /translation disabled; root table \(not set\)/);
  const s = v.bringUp({ did: 7 });
  v.qiOn();
  v.map(s, 3, 0x1000, 0x300000);
  v.dmaRead(0x1000);
  v.dmaRead(0x1000);
  v.dmaRead(0x5000);
  registerIommuNotifier(v.das().iommu, iommuNotifierInit(() => undefined, IOMMU_NOTIFIER_UNMAP, 0n, 0xffffffffn, 0));
  v.submit(v.psi(7, 0x1000, 0), v.waitDesc());
  const out = humanMonitorCommand(v.m, 'info iommu');
  t.match(out, /^intel-iommu at 0xfed90000: VT-d 1\.0, legacy mode, aw-bits 39, caching-mode off, device-iotlb off, pt on, intremap on/);
  t.match(out, /CAP 0x00d2008c22260206 {2}ECAP 0x0000000000f00f4a/);
  t.match(out, /GSTS 0xc4000000 \(TES RTPS QIES\)/);
  t.match(out, /translation enabled; root table 0x100000; invalidation queue 0x102000, 256 entries, head 2, tail 2/);
  t.match(out, /bus 00: context table 0x101000\n {6}00:01\.0: DID 7, TT 0 \(multi-level\), AW 1 \(3-level\), SLPTPTR 0x110000/);
  t.match(out, /domains:\n {4}DID 7: 00:01\.0 \(IOTLB tags \d+\)/);
  t.match(out, /00:01\.0 vtd-01\.0: DMAR, context cached \(DID 7\), IOTLB tag \d+\n {6}notifier UNMAP idx 0 \[0x0, 0xffffffff\]/);
  t.match(out, /IOTLB: 0\/4096 entries \(4-way, fifo\), hits 1, misses 2, evictions 0/);
  t.match(out, /faults: 1 recorded, 0 suppressed \(FPD\), 0 dropped; fault events 0; FRCD0 pending: SID 00:01\.0, reason 0x6 \(PTE Read access is not set\), read addr 0x5000/);
  t.match(out, /invalidations: context 0 global \/ 0 device; IOTLB 0 global \/ 0 domain \/ 1 page; device-TLB 0; IEC 0; wait 1; queue errors 0/);
  t.equal(v.r32(R.FSTS), 2);
});
