import type { EventLog } from '../../base/event-log.js';
import type { GuestDevice } from '../device.js';
import {
  domainTypeName, IOMMU_DOMAIN_BLOCKED, IOMMU_DOMAIN_IDENTITY, IOMMU_READ, IOMMU_WRITE,
} from '../iommu-core/domain-types.js';
import type { IommuDomain } from '../iommu-core/driver.js';
import type { IommuEvents } from '../iommu-core/events.js';
import { dmaAliases } from '../pci-core/dma-alias.js';
import { DomainView, type MappingRecord } from './domain-view.js';
import type { DmaObservation, DmaObserver } from './observation.js';

export type ViolationKind = 'stale-translation' | 'spurious-fault' | 'isolation';

export interface Violation {
  readonly kind: ViolationKind;
  readonly message: string;
  readonly device: string;
  readonly requesterId: number;
  readonly pasid: number;
  readonly iova: number;
  readonly length: number;
  readonly write: boolean;
  readonly outcome: DmaObservation['outcome'];
  readonly gpa: number | undefined;
  readonly path: DmaObservation['path'];
  readonly time: number;
  readonly domain: string | undefined;
  /** The mapping records behind the verdict, oldest first. */
  readonly history: readonly string[];
}

interface Attachment {
  readonly dev: GuestDevice;
  readonly domain: IommuDomain;
  readonly at: number;
}

const PAGE = 4096;
const MAX_KEPT = 100;

function secs(t: number): string {
  return (t / 1e9).toFixed(6) + 's';
}
function hx(v: number): string {
  return '0x' + v.toString(16);
}
function perm(p: number): string {
  return (p & IOMMU_READ ? 'R' : '-') + (p & IOMMU_WRITE ? 'W' : '-');
}
function describe(r: MappingRecord): string {
  let s = `[${hx(r.iova)}, ${hx(r.iova + r.size)}) -> ${hx(r.paddr)} ${perm(r.perm)} mapped at ${secs(r.mappedAt)}`;
  if (r.unmappedAt >= 0) s += `, unmapped at ${secs(r.unmappedAt)}`;
  if (r.invalidatedAt >= 0) s += `, invalidation completed at ${secs(r.invalidatedAt)}`;
  return s;
}

/**
 * The DMA oracle (DESIGN section 4). It follows the guest's own view of
 * translation through the IOMMU core's events (which domain each requester
 * is attached to, what each domain maps, when each invalidation completed)
 * and checks every DMA the machine reports:
 * 1. no stale translation: nothing reaches the old target of a mapping
 *    after its invalidation completed;
 * 2. no spurious fault: a live mapping with the needed permission does not
 *    fault;
 * 3. isolation: a device reaches only what its domain maps (BLOCKED reaches
 *    nothing; IDENTITY and untranslated devices reach address = IOVA).
 * Accesses through a mapping that is unmapped but not yet invalidated (the
 * lazy-mode window) are allowed and counted.
 */
export class DmaOracle implements IommuEvents, DmaObserver {
  readonly counts = { checked: 0, ok: 0, faults: 0, errors: 0, staleWindow: 0, untranslated: 0 };
  readonly violations: Violation[] = [];
  violationCount = 0;
  private readonly views = new Map<IommuDomain, DomainView>();
  /** By requester ID * 2^20 + PASID (a number key: no string per access). */
  private readonly attachments = new Map<number, Attachment>();
  private readonly ridsByDev = new Map<GuestDevice, number[]>();

  constructor(private readonly now: () => number, private readonly log?: EventLog) {}

  private view(d: IommuDomain): DomainView {
    let v = this.views.get(d);
    if (!v) this.views.set(d, (v = new DomainView()));
    return v;
  }

  private rids(dev: GuestDevice): number[] {
    let r = this.ridsByDev.get(dev);
    if (!r) {
      const pci = dev.pci ?? dev.parent?.pci;
      r = pci ? dmaAliases(pci) : [];
      this.ridsByDev.set(dev, r);
    }
    return r;
  }

  // IommuEvents: the guest's view.
  attached(dev: GuestDevice, domain: IommuDomain, pasid: number): void {
    for (const rid of this.rids(dev)) this.attachments.set(rid * 0x10_0000 + pasid, { dev, domain, at: this.now() });
  }
  detached(dev: GuestDevice, pasid: number): void {
    for (const rid of this.rids(dev)) {
      const a = this.attachments.get(rid * 0x10_0000 + pasid);
      if (a && a.dev === dev) this.attachments.delete(rid * 0x10_0000 + pasid);
    }
  }
  mapped(domain: IommuDomain, iova: number, paddr: number, size: number, prot: number): void {
    this.view(domain).map(iova, paddr, size, prot, this.now());
  }
  unmapped(domain: IommuDomain, iova: number, size: number): void {
    this.view(domain).unmap(iova, size, this.now());
  }
  invalidated(domain: IommuDomain, start: number, end: number): void {
    this.view(domain).invalidate(start, end, this.now());
  }
  invalidatedAll(domain: IommuDomain): void {
    this.view(domain).invalidateAll(this.now());
  }
  domainFreed(domain: IommuDomain): void {
    this.view(domain).free(this.now());
  }

  /** The domain a requester translates through now, per the guest. */
  attachmentOf(rid: number, pasid = 0): { dev: GuestDevice; domain: IommuDomain } | undefined {
    return this.attachments.get(rid * 0x10_0000 + pasid);
  }

  observe(o: DmaObservation): void {
    this.counts.checked++;
    if (o.outcome === 'ok') this.counts.ok++;
    else if (o.outcome === 'fault') this.counts.faults++;
    else this.counts.errors++;
    const pasid = o.pasid ?? 0;
    const att = this.attachments.get(o.requesterId * 0x10_0000 + pasid);
    if (!att) {
      // No IOMMU translates this requester (direct DMA): the bus address is the physical address.
      this.counts.untranslated++;
      if (o.outcome === 'ok' && o.gpa !== undefined && o.gpa !== o.iova) {
        this.violate(o, 'isolation', `untranslated DMA to ${hx(o.iova)} reached ${hx(o.gpa)}`, undefined, []);
      }
      return;
    }
    const d = att.domain;
    const dname = d;
    if (d.type === IOMMU_DOMAIN_BLOCKED) {
      if (o.outcome === 'ok') this.violate(o, 'isolation', `DMA reached ${hx(o.gpa ?? 0)} while the device is attached to a BLOCKED domain (since ${secs(att.at)})`, dname, []);
      return;
    }
    if (d.type === IOMMU_DOMAIN_IDENTITY) {
      if (o.outcome === 'ok' && o.gpa !== undefined && o.gpa !== o.iova) this.violate(o, 'isolation', `identity domain: ${hx(o.iova)} reached ${hx(o.gpa)}`, dname, []);
      if (o.outcome === 'fault') this.violate(o, 'spurious-fault', `fault at ${hx(o.iova)} in an identity domain`, dname, []);
      return;
    }
    const v = this.view(d);
    const need = o.write ? IOMMU_WRITE : IOMMU_READ;
    const t = o.time ?? this.now();
    for (let p = o.iova; p < o.iova + Math.max(1, o.length);) {
      const pieceEnd = Math.min(o.iova + Math.max(1, o.length), (Math.floor(p / PAGE) + 1) * PAGE);
      const gpa = o.gpa === undefined ? undefined : o.gpa + (p - o.iova);
      const live = v.findLive(p);
      if (live) {
        const target = live.paddr + (p - live.iova);
        const allowed = (live.perm & need) !== 0;
        if (o.outcome === 'fault' && allowed) {
          this.violate(o, 'spurious-fault', `fault at ${hx(p)} on a live ${perm(live.perm)} mapping`, dname, [describe(live)]);
          return;
        }
        if (o.outcome === 'ok' && !allowed) {
          this.violate(o, 'isolation', `${o.write ? 'write' : 'read'} at ${hx(p)} through a ${perm(live.perm)} mapping succeeded`, dname, [describe(live)]);
          return;
        }
        if (o.outcome === 'ok' && gpa !== undefined && gpa !== target) {
          const old = v.findDeadTarget(p, gpa);
          if (old && !(o.time !== undefined && t <= old.invalidatedAt)) {
            this.violate(o, 'stale-translation', `${hx(p)} reached ${hx(gpa)}, the target of a mapping whose invalidation completed at ${secs(old.invalidatedAt)}; the domain now maps it to ${hx(target)}`, dname, [describe(old), describe(live)]);
          } else if (!old) {
            this.violate(o, 'isolation', `${hx(p)} reached ${hx(gpa)}, but the domain maps it to ${hx(target)}`, dname, [describe(live), ...this.deadHistory(v, p)]);
          } else {
            this.counts.staleWindow++;
            p = pieceEnd;
            continue;
          }
          return;
        }
      } else if (o.outcome === 'ok') {
        const pend = v.findPending(p);
        const dead = (gpa !== undefined ? v.findDeadTarget(p, gpa) : undefined) ?? v.findDead(p);
        const oldTarget = (r: MappingRecord): number => r.paddr + (p - r.iova);
        if (pend && gpa === oldTarget(pend)) {
          // Unmapped but not yet invalidated: the lazy-mode window, allowed.
          this.counts.staleWindow++;
        } else if (dead && gpa === oldTarget(dead)) {
          const inv = dead.invalidatedAt;
          // A translation that started before the invalidation completed may finish with the old entry.
          if (o.time !== undefined && t <= inv) this.counts.staleWindow++;
          else {
            this.violate(o, 'stale-translation', `${hx(p)} reached ${hx(gpa)} through a mapping whose invalidation completed at ${secs(inv)}`, dname, [describe(dead)]);
            return;
          }
        } else {
          this.violate(o, 'isolation', `${hx(p)} is not mapped in the device's domain, yet the DMA reached ${hx(gpa ?? 0)}`, dname,
            [...(pend ? [describe(pend)] : []), ...(dead ? [describe(dead)] : [])]);
          return;
        }
      }
      p = pieceEnd;
    }
  }

  private deadHistory(v: DomainView, p: number): string[] {
    const d = v.findDead(p);
    return d ? [describe(d)] : [];
  }

  private violate(o: DmaObservation, kind: ViolationKind, what: string, dom: IommuDomain | undefined, history: string[]): void {
    const domain = dom ? `#${dom.serial} ${domainTypeName(dom.type)}` : undefined;
    this.violationCount++;
    const time = this.now();
    const device = o.device ?? `rid ${hx(o.requesterId)}`;
    const message = `${kind}: ${device} ${o.write ? 'write' : 'read'} of ${o.length} bytes at IOVA ${hx(o.iova)}${o.pasid ? ` PASID ${o.pasid}` : ''} (${o.path}): ${what}`;
    if (this.violations.length < MAX_KEPT) {
      this.violations.push({
        kind, message, device, requesterId: o.requesterId, pasid: o.pasid ?? 0, iova: o.iova, length: o.length, write: o.write,
        outcome: o.outcome, gpa: o.gpa, path: o.path, time, domain, history,
      });
    }
    this.log?.err('DMA oracle', message);
    for (const h of history) this.log?.err('DMA oracle', `  ${h}`);
  }

  summary(): { checked: number; violations: number } {
    return { checked: this.counts.checked, violations: this.violationCount };
  }
}
