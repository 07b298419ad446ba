import { notifierFlagsName } from '../notifier.js';
import { hex64 } from './vtd-config.js';
import type { IntelIommu } from './intel-iommu.js';
import { sidText } from './intel-iommu.js';
import { VtdContext, vtdLookupContext } from './vtd-context.js';
import { VTD_FAULT_REASONS } from './vtd-faults.js';
import {
  DMAR_CAP_REG, DMAR_ECAP_REG, DMAR_FECTL_REG, DMAR_FSTS_REG, DMAR_GSTS_REG, DMAR_FRCD_REG, VTD_GSTS_IRES,
  VTD_GSTS_IRTPS, VTD_GSTS_QIES, VTD_GSTS_RTPS, VTD_GSTS_TES,
} from './vtd-regs.js';

const TT_NAMES = ['multi-level', 'device-TLB', 'pass-through', 'reserved'];

function hex(v: number | bigint): string {
  return `0x${v.toString(16)}`;
}

function gstsNames(v: number): string {
  const names: [number, string][] = [[VTD_GSTS_TES, 'TES'], [VTD_GSTS_RTPS, 'RTPS'], [VTD_GSTS_QIES, 'QIES'], [VTD_GSTS_IRES, 'IRES'], [VTD_GSTS_IRTPS, 'IRTPS']];
  const on = names.filter(([b]) => v & b).map(([, n]) => n);
  return on.length ? on.join(' ') : 'none';
}

/**
 * `info iommu` for intel-iommu: configuration and status registers, the
 * root table as the guest wrote it (present root and context entries),
 * the domains those entries name, each device address space (DMAR or
 * no-DMAR, cached context, notifiers with their flags and ranges), the
 * IOTLB occupancy and counters, faults and invalidations.
 */
export function vtdInfo(s: IntelIommu, id: string | undefined): string {
  const c = s.cfg;
  const out: string[] = [];
  const onoff = (b: boolean) => (b ? 'on' : 'off');
  out.push(`intel-iommu${id ? ` "${id}"` : ''} at 0xfed90000: VT-d 1.0, legacy mode, aw-bits ${c.awBits}, caching-mode ${onoff(c.cachingMode)}, ` +
    `device-iotlb ${onoff(c.deviceIotlb)}, pt ${onoff(c.pt)}, intremap ${onoff(c.intremapOn)}${c.iotlbHitNoFault ? ', x-iotlb-hit-no-fault on' : ''}`);
  out.push(`  CAP ${hex64(s.csr.raw(DMAR_CAP_REG), s.csr.raw(DMAR_CAP_REG + 4))}  ECAP ${hex64(s.csr.raw(DMAR_ECAP_REG), s.csr.raw(DMAR_ECAP_REG + 4))}`);
  const gsts = s.csr.raw(DMAR_GSTS_REG);
  out.push(`  GSTS 0x${gsts.toString(16).padStart(8, '0')} (${gstsNames(gsts)})  FSTS 0x${s.csr.raw(DMAR_FSTS_REG).toString(16).padStart(8, '0')}` +
    `  FECTL 0x${s.csr.raw(DMAR_FECTL_REG).toString(16).padStart(8, '0')}`);
  const q = s.queue;
  out.push(`  translation ${s.dmarEnabled ? 'enabled' : 'disabled'}; root table ${gsts & VTD_GSTS_RTPS ? hex(s.root) : '(not set)'}; ` +
    `invalidation queue ${q.enabled ? `${hex(q.base)}, ${q.size} entries, head ${q.head}, tail ${q.tail}` : 'off'}; ` +
    `interrupt remapping ${s.ir.enabled ? 'on' : 'off'}${gsts & VTD_GSTS_IRTPS ? ` (table ${hex(s.ir.root)}, ${s.ir.size} entries)` : ''}`);
  const domains = new Map<number, string[]>();
  if (gsts & VTD_GSTS_RTPS) {
    out.push('  root table:');
    let any = false;
    for (let bus = 0; bus < 256; bus++) {
      if (!s.ram.ld64le(s.root + bus * 16) || !(s.ram.lo & 1)) continue;
      any = true;
      const ctp = s.ram.hi * 0x1_0000_0000 + ((s.ram.lo & 0xfffff000) >>> 0);
      out.push(`    bus ${bus.toString(16).padStart(2, '0')}: context table ${hex(ctp)}`);
      for (let devfn = 0; devfn < 256; devfn++) {
        const ce = new VtdContext();
        const r = vtdLookupContext(s.ram, s.root, s.ctxParams, bus, devfn, ce);
        if (!(ce.lo & 1)) continue;
        const sid = (bus << 8) | devfn;
        const what = r ? `invalid (fault reason 0x${r.toString(16)})` : `DID ${ce.did}, TT ${ce.tt} (${TT_NAMES[ce.tt]}), ` +
          `AW ${ce.levels - 2} (${ce.levels}-level), SLPTPTR ${hex(ce.slptptr)}${ce.fpd ? ', FPD' : ''}`;
        out.push(`      ${sidText(sid)}: ${what}`);
        if (!r) domains.set(ce.did, [...(domains.get(ce.did) ?? []), `${sidText(sid)}${ce.tt === 2 ? ' (pass-through)' : ''}`]);
      }
    }
    if (!any) out.push('    (no present root entries)');
  }
  if (domains.size) {
    out.push('  domains:');
    for (const [did, devs] of [...domains].sort((a, b) => a[0] - b[0])) {
      const tags = s.ctxsOfDomain(did);
      out.push(`    DID ${did}: ${devs.join(', ')}${tags.length ? ` (IOTLB tags ${tags.join(', ')})` : ''}`);
    }
  }
  out.push('  endpoints:');
  if (s.spaces.length === 0) out.push('    (none)');
  for (const as of s.spaces) {
    const cached = as.ccGen === s.contextGen ? `context cached (DID ${as.ce.did})` : 'context not cached';
    out.push(`    ${sidText(as.sid)} ${as.root.name}: ${as.useIommu ? 'DMAR' : 'no-DMAR'}, ${cached}, IOTLB tag ${as.ctx}`);
    for (const n of as.iommu.registeredNotifiers) {
      out.push(`      notifier ${notifierFlagsName(n.notifierFlags)} idx ${n.iommuIndex} [${hex(n.start)}, ${hex(n.end)}]`);
    }
    if (as.iovaTree.size) out.push(`      shadow IOVA tree: ${as.iovaTree.size} mappings`);
  }
  const t = s.engine.iotlb;
  out.push(`  IOTLB: ${t.entries}/${t.capacity} entries (${t.ways}-way, ${t.policy}), hits ${t.hits}, misses ${t.misses}, evictions ${t.evictions}`);
  const f = s.faults.counts;
  const fr = s.csr.raw(DMAR_FRCD_REG + 12);
  out.push(`  faults: ${f.recorded} recorded, ${f.suppressed} suppressed (FPD), ${f.dropped} dropped; fault events ${f.events}` +
    `${fr & 0x80000000 ? `; FRCD0 pending: SID ${sidText(s.csr.raw(DMAR_FRCD_REG + 8) & 0xffff)}, reason 0x${(fr & 0xff).toString(16)} (${VTD_FAULT_REASONS[fr & 0xff] ?? 'unknown'}), ${fr & 0x40000000 ? 'read' : 'write'} ` +
      `addr ${hex(s.csr.raw(DMAR_FRCD_REG + 4) * 0x1_0000_0000 + s.csr.raw(DMAR_FRCD_REG))}` : ''}`);
  const i = s.inv;
  out.push(`  invalidations: context ${i.contextGlobal} global / ${i.contextDevice} device; IOTLB ${i.iotlbGlobal} global / ` +
    `${i.iotlbDomain} domain / ${i.iotlbPage} page; device-TLB ${i.deviceTlb}; IEC ${i.iec}; wait ${i.wait}; ` +
    `queue errors ${i.queueErrors}${i.ignoredRegister ? `; ${i.ignoredRegister} register requests ignored (QI on)` : ''}`);
  return out.join('\n') + '\n';
}
