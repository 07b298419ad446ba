import type { GuestDevice } from '../../device.js';
import { ENODEV, ENOMEM } from '../../errno.js';
import {
  IOMMU_DOMAIN_BLOCKED, IOMMU_DOMAIN_IDENTITY, IOMMU_READ, IOMMU_WRITE, isPaging, type DomainType,
} from '../../iommu-core/domain-types.js';
import {
  IommuDomain, type IommuCap, type IommuDriver, type IommuFwspec, type IommuInstance, type ResvRegion,
} from '../../iommu-core/driver.js';
import type { GuestKernel } from '../../kernel.js';
import { pciAtsSupported } from '../../pci-core/ats.js';
import type { PciFunction } from '../../pci-core/device.js';
import { SCOPE_BRIDGE, SCOPE_ENDPOINT, type Dmar, type DmarScope } from './dmar.js';
import { DmarDomain, DmarDomainBase, passThroughEntry, programContexts, type DmarAttachment, type DmarHost } from './domain.js';
import type { DmarUnit } from './unit.js';

/** The interrupt range (spec 3.14): never an IOVA (Linux IOAPIC_RANGE_START/END as IOMMU_RESV_MSI). */
const MSI_RANGE = { start: 0xfee00000, length: 0x100000 };

/**
 * The intel-iommu IOMMU driver (Linux intel_iommu_ops): devices are matched
 * to units by the DMAR device scopes (INCLUDE_PCI_ALL units take the rest
 * of their segment), paging domains get second-level tables, the identity
 * domain is context pass-through (TT=2, needs ECAP.PT), the blocked domain
 * clears the context entries. ATS is used where the unit has ECAP.DT, an
 * ATSR covers the device and the device has the capability.
 */
export class IntelIommuDriver implements IommuDriver, DmarHost {
  readonly name = 'intel-iommu';
  readonly pgsizes: readonly number[];
  readonly identityDomain?: IommuDomain;
  readonly blockedDomain: IommuDomain;
  readonly instances: IommuInstance[];
  private readonly where = new Map<GuestDevice, { domain: DmarDomainBase | undefined; at: DmarAttachment | undefined }>();

  constructor(private readonly k: GuestKernel, readonly dmar: Dmar, readonly units: readonly DmarUnit[]) {
    this.pgsizes = units[0]?.pgsizes ?? [4096];
    this.instances = units.map((u) => ({ name: u.name, fwnode: fwnodeOf(u), driver: this, maxPasids: 0 }));
    if (units.every((u) => u.hasPt)) {
      const ident: DmarDomainBase = new DmarDomainBase(IOMMU_DOMAIN_IDENTITY, {
        attachDev: (_d, dev) => this.attachStatic(ident, dev, true),
      });
      this.identityDomain = ident;
    }
    const blocked: DmarDomainBase = new DmarDomainBase(IOMMU_DOMAIN_BLOCKED, {
      attachDev: (_d, dev) => this.attachStatic(blocked, dev, false),
    });
    this.blockedDomain = blocked;
  }

  /** Pass-through (identity) or cleared (blocked) context entries. */
  private attachStatic(domain: DmarDomainBase, dev: GuestDevice, passThrough: boolean): number {
    const unit = this.unitOf(dev);
    if (!unit) return -ENODEV;
    const r = programContexts(this, dev, unit, passThrough ? passThroughEntry(unit) : undefined, false);
    if (r) return r;
    this.attached(dev, domain, passThrough ? { dev, unit, sids: [], ats: false } : undefined);
    return 0;
  }

  // DmarHost.
  unitOf(dev: GuestDevice): DmarUnit | undefined {
    const fw = this.k.iommu.fwspecOf(dev);
    return this.units.find((u) => fwnodeOf(u) === fw?.fwnode);
  }
  atsAllowed(dev: GuestDevice, unit: DmarUnit): boolean {
    const pdev = dev.pci;
    if (!pdev || !unit.hasDt || !pciAtsSupported(pdev)) return false;
    return this.dmar.atsrs.some((a) => a.segment === pdev.segment && (a.allPorts || a.scopes.some((s) => this.inScope(pdev, s))));
  }
  attached(dev: GuestDevice, domain: DmarDomainBase | undefined, at: DmarAttachment | undefined): void {
    const prev = this.where.get(dev);
    prev?.domain?.attachments.delete(dev);
    if (domain && at) domain.attachments.set(dev, at);
    this.where.set(dev, { domain, at });
  }
  attachmentOf(dev: GuestDevice): DmarAttachment | undefined {
    return this.where.get(dev)?.at;
  }

  /** The function a scope's path names (start bus, then through bridges), in the guest's PCI tree. */
  private scopeTarget(segment: number, s: DmarScope): PciFunction | undefined {
    let bus = s.startBus;
    let fn: PciFunction | undefined;
    for (const step of s.path) {
      if (fn) {
        if (!fn.subordinate) return undefined;
        bus = fn.subordinate.number;
      }
      const devfn = (step.dev << 3) | step.fn;
      fn = this.k.pci?.functions.find((f) => f.segment === segment && f.busNumber === bus && f.devfn === devfn);
      if (!fn) return undefined;
    }
    return fn;
  }

  /** dmar_find_matched_drhd_unit's test: the endpoint itself, or a bridge above it for sub-hierarchy scopes. */
  private inScope(pdev: PciFunction, s: DmarScope): boolean {
    if (s.type !== SCOPE_ENDPOINT && s.type !== SCOPE_BRIDGE) return false;
    const target = this.scopeTarget(pdev.segment, s);
    if (!target) return false;
    if (target === pdev) return true;
    if (s.type !== SCOPE_BRIDGE) return false;
    for (let b = pdev.bus; b.self; b = b.parent!) if (b.self === target) return true;
    return false;
  }

  /** The fwspec of a PCI device: the unit whose scopes include it, else the INCLUDE_PCI_ALL unit of its segment. */
  fwspecOf(dev: GuestDevice): IommuFwspec | undefined {
    const pdev = dev.pci;
    if (!pdev) return undefined;
    const scoped = this.units.find((u) => u.drhd.segment === pdev.segment && u.drhd.scopes.some((s) => this.inScope(pdev, s)));
    const unit = scoped ?? this.units.find((u) => u.drhd.includeAll && u.drhd.segment === pdev.segment);
    return unit ? { fwnode: fwnodeOf(unit), ids: [pdev.devId] } : undefined;
  }

  probeDevice(dev: GuestDevice, fwspec: IommuFwspec): IommuInstance | number {
    return this.instances.find((i) => i.fwnode === fwspec.fwnode) ?? -ENODEV;
  }

  /** release_device: the device's context entries are cleared (and flushed), so nothing it left behind translates. */
  releaseDevice(dev: GuestDevice): void {
    const unit = this.unitOf(dev);
    if (unit) programContexts(this, dev, unit, undefined, false);
    this.attached(dev, undefined, undefined);
    this.where.delete(dev);
  }

  domainAlloc(type: DomainType, dev: GuestDevice | undefined): IommuDomain | number {
    if (!isPaging(type)) return -ENODEV;
    const unit = (dev && this.unitOf(dev)) ?? this.units[0];
    if (!unit) return -ENODEV;
    const pgd = unit.zeroPage();
    if (pgd === undefined) return -ENOMEM;
    return new DmarDomain(type, this, unit, pgd);
  }

  capable(dev: GuestDevice, c: IommuCap): boolean {
    if (c === 'cache-coherency' || c === 'deferred-flush') return true;
    if (c === 'enforce-cache-coherency') return this.unitOf(dev)?.hasSnoopControl ?? false;
    if (c === 'ats') {
      const unit = this.unitOf(dev);
      return !!unit && this.atsAllowed(dev, unit);
    }
    return false;
  }

  /** intel_iommu_get_resv_regions: RMRRs naming the device (direct), then the interrupt range (msi). */
  getResvRegions(dev: GuestDevice): ResvRegion[] {
    const out: ResvRegion[] = [];
    const pdev = dev.pci;
    if (pdev) {
      for (const r of this.dmar.rmrrs) {
        if (r.segment === pdev.segment && r.scopes.some((s) => this.inScope(pdev, s))) {
          out.push({ start: r.base, length: r.limit - r.base + 1, prot: IOMMU_READ | IOMMU_WRITE, type: 'direct' });
        }
      }
    }
    out.push({ ...MSI_RANGE, prot: 0, type: 'msi' });
    return out;
  }
}

/** A unit's firmware node: its DRHD register base. */
export function fwnodeOf(u: DmarUnit): string {
  return `DRHD:${u.base.toString(16)}`;
}
