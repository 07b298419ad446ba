import { domainTypeName } from '../iommu-core/domain-types.js';
import type { GuestKernel } from '../kernel.js';
import {
  PCI_CAP_ID_EXP, PCI_CAP_ID_MSI, PCI_CAP_ID_MSIX, PCI_CAP_ID_VNDR, PCI_EXT_CAP_ID_ACS, PCI_EXT_CAP_ID_ATS, PCI_EXT_CAP_ID_PASID,
  PCI_EXT_CAP_ID_PRI,
} from '../pci-core/regs.js';
import type { WorkloadResult } from '../workload/workload.js';
import type { BootReport, DeviceReport } from './report.js';

const CAP_NAMES: Record<number, string> = { [PCI_CAP_ID_MSI]: 'MSI', [PCI_CAP_ID_MSIX]: 'MSI-X', [PCI_CAP_ID_EXP]: 'PCIe', [PCI_CAP_ID_VNDR]: 'vendor' };
const EXT_NAMES: Record<number, string> = { [PCI_EXT_CAP_ID_ACS]: 'ACS', [PCI_EXT_CAP_ID_ATS]: 'ATS', [PCI_EXT_CAP_ID_PASID]: 'PASID', [PCI_EXT_CAP_ID_PRI]: 'PRI' };

/** Assembles the boot report from the kernel's state. */
export function buildReport(k: GuestKernel, mode: 'strict' | 'lazy' | 'passthrough', regress: readonly string[], workloads: readonly WorkloadResult[], log: readonly string[]): BootReport {
  const devices: DeviceReport[] = k.devices.map((dev) => {
    const fn = dev.pci!;
    const g = k.iommu.groupOf(dev);
    return {
      bdf: dev.name,
      id: fn.idString,
      class: fn.classCode.toString(16).padStart(6, '0'),
      driver: dev.driver,
      group: g?.id,
      domain: g?.domain ? `#${g.domain.serial} ${domainTypeName(g.domain.type)}` : undefined,
      dmaOps: k.dma.opsOf(dev).name,
      iommu: k.iommu.devIommu(dev)?.instance?.name,
      caps: [...fn.caps.map((c) => CAP_NAMES[c.id]).filter((x) => x !== undefined), ...fn.extCaps.map((c) => EXT_NAMES[c.id]).filter((x) => x !== undefined),
        ...(fn.virtioCaps.length ? ['virtio'] : [])],
      bars: fn.bars.map((b) => `${b.index}:${b.kind}${b.prefetchable ? '-pref' : ''}@0x${b.cpuAddress.toString(16)}+0x${b.size.toString(16)}`),
    };
  });
  const groups = k.iommu.groups.map((g) => ({
    id: g.id,
    devices: g.devices.map((d) => d.name),
    defaultDomain: g.defaultDomain ? `#${g.defaultDomain.serial} ${domainTypeName(g.defaultDomain.type)}` : undefined,
    domain: g.domain ? `#${g.domain.serial} ${domainTypeName(g.domain.type)}` : undefined,
    owned: g.owner !== undefined,
  }));
  const fq = k.dma.iommu?.fqCounts() ?? { flushes: 0, full: 0, timeout: 0, queued: 0 };
  const st = k.iommu.stats;
  const o = k.oracle;
  return {
    machine: k.port.board,
    firmware: {
      kind: k.firmware.kind,
      tables: k.firmware.acpi ? [k.firmware.acpi.root.signature, ...k.firmware.acpi.tables.map((t) => t.signature)] : [],
      errors: [...k.firmware.errors],
    },
    iommu: {
      instances: k.iommu.instances.map((i) => ({ name: i.name, driver: i.driver.name, fwnode: i.fwnode })),
      defaultDomainType: domainTypeName(k.opts.defaultDomainType),
      mode,
      regress: [...regress],
    },
    devices,
    groups,
    notifiers: [],
    dma: {
      ops: k.dma.stats.maps + k.dma.stats.unmaps,
      maps: k.dma.stats.maps,
      unmaps: k.dma.stats.unmaps,
      bytes: k.dma.stats.bytes,
      faults: o.counts.faults,
      errors: k.dma.stats.errors,
      bounced: k.dma.swiotlb?.bounced ?? 0,
    },
    invalidations: { total: st.iotlbSyncs + st.flushAlls, iotlbSyncs: st.iotlbSyncs, flushAll: st.flushAlls, fqFlushes: fq.flushes, fqFull: fq.full, fqTimeout: fq.timeout },
    workloads: [...workloads],
    oracle: {
      checked: o.counts.checked, violations: o.violationCount, ok: o.counts.ok, faults: o.counts.faults, staleWindow: o.counts.staleWindow,
      untranslated: o.counts.untranslated, list: [...o.violations],
    },
    virtualTimeNs: k.clock.now(),
    log,
  };
}
