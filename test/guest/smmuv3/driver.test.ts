import t from 'tap';
import { reportFailed } from '../../../src/guest/report/report.js';
import { cmdCfgiSte } from '../../../src/guest/drivers/smmuv3/cmdq.js';
import { bootSmmu, guestDev } from './helpers.js';

const EDU = [0x1234, 0x11e8] as const;

for (const firmware of ['dt', 'acpi'] as const) {
  for (const dmaMode of ['strict', 'lazy'] as const) {
    t.test(`virt + SMMUv3 + edu (${firmware}, ${dmaMode}): the edu DMA goes through stage 1 and the oracle is clean`, async (t) => {
      const b = bootSmmu(['-device', 'edu'], { dmaMode, firmware, workloads: [{ name: 'edu-dma', params: { iterations: 6 } }] });
      const r = b.booted.report;
      t.notOk(reportFailed(r), r.log.slice(-5).join('\n'));
      t.ok(r.oracle.checked >= 12, `${r.oracle.checked} accesses checked`);
      t.equal(r.oracle.violations, 0);
      t.ok(b.drv, 'arm-smmu-v3 probed');
      t.equal(b.drv.strtab.twoLevel, true, 'SIDSIZE 16: a 2-level stream table, as Linux');
      const edu = guestDev(b.k, ...EDU);
      const sid = edu.pci!.devId;
      const [w0] = b.drv.strtab.read(sid);
      t.equal((w0 >>> 1) & 7, 5, 'the edu\'s STE translates at stage 1');
      const cache = b.smmu.smmu.cache.get(sid);
      t.equal(cache?.ste.kind, 's1', 'the model decoded the same STE');
      t.ok(b.smmu.smmu.stats.syncs > 0, 'CMD_SYNCs were issued');
      if (dmaMode === 'strict') t.ok(r.invalidations.iotlbSyncs > 0, 'strict: TLBI ranges on unmap');
      t.equal(b.smmu.smmu.stats.events, 0, 'no fault events');
    });
  }
}

t.test('the test-only broken-TLBI switch is caught by the oracle (stale translations)', async (t) => {
  const b = bootSmmu(['-device', 'edu'], { dmaMode: 'strict', workloads: [{ name: 'edu-dma', params: { iterations: 12 } }] }, { brokenTlbi: true });
  const r = b.booted.report;
  t.ok(r.oracle.violations > 0, `${r.oracle.violations} violations`);
  t.ok(r.oracle.list.some((v) => v.kind === 'stale-translation'), 'a stale translation was used after its invalidation "completed"');
  t.ok(reportFailed(r));
});

t.test('faults are drained from the event queue and logged; GERROR / CERROR_ILL is handled and the queue goes on', async (t) => {
  const b = bootSmmu(['-device', 'edu'], {
    dmaMode: 'strict', workloads: [],
    scenario: (k) => {
      const edu = guestDev(k, ...EDU);
      const mmio = edu.pci!.bars[0]!.cpuAddress;
      const w = (reg: number, v: number) => k.port.write(mmio + reg, 8, v, 0);
      w(0x80, 0x40000);
      w(0x88, 0x0ff00000); // an IOVA nothing maps
      w(0x90, 4);
      w(0x98, 3);
      k.clock.sleep(100_000_000);
    },
  });
  const ev = b.drv.evtq.seen;
  t.same(ev.map((e) => [e.type, e.sid, e.iova, e.read]), [[0x10, 8, 0x0ff00000, false]], 'one F_TRANSLATION, drained by the EVTQ interrupt');
  t.match(b.booted.report.log.join('\n'), /arm-smmu-v3 9050000\.smmuv3: event 0x10 F_TRANSLATION received: client 0000:00:01\.0 sid 0x8 iova 0xff00000 write/);
  t.equal(b.drv.cmdq.issue([[0x07, 0, 0, 0], cmdCfgiSte(8)]), true, 'the CMD_SYNC after an illegal command still completes');
  const log = b.k.log.lines.map((l) => l.text).join('\n');
  t.match(log, /unexpected global error reported \(0x00000001\)/);
  t.match(log, /CMDQ error \(cons 0x01000[0-9a-f]{3}\): Illegal command/);
  t.match(log, /skipping command in error state: 0x0000000000000007/);
  const s = b.smmu.smmu;
  t.equal(s.gerror, s.gerrorn, 'acknowledged');
  t.equal(b.drv.cmdq.issue([cmdCfgiSte(8)]), true, 'later commands run');
});
