import type { GuestDevice } from '../../device.js';
import { ENODEV, ENOMEM } from '../../errno.js';
import { IommuDomain, type IommuDomainOps } from '../../iommu-core/driver.js';
import type { DomainType } from '../../iommu-core/domain-types.js';
import type { IotlbGather } from '../../iommu-core/gather.js';
import { pciAtsEnabled, pciDisableAts, pciEnableAts } from '../../pci-core/ats.js';
import { dmaAliases } from '../../pci-core/dma-alias.js';
import { levelSize, DmarPgtable } from './pgtable.js';
import { cap, CONTEXT_TT_DEV_IOTLB, CONTEXT_TT_MULTI_LEVEL, CONTEXT_TT_PASS_THROUGH } from './regs.js';
import type { DmarUnit, QiDesc } from './unit.js';

const TWO32 = 0x1_0000_0000;
/** The pass-through domain's DID (Linux FLPT_DEFAULT_DID). */
export const PT_DID = 1;

/** A device attached to a domain: its unit, the requester IDs it DMAs with, whether ATS is on. */
export interface DmarAttachment {
  readonly dev: GuestDevice;
  readonly unit: DmarUnit;
  readonly sids: readonly number[];
  readonly ats: boolean;
}

/** What the domains need from their driver (IntelIommuDriver). */
export interface DmarHost {
  unitOf(dev: GuestDevice): DmarUnit | undefined;
  /** Whether the device may use ATS under this unit (ECAP.DT, an ATSR covering it, the ATS capability). */
  atsAllowed(dev: GuestDevice, unit: DmarUnit): boolean;
  /** Moves the device's bookkeeping to `domain` (out of its previous one). */
  attached(dev: GuestDevice, domain: DmarDomainBase | undefined, at: DmarAttachment | undefined): void;
  attachmentOf(dev: GuestDevice): DmarAttachment | undefined;
}

/** Common to every VT-d domain: the devices attached through it. */
export class DmarDomainBase extends IommuDomain {
  readonly attachments = new Map<GuestDevice, DmarAttachment>();
}

/** The smallest aligned block of 2^am pages covering [start, end] (Linux calculate_psi_aligned_address). */
export function psiBlock(start: number, end: number): { addr: number; am: number } {
  let am = 0;
  while (Math.floor(start / (4096 * 2 ** am)) !== Math.floor(end / (4096 * 2 ** am))) am++;
  const size = 4096 * 2 ** am;
  return { addr: Math.floor(start / size) * size, am };
}

/**
 * Writes (or clears) the context entries of a device's requester IDs
 * (spec 9.3; Linux domain_context_mapping_one / domain_context_clear_one).
 * A present entry is first cleared and flushed (context-cache device
 * invalidation, IOTLB DSI and device-TLB for its old domain, then a wait),
 * since a present entry may be cached; a not-present -> present change
 * needs an invalidation only under caching mode.
 */
export function programContexts(host: DmarHost, dev: GuestDevice, unit: DmarUnit, entry: { lo: number; loHi: number; hi: number; did: number } | undefined,
  ats: boolean): number {
  const pdev = dev.pci;
  if (!pdev) return -ENODEV;
  const sids = dmaAliases(pdev);
  const old = host.attachmentOf(dev);
  const flush: QiDesc[] = [];
  for (const sid of sids) {
    const t = unit.contextTable(sid >>> 8, entry !== undefined);
    if (t === undefined) {
      if (entry !== undefined) return -ENOMEM;
      continue;
    }
    const at = t + (sid & 0xff) * 16;
    const cur = unit.ld64(at);
    if (cur.lo & 1) {
      const oldDid = (unit.ld64(at + 8).lo >>> 8) & 0xffff;
      unit.st64(at, 0, 0);
      unit.st64(at + 8, 0, 0);
      flush.push(unit.ccDevice(sid, oldDid), unit.iotlbDomain(oldDid));
      if (old?.ats) flush.push(unit.devTlb(sid, 0, unit.addressBits - 12));
    }
  }
  if (flush.length) {
    const r = unit.submit(flush);
    if (r) return r;
  }
  if (old?.ats && !ats && pciAtsEnabled(pdev)) pciDisableAts(pdev);
  if (!entry) return 0;
  if (ats && !pciAtsEnabled(pdev)) pciEnableAts(pdev, 12);
  const after: QiDesc[] = [];
  for (const sid of sids) {
    const at = unit.contextTable(sid >>> 8, true)! + (sid & 0xff) * 16;
    unit.st64(at + 8, entry.hi, 0);
    unit.st64(at, entry.lo, entry.loHi);
    if (unit.cachingMode) after.push(unit.ccDevice(sid, entry.did));
  }
  if (after.length) {
    after.push(unit.iotlbDomain(entry.did));
    return unit.submit(after);
  }
  return 0;
}

/**
 * A paging domain (DMA, DMA-FQ or unmanaged; Linux struct dmar_domain): a
 * second-level table sized for its unit, one domain id per unit it is
 * attached through, and the invalidations of the DMA API: page-selective
 * with AM over the gathered range then a wait (strict), domain-selective
 * for flush-all (the flush queue, lazy), device-TLB invalidations for
 * ATS-enabled devices, and under caching mode an invalidation after every
 * map (not-present -> present changes must be reported).
 */
export class DmarDomain extends DmarDomainBase {
  readonly pt: DmarPgtable;
  readonly dids = new Map<DmarUnit, number>();

  constructor(type: DomainType, readonly host: DmarHost, readonly unit: DmarUnit, pgd: number) {
    super(type, DmarDomain.ops(), {
      pgsizes: unit.pgsizes,
      geometry: { apertureStart: 0, apertureEnd: 2 ** unit.addressBits - 1, forceAperture: true },
    });
    this.pt = new DmarPgtable(unit.k.port, pgd, unit.levels, () => unit.zeroPage());
  }

  didOn(unit: DmarUnit): number {
    let did = this.dids.get(unit);
    if (did === undefined) {
      did = unit.allocDid();
      this.dids.set(unit, did);
    }
    return did;
  }

  /** Runs `make(unit, did, ats devices)` per unit the domain is attached through, and waits. */
  private flushEach(make: (unit: DmarUnit, did: number, ats: DmarAttachment[]) => QiDesc[]): void {
    const byUnit = new Map<DmarUnit, DmarAttachment[]>();
    for (const a of this.attachments.values()) byUnit.set(a.unit, [...(byUnit.get(a.unit) ?? []), a]);
    for (const [unit, list] of byUnit) {
      const did = this.dids.get(unit);
      if (did !== undefined) unit.submit(make(unit, did, list.filter((a) => a.ats)));
    }
  }

  /** Page-selective over [start, end] (domain-selective when AM would exceed MAMV or PSI is not offered). */
  flushRange(start: number, end: number, ih: boolean): void {
    const { addr, am } = psiBlock(start, end);
    this.flushEach((unit, did, ats) => {
      const usePsi = cap.psi(unit.capHi) === 1 && am <= cap.mamv(unit.capHi);
      const d: QiDesc[] = [usePsi ? unit.iotlbPage(did, addr, am, ih) : unit.iotlbDomain(did)];
      for (const a of ats) for (const sid of a.sids) d.push(unit.devTlb(sid, addr, am));
      return d;
    });
  }

  flushAll(): void {
    this.flushEach((unit, did, ats) => {
      const d: QiDesc[] = [unit.iotlbDomain(did)];
      for (const a of ats) for (const sid of a.sids) d.push(unit.devTlb(sid, 0, unit.addressBits - 12));
      return d;
    });
  }

  private static ops(): IommuDomainOps {
    const self = (d: IommuDomain) => d as DmarDomain;
    return {
      attachDev: (d, dev) => {
        const dom = self(d);
        const unit = dom.host.unitOf(dev);
        if (!unit) return -ENODEV;
        const ats = dom.host.atsAllowed(dev, unit);
        const did = dom.didOn(unit);
        const pgd = dom.pt.pgd;
        const lo = ((pgd % TWO32) | ((ats ? CONTEXT_TT_DEV_IOTLB : CONTEXT_TT_MULTI_LEVEL) << 2) | 1) >>> 0;
        const r = programContexts(dom.host, dev, unit, { lo, loHi: Math.floor(pgd / TWO32), hi: (did << 8) | (unit.levels - 2), did }, ats);
        if (r) return r;
        dom.host.attached(dev, dom, { dev, unit, sids: dev.pci ? dmaAliases(dev.pci) : [], ats });
        return 0;
      },
      mapPages: (d, iova, paddr, pgsize, count, prot) => {
        let mapped = 0;
        for (let i = 0; i < count; i++) {
          const r = self(d).pt.mapOne(iova + i * pgsize, paddr + i * pgsize, pgsize, prot);
          if (r) return { ret: r, mapped };
          mapped += pgsize;
        }
        return { ret: 0, mapped };
      },
      unmapPages: (d, iova, pgsize, count, gather: IotlbGather) => {
        let done = 0;
        while (done < pgsize * count) {
          const at = iova + done;
          const n = self(d).pt.unmapOne(at);
          if (!n) break;
          gather.addPage(at - (at % n), n);
          done += n;
        }
        return done;
      },
      iotlbSyncMap: (d, iova, size) => {
        const dom = self(d);
        if (dom.unit.cachingMode) dom.flushRange(iova, iova + size - 1, false);
        return 0;
      },
      iotlbSync: (d, g) => self(d).flushRange(g.start, g.end, true),
      flushIotlbAll: (d) => self(d).flushAll(),
      iovaToPhys: (d, iova) => self(d).pt.toPhys(iova),
      free: (d) => {
        const dom = self(d);
        for (const [unit, did] of dom.dids) unit.freeDid(did);
        dom.dids.clear();
      },
    };
  }
}

/** The context entry of the pass-through (identity) domain: TT=2, DID 1, AW of the unit's tables. */
export function passThroughEntry(unit: DmarUnit): { lo: number; loHi: number; hi: number; did: number } {
  return { lo: (CONTEXT_TT_PASS_THROUGH << 2) | 1, loHi: 0, hi: (PT_DID << 8) | (unit.levels - 2), did: PT_DID };
}

export { levelSize };
