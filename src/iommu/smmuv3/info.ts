import { notifierFlagsName } from '../notifier.js';
import { CR0_CMDQEN, CR0_EVENTQEN, CR0_SMMUEN, GBPA_ABORT } from './regs.js';
import type { Smmuv3 } from './smmuv3.js';

const hex = (n: number): string => `0x${n.toString(16)}`;
const bdf = (sid: number): string =>
  `${(sid >> 8).toString(16).padStart(2, '0')}:${((sid >> 3) & 0x1f).toString(16).padStart(2, '0')}.${sid & 7}`;

/**
 * `info iommu` for an SMMUv3: the enables and queues, the stream table, the
 * cached configurations (STE and CDs per StreamID), the translation
 * contexts (ASID regimes) with their IOTLB use, the endpoints with their
 * notifiers and flags, the IOTLB occupancy and counters, recent events.
 */
export function smmuv3Info(s: Smmuv3, base: number): string {
  const out: string[] = [];
  const d = s.decode;
  const on = (b: number) => ((s.cr0 & b) !== 0 ? 'on' : 'off');
  out.push(`smmuv3 @ ${hex(base)}: SMMUEN ${on(CR0_SMMUEN)}, CMDQEN ${on(CR0_CMDQEN)}, EVENTQEN ${on(CR0_EVENTQEN)}`
    + `${s.smmuEnabled ? '' : `, GBPA ${s.gbpa & GBPA_ABORT ? 'abort' : 'bypass'}`}`);
  out.push(`  options: ats=${d.ats ? 'on' : 'off'} ssidsize=${d.ssidsize}${d.qemu72 ? ' x-qemu72=on' : ''}; IDR0 ${hex(s.idr0)} IDR1 ${hex(s.idr1)}`);
  const log2 = s.strtabBaseCfg & 0x3f;
  out.push(`  stream table: ${s.twoLevel ? `2-level (split ${(s.strtabBaseCfg >>> 6) & 0x1f})` : 'linear'} at ${hex(s.strtabBase)}, ${2 ** Math.min(log2, 16)} StreamIDs`);
  out.push(`  cmdq: base ${hex(s.cmdq.base)} log2size ${s.cmdq.log2size} prod ${hex(s.cmdq.prod)} cons ${hex(s.cmdq.cons)}; `
    + `eventq: base ${hex(s.eventq.base)} log2size ${s.eventq.log2size} prod ${hex(s.eventq.prod)} cons ${hex(s.eventq.cons)}`);
  out.push(`  GERROR ${hex(s.gerror)} GERRORN ${hex(s.gerrorn)} IRQ_CTRL ${hex(s.irqCtrl)}`);
  const cfgs = s.cache.entries();
  out.push(`  configuration cache: ${cfgs.length} StreamIDs (hits ${s.cache.hits}, misses ${s.cache.misses})`);
  for (const [sid, e] of cfgs) {
    const ste = e.ste;
    const extra = ste.kind === 's1' ? ` S1CDMax ${ste.s1cdmax} S1DSS ${ste.s1dss} EATS ${ste.eats} CD ${hex(ste.cdPtr)}` : '';
    out.push(`    sid ${hex(sid)} (${bdf(sid)}): ${ste.kind}${extra}`);
    for (const [idx, c] of [...e.cds.entries()].sort((a, b) => a[0] - b[0])) {
      const t = c.cd.tt[0];
      out.push(`      cd ${idx}: asid ${c.cd.asid} ${t.disabled ? 'TT0 disabled' : `TT0 ${hex(t.ttb)} ${2 ** (t.granule - 10)}K T0SZ ${t.tsz}`} oas ${c.cd.oas} R=${c.cd.recordFaults ? 1 : 0} context ${c.ctx}`);
    }
  }
  out.push(`  contexts: ${s.contexts.live.map((c) => `${c.ctx} (asid ${c.regime.asid}, ${c.refs} refs)`).join(', ') || 'none'}`);
  out.push('  endpoints:');
  for (const ep of s.endpoints) {
    const ns = ep.region.registeredNotifiers;
    const flags = notifierFlagsName(ep.region.iommuNotifyFlags);
    out.push(`    ${ep.name}: sid ${hex(ep.sid)} (${bdf(ep.sid)}), notifiers ${ns.length} [${flags}]`);
    for (const n of ns) out.push(`      [${hex(Number(n.start))}, ${hex(Number(n.end))}] idx ${n.iommuIndex} ${notifierFlagsName(n.notifierFlags)}`);
  }
  const t = s.coherence.engine.iotlb;
  out.push(`  IOTLB: ${t.entries}/${t.capacity} entries (${t.ways}-way ${t.policy}), hits ${t.hits}, misses ${t.misses}, evictions ${t.evictions}`);
  const st = s.stats;
  out.push(`  counters: translations ${st.translations}, commands ${st.commands}, CMD_SYNC ${st.syncs}, events ${st.events} (dropped ${st.eventsDropped}), `
    + `ATC invalidations ${st.atcInvalidations}, notifier events ${st.notifierEvents}`);
  if (s.recentEvents.length) out.push(`  recent events: ${s.recentEvents.join('; ')}`);
  if (s.lastGuestError) out.push(`  last configuration error: ${s.lastGuestError}`);
  return out.join('\n') + '\n';
}
