import { reportFailed, type BootReport } from './report.js';

function table(head: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string => r.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd();
  return [line(head), line(w.map((n) => '-'.repeat(n))), ...rows.map(line)];
}

/** The human form of a boot report: the log, then summary tables. */
export function formatReport(r: BootReport): string {
  const out: string[] = [...r.log, ''];
  out.push(`machine ${r.machine}, firmware ${r.firmware.kind}${r.firmware.tables.length ? ` (${r.firmware.tables.join(' ')})` : ''}, ` +
    `DMA mode ${r.iommu.mode}${r.iommu.regress.length ? `, regressions: ${r.iommu.regress.join(' ')}` : ''}`);
  if (r.iommu.instances.length === 0) out.push('IOMMU: none (direct DMA)');
  else for (const i of r.iommu.instances) out.push(`IOMMU: ${i.name} (${i.driver}, ${i.fwnode})`);
  out.push('');
  out.push(...table(['device', 'id', 'class', 'driver', 'group', 'domain', 'DMA ops'],
    r.devices.map((d) => [d.bdf, d.id, d.class, d.driver ?? '-', d.group === undefined ? '-' : String(d.group), d.domain ?? '-', d.dmaOps])));
  if (r.groups.length) {
    out.push('');
    out.push(...table(['group', 'default domain', 'attached', 'owner', 'devices'],
      r.groups.map((g) => [String(g.id), g.defaultDomain ?? '-', g.domain ?? '-', g.owned ? 'user' : 'kernel', g.devices.join(' ')])));
  }
  if (r.notifiers.length) {
    out.push('');
    out.push(...table(['device', 'consumer', 'flags', 'fallback'], r.notifiers.map((n) => [n.device, n.consumer, n.flags, n.fallback ?? '-'])));
  }
  out.push('');
  out.push(...table(['workload', 'result', 'DMA ops', 'bytes', 'virtual ms'],
    r.workloads.map((w) => [w.name, w.ok ? 'ok' : 'FAILED', String(w.ops), String(w.bytes), (w.elapsedNs / 1e6).toFixed(1)])));
  out.push('');
  out.push(`DMA API: ${r.dma.maps} maps, ${r.dma.unmaps} unmaps, ${r.dma.bytes} bytes, ${r.dma.errors} map errors, ${r.dma.bounced} bounced`);
  out.push(`invalidations: ${r.invalidations.total} (${r.invalidations.iotlbSyncs} range syncs, ${r.invalidations.flushAll} flush-all` +
    `${r.invalidations.fqFlushes ? `; flush queue: ${r.invalidations.fqFlushes} flushes, ${r.invalidations.fqFull} when full, ${r.invalidations.fqTimeout} on timeout` : ''})`);
  out.push(`DMA oracle: ${r.oracle.checked} accesses checked (${r.oracle.ok} ok, ${r.oracle.faults} faulted, ${r.oracle.staleWindow} in an invalidation window, ${r.oracle.untranslated} untranslated), ` +
    `${r.oracle.violations} violation${r.oracle.violations === 1 ? '' : 's'}`);
  for (const v of r.oracle.list) {
    out.push(`  ${v.message}`);
    for (const h of v.history) out.push(`    ${h}`);
  }
  out.push(reportFailed(r) ? 'RESULT: FAILED' : 'RESULT: ok');
  return out.join('\n') + '\n';
}
