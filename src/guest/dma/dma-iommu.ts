import type { GuestClock } from '../clock.js';
import { dmaBitMask, type GuestDevice } from '../device.js';
import { DMA_MAPPING_ERROR, type DmaDirection, type DmaOps, type DmaSegment, type SgEntry } from '../dma-ops.js';
import type { IommuCore } from '../iommu-core/core.js';
import { IOMMU_DOMAIN_DMA, IOMMU_DOMAIN_DMA_FQ, IOMMU_CACHE, IOMMU_READ, IOMMU_WRITE } from '../iommu-core/domain-types.js';
import type { IommuDomain } from '../iommu-core/driver.js';
import { iommuFlushIotlbAll, iommuIotlbSync, iommuMap, iommuMapSg, iommuUnmapFast, newGather } from '../iommu-core/iommu-map.js';
import { FlushQueue, type FlushQueueOptions } from './flush-queue.js';
import { IovaDomain } from './iova.js';

/** Per-domain DMA state (Linux struct iommu_dma_cookie). */
export interface DmaCookie {
  readonly domain: IommuDomain;
  readonly iovad: IovaDomain;
  fq: FlushQueue | undefined;
}

/** A guest-physical range the IOVA allocator must never hand out (PCI host windows: peer-to-peer would bypass the IOMMU). */
export interface IovaHole {
  readonly start: number;
  readonly size: number;
}

/** dma_info_to_prot: direction to IOMMU permission; coherent devices also get IOMMU_CACHE. */
export function dmaInfoToProt(dir: DmaDirection, coherent: boolean): number {
  const prot = coherent ? IOMMU_CACHE : 0;
  if (dir === 'bidirectional') return prot | IOMMU_READ | IOMMU_WRITE;
  if (dir === 'to-device') return prot | IOMMU_READ;
  return prot | IOMMU_WRITE;
}

/**
 * The IOMMU DMA path (Linux drivers/iommu/dma-iommu.c): an IOVA from the
 * domain's allocator (below the device's mask, trying 32-bit addresses
 * first for PCI devices, as the SAC workaround does), iommu_map, and on
 * unmap either an immediate invalidation (DMA domain, strict) or the flush
 * queue (DMA_FQ domain, lazy).
 */
export class IommuDmaOps implements DmaOps {
  readonly name = 'iommu-dma';
  private readonly cookies = new Map<IommuDomain, DmaCookie>();
  private readonly sac = new Map<GuestDevice, boolean>();

  constructor(private readonly core: IommuCore, private readonly clock: GuestClock, private readonly fqOpts: FlushQueueOptions,
    private readonly holes: () => readonly IovaHole[]) {}

  /** iommu_dma_init_domain, run from iommu_setup_dma_ops for each device of a DMA-domain group. */
  initDomain(domain: IommuDomain, dev: GuestDevice): DmaCookie {
    let c = this.cookies.get(domain);
    if (c) return c;
    const granule = domain.pgsizes[0] ?? 4096;
    const basePfn = Math.max(1, Math.floor(domain.geometry.apertureStart / granule));
    const iovad = new IovaDomain(granule, basePfn);
    c = { domain, iovad, fq: undefined };
    if (domain.type === IOMMU_DOMAIN_DMA_FQ) {
      if (!this.core.capable(dev, 'deferred-flush')) {
        domain.type = IOMMU_DOMAIN_DMA;
        this.core.log.info('iommu', `domain #${domain.serial}: no deferred flush support, using strict invalidation`);
      } else {
        const cookie = c;
        c.fq = new FlushQueue(this.fqOpts, this.clock, () => iommuFlushIotlbAll(this.core, domain), (pfn) => cookie.iovad.free(pfn));
      }
    }
    for (const r of this.core.resvRegions(dev)) {
      if (r.type === 'direct' || r.type === 'direct-relaxable' || r.type === 'reserved' || r.type === 'msi') {
        iovad.reserve(Math.floor(r.start / granule), Math.floor((r.start + r.length - 1) / granule));
      }
    }
    for (const h of this.holes()) iovad.reserve(Math.floor(h.start / granule), Math.floor((h.start + h.size - 1) / granule));
    this.cookies.set(domain, c);
    return c;
  }

  cookieOf(domain: IommuDomain): DmaCookie | undefined {
    return this.cookies.get(domain);
  }

  private cookieFor(dev: GuestDevice): DmaCookie | undefined {
    const g = this.core.groupOf(dev);
    const d = g?.defaultDomain;
    if (!d || g.domain !== d) return undefined;
    return this.cookies.get(d) ?? this.initDomain(d, dev);
  }

  /** iommu_dma_alloc_iova: an IOVA of `size` bytes below the device's limit; 0 when none. */
  private allocIova(c: DmaCookie, dev: GuestDevice, size: number): number {
    const shift = c.iovad.granule;
    const len = size / shift;
    let limit = dev.dmaMask;
    if (c.domain.geometry.forceAperture) limit = Math.min(limit, c.domain.geometry.apertureEnd);
    const trySac = dev.isPci && this.sac.get(dev) !== false;
    if (limit > dmaBitMask(32) && trySac) {
      const pfn = c.iovad.allocFast(len, Math.floor(dmaBitMask(32) / shift));
      if (pfn) return pfn * shift;
      this.sac.set(dev, false);
      this.core.log.info(`pci ${dev.name}`, `Using ${Math.ceil(Math.log2(limit + 1))}-bit DMA addresses`);
    }
    return c.iovad.allocFast(len, Math.floor(limit / shift)) * shift;
  }

  /** __iommu_dma_unmap: unmap, then sync now (strict) or queue the IOVA (lazy). */
  private unmapRange(c: DmaCookie, iova: number, size: number): void {
    const g = newGather(this.core, c.domain);
    g.queued = c.fq !== undefined;
    iommuUnmapFast(this.core, c.domain, iova, size, g);
    if (!g.queued) iommuIotlbSync(this.core, c.domain, g);
    const pfn = iova / c.iovad.granule;
    if (c.fq) c.fq.queue(pfn, size / c.iovad.granule);
    else c.iovad.free(pfn);
  }

  map(dev: GuestDevice, paddr: number, size: number, dir: DmaDirection): number {
    const c = this.cookieFor(dev);
    if (!c || size <= 0) return DMA_MAPPING_ERROR;
    const gran = c.iovad.granule;
    const off = paddr % gran;
    const len = Math.ceil((off + size) / gran) * gran;
    const iova = this.allocIova(c, dev, len);
    if (!iova) return DMA_MAPPING_ERROR;
    const prot = dmaInfoToProt(dir, this.core.capable(dev, 'cache-coherency'));
    if (iommuMap(this.core, c.domain, iova, paddr - off, len, prot)) {
      c.iovad.free(iova / gran);
      return DMA_MAPPING_ERROR;
    }
    return iova + off;
  }

  unmap(dev: GuestDevice, dma: number, size: number, _dir: DmaDirection): void {
    const c = this.cookieFor(dev);
    if (!c) return;
    const gran = c.iovad.granule;
    const off = dma % gran;
    this.unmapRange(c, dma - off, Math.ceil((off + size) / gran) * gran);
  }

  /**
   * iommu_dma_map_sg: one IOVA range for the whole list, each segment at its
   * in-page offset after the previous one's aligned end; segments that meet
   * on a page boundary come back merged.
   */
  mapSg(dev: GuestDevice, sg: readonly SgEntry[], dir: DmaDirection): DmaSegment[] | undefined {
    const c = this.cookieFor(dev);
    if (!c || sg.length === 0) return undefined;
    const gran = c.iovad.granule;
    const pieces = sg.map((s) => {
      const off = s.paddr % gran;
      return { paddr: s.paddr - off, off, length: s.length, span: Math.ceil((off + s.length) / gran) * gran };
    });
    const total = pieces.reduce((t, p) => t + p.span, 0);
    const iova = this.allocIova(c, dev, total);
    if (!iova) return undefined;
    const prot = dmaInfoToProt(dir, this.core.capable(dev, 'cache-coherency'));
    const mapped = iommuMapSg(this.core, c.domain, iova, pieces.map((p) => ({ paddr: p.paddr, length: p.span })), prot);
    if (mapped < total) {
      c.iovad.free(iova / gran);
      return undefined;
    }
    const out: DmaSegment[] = [];
    let at = iova;
    for (const p of pieces) {
      const dma = at + p.off;
      const last = out[out.length - 1];
      if (last && last.dma + last.length === dma && p.off === 0) out[out.length - 1] = { dma: last.dma, length: last.length + p.length };
      else out.push({ dma, length: p.length });
      at += p.span;
    }
    return out;
  }

  unmapSg(dev: GuestDevice, sg: readonly SgEntry[], segs: readonly DmaSegment[], _dir: DmaDirection): void {
    const c = this.cookieFor(dev);
    if (!c || segs.length === 0) return;
    const gran = c.iovad.granule;
    const start = segs[0]!.dma - (segs[0]!.dma % gran);
    const total = sg.reduce((t, s) => t + Math.ceil(((s.paddr % gran) + s.length) / gran) * gran, 0);
    this.unmapRange(c, start, total);
  }

  supported(): boolean {
    return true;
  }

  /** Flushes every flush queue now (end of a workload, or before a report). */
  flushAll(): void {
    for (const c of this.cookies.values()) c.fq?.flush();
  }

  fqCounts(): { flushes: number; full: number; timeout: number; queued: number } {
    const t = { flushes: 0, full: 0, timeout: 0, queued: 0 };
    for (const c of this.cookies.values()) {
      if (!c.fq) continue;
      t.flushes += c.fq.counts.flushes;
      t.full += c.fq.counts.full;
      t.timeout += c.fq.counts.timeout;
      t.queued += c.fq.counts.queued;
    }
    return t;
  }
}
