import type { VirtioIommu } from './virtio-iommu.js';

const hex = (v: bigint | number): string => `0x${v.toString(16)}`;
const ep4 = (id: number): string => `0x${id.toString(16).padStart(4, '0')}`;
const bdf = (id: number): string =>
  `${((id >> 8) & 0xff).toString(16).padStart(2, '0')}:${((id >> 3) & 0x1f).toString(16).padStart(2, '0')}.${id & 7}`;

function perm(flags: number): string {
  return `${flags & 1 ? 'r' : '-'}${flags & 2 ? 'w' : '-'}${flags & 4 ? ' mmio' : ''}`;
}

/**
 * `info iommu` for a virtio-iommu (viommu's own format; QEMU has none):
 * the configuration, every domain with its endpoints and mappings, and
 * the endpoints the device knows without a domain.
 */
export function viommuInfo(dev: VirtioIommu, title: string): string {
  const o = dev.opts;
  const lines = [
    `${title}: ${o.qemuCompat ? 'x-qemu-compat' : 'spec-strict'}, bypass ${dev.bypass ? 1 : 0}, page_size_mask ${hex(o.pageSizeMask)}`,
    `  input_range [${hex(o.inputStart)}, ${hex(o.inputEnd)}], domain_range [${o.domainStart}, ${o.domainEnd}], probe_size ${o.probeSize}`,
    `  ${dev.domains.size} domain(s), ${dev.mappingCount} mapping(s), ${dev.counters.requests} request(s), ${dev.counters.faults} fault(s)`,
  ];
  for (const r of o.reservedRegions) lines.push(`  reserved [${hex(r.low)}, ${hex(r.high)}] ${r.type === 1 ? 'msi' : 'reserved'}`);
  for (const d of [...dev.domains.values()].sort((a, b) => a.id - b.id)) {
    const eps = d.endpoints.map((e) => `${ep4(e.id)} (${bdf(e.id)})`).sort();
    lines.push(`  domain ${d.id}${d.bypass ? ' (bypass)' : ''}: endpoints ${eps.join(', ') || 'none'}`);
    for (const m of d.mappings.all()) lines.push(`    [${hex(m.start)}, ${hex(m.end)}] -> ${hex(m.phys)} ${perm(m.flags)}`);
  }
  const idle = [...dev.endpoints.values()].filter((e) => !e.domain).map((e) => e.id).sort((a, b) => a - b);
  for (const id of idle) lines.push(`  endpoint ${ep4(id)} (${bdf(id)}): no domain (${dev.bypass ? 'bypass' : 'faults'})`);
  return lines.join('\n') + '\n';
}
