import { notifierFlagsName } from '../notifier.js';
import { pageMaskToQueryMask, RTAS_DDW_PGSIZES } from './papr.js';
import type { SpaprTce } from './spapr-tce.js';
import type { SpaprTceTable } from './tce-table.js';

function hex(v: number | bigint): string {
  return `0x${v.toString(16)}`;
}

function sizeName(shift: number): string {
  if (shift >= 30) return `${2 ** (shift - 30)}G`;
  if (shift >= 20) return `${2 ** (shift - 20)}M`;
  return `${2 ** (shift - 10)}K`;
}

function windowLines(m: SpaprTce, t: SpaprTceTable): string[] {
  if (!t.enabled) return [`    window LIOBN ${hex(t.liobn)}: disabled`];
  const end = t.busOffset + t.windowSize - 1n;
  const out = [
    `    window LIOBN ${hex(t.liobn)}: bus ${hex(t.busOffset)}-${hex(end)}, ${sizeName(t.pageShift)} pages, ${t.nbTable} TCEs `
    + `(${t.validCount()} valid)${t.defWin ? ', default window' : ''}, need-vfio ${t.needVfio ? 'yes' : 'no'}`,
    `      hcalls: ${t.stats.puts} TCE stores (${t.stats.maps} MAP, ${t.stats.unmaps} UNMAP), DMA faults ${t.stats.faults}`
    + (t.lastFault ? ` (last: ${t.lastFault.write ? 'write' : 'read'} at window offset ${hex(t.lastFault.iova)}, ${t.lastFault.reason})` : ''),
  ];
  const ns = t.iommu.registeredNotifiers;
  if (ns.length === 0) out.push('      notifiers: none');
  for (const n of ns) {
    out.push(`      notifier: ${m.labelOf(n) ?? 'unnamed'} ${notifierFlagsName(n.notifierFlags)} [${hex(n.start)}, ${hex(n.end)}] idx ${n.iommuIndex}`);
  }
  return out;
}

/**
 * `info iommu` for the sPAPR TCE model: each PHB as a table group (its
 * PE), the windows with geometry, valid TCEs and notifier consumers (the
 * group's owners: the guest kernel alone while no consumer shadows it, a
 * VFIO-style consumer once one registered MAP|UNMAP and the table needs
 * VFIO), windows removed while they held TCEs, and the shared IOTLB.
 */
export function formatSpaprInfo(m: SpaprTce): string {
  const lines: string[] = [];
  for (const phb of m.phbs) {
    const o = phb.opts;
    const sizes = RTAS_DDW_PGSIZES.filter(([s]) => o.pgsz & (1n << BigInt(s))).map(([s]) => sizeName(s)).join(' ');
    lines.push(`spapr-tce: PHB ${o.index} (BUID ${hex(o.buid)}), table group of 1 PE`);
    lines.push(`  DDW ${o.ddw ? 'on' : 'off'}, ${phb.windowsSupported} window${phb.windowsSupported === 1 ? '' : 's'}${o.sriovVf ? ' (SR-IOV VF PE)' : ''}, `
      + `page sizes ${sizes} (query mask ${hex(pageMaskToQueryMask(o.pgsz))}), default ${hex(o.dmaWinAddr)}+${hex(o.dmaWinSize)}, `
      + `64-bit windows at ${hex(o.dma64WinAddr)}${o.defWinQuirk ? ', def-win-quirk' : ''}${o.lopaprNpages0 ? ', lopapr-npages0' : ''}${o.persistentTces ? ', persistent-tces' : ''}`);
    const consumers = phb.tables.flatMap((t) => t.iommu.registeredNotifiers.map((n) => m.labelOf(n) ?? 'unnamed'));
    const needVfio = phb.tables.some((t) => t.needVfio);
    lines.push(`  owner: ${consumers.length === 0 ? 'guest kernel (no shadowing consumer)' : `guest kernel, shadowed by ${[...new Set(consumers)].join(', ')}${needVfio ? ' (need-vfio)' : ''}`}`);
    for (const t of phb.tables) lines.push(...windowLines(m, t));
    const eps = [...(m.endpoints.get(o.index) ?? [])];
    lines.push(`  endpoints: ${eps.length ? eps.join(', ') : 'none'}`);
    const stale = phb.staleRemovals;
    lines.push(`  windows removed with valid TCEs: ${stale.length === 0 ? 'none' : stale.map((s) => `LIOBN ${hex(s.liobn)} (${s.valid})`).join(', ')}`);
  }
  const tlb = m.engine.iotlb;
  lines.push(`  IOTLB: ${tlb.entries}/${tlb.capacity} entries (${tlb.ways}-way, ${tlb.policy}), hits ${tlb.hits}, misses ${tlb.misses}, evictions ${tlb.evictions}; TCE arena ${m.arena.usedEntries} of ${m.arena.entries} entries`);
  return lines.join('\n') + '\n';
}
