import type { GuestClock } from '../clock.js';
import { dmaBitMask, type GuestDevice } from '../device.js';
import {
  DMA_MAPPING_ERROR, mapSgPerEntry, unmapSgPerEntry, type DmaDirection, type DmaOps, type DmaSegment, type SgEntry,
} from '../dma-ops.js';
import { EIO, EPROBE_DEFER } from '../errno.js';
import type { IommuCore } from '../iommu-core/core.js';
import { IOMMU_DOMAIN_PLATFORM, isDmaDomain } from '../iommu-core/domain-types.js';
import type { PageAllocator } from '../page-alloc.js';
import type { GuestPort } from '../port.js';
import { DirectDmaOps } from './dma-direct.js';
import { IommuDmaOps, type IovaHole } from './dma-iommu.js';
import { DEFAULT_FQ, type FlushQueueOptions } from './flush-queue.js';
import { Swiotlb } from './swiotlb.js';

export interface DmaApiOptions {
  /** Bounce pool size for direct DMA beyond a device's mask (0: none). */
  readonly swiotlbBytes: number;
  readonly fq: FlushQueueOptions;
}

export const DEFAULT_DMA_API: DmaApiOptions = { swiotlbBytes: 1 << 20, fq: DEFAULT_FQ };

/**
 * The least a direct-DMA mask must reach (dma_direct_supported): the lowest
 * DMA zone, capped at the top of RAM. x86 has a 16 MiB ZONE_DMA
 * (ARCH_ZONE_DMA_BITS = 24); elsewhere (arm64, ppc64) the zone covers the
 * first 4 GiB, so a 28-bit mask on a board whose RAM starts at 1 GiB is
 * refused.
 */
function minDirectMask(board: string, ramTop: number): number {
  const zone = board === 'q35' || board === 'pc' ? dmaBitMask(24) : dmaBitMask(32);
  return Math.min(zone, ramTop - 1);
}

/**
 * The guest's DMA API (include/linux/dma-mapping.h): per-device ops chosen
 * as iommu_setup_dma_ops chooses them (a DMA/DMA_FQ default domain: the
 * IOMMU path; IDENTITY, no group or no IOMMU: direct DMA; PLATFORM: the
 * IOMMU driver's own ops), masks, single and scatter-gather mappings and
 * coherent allocations. Counters feed the boot report.
 */
export class DmaApi {
  readonly iommu: IommuDmaOps | undefined;
  readonly direct: DirectDmaOps;
  readonly swiotlb: Swiotlb | undefined;
  readonly stats = { maps: 0, unmaps: 0, bytes: 0, errors: 0 };
  private readonly ops = new Map<GuestDevice, DmaOps>();
  private readonly platform = new Map<string, (dev: GuestDevice) => DmaOps>();

  constructor(private readonly core: IommuCore | undefined, private readonly port: GuestPort, clock: GuestClock, private readonly mem: PageAllocator,
    opts: DmaApiOptions, holes: () => readonly IovaHole[]) {
    const ramTop = Math.max(...port.ramRanges.map((r) => r.base + r.size));
    if (opts.swiotlbBytes > 0) {
      const base = mem.alloc(opts.swiotlbBytes, 4096, 0x1_0000_0000);
      if (base !== undefined) this.swiotlb = new Swiotlb(port, base, opts.swiotlbBytes);
    }
    this.direct = new DirectDmaOps(this.swiotlb, minDirectMask(port.board, ramTop));
    if (core) {
      this.iommu = new IommuDmaOps(core, clock, opts.fq, holes);
      core.setupDmaOps = (dev) => this.setupDevice(dev);
    }
  }

  /** An IOMMU driver with PLATFORM default domains supplies its own DMA ops (powerpc dma_iommu_ops). */
  registerPlatformOps(driverName: string, factory: (dev: GuestDevice) => DmaOps): void {
    this.platform.set(driverName, factory);
  }

  /** iommu_setup_dma_ops / the arch's dma_configure outcome for one device. */
  setupDevice(dev: GuestDevice): DmaOps {
    const group = this.core?.groupOf(dev);
    const def = group?.defaultDomain;
    let ops: DmaOps = this.direct;
    if (def && isDmaDomain(def.type) && this.iommu) {
      this.iommu.initDomain(def, dev);
      ops = this.iommu;
    } else if (def && def.type === IOMMU_DOMAIN_PLATFORM) {
      const f = this.platform.get(this.core!.driverOf(dev)?.name ?? '');
      if (f) ops = f(dev);
    }
    this.ops.set(dev, ops);
    return ops;
  }

  /**
   * dma_configure at driver bind: -EPROBE_DEFER while the device's IOMMU
   * has not probed it yet; otherwise its ops are set (direct DMA when no
   * IOMMU translates it).
   */
  configure(dev: GuestDevice): number {
    if (this.core?.deferred.includes(dev)) return -EPROBE_DEFER;
    if (!this.ops.has(dev)) this.setupDevice(dev);
    return 0;
  }

  opsOf(dev: GuestDevice): DmaOps {
    return this.ops.get(dev) ?? this.setupDevice(dev);
  }

  /** dma_set_mask_and_coherent: 0, or -EIO when the ops cannot honour the mask. */
  setMask(dev: GuestDevice, mask: number): number {
    if (!this.opsOf(dev).supported(dev, mask)) return -EIO;
    dev.dmaMask = mask;
    dev.coherentDmaMask = mask;
    return 0;
  }

  mapSingle(dev: GuestDevice, paddr: number, size: number, dir: DmaDirection): number {
    const dma = this.opsOf(dev).map(dev, paddr, size, dir);
    if (dma === DMA_MAPPING_ERROR) this.stats.errors++;
    else {
      this.stats.maps++;
      this.stats.bytes += size;
    }
    return dma;
  }

  unmapSingle(dev: GuestDevice, dma: number, size: number, dir: DmaDirection): void {
    this.opsOf(dev).unmap(dev, dma, size, dir);
    this.stats.unmaps++;
  }

  mapSg(dev: GuestDevice, sg: readonly SgEntry[], dir: DmaDirection): DmaSegment[] | undefined {
    const ops = this.opsOf(dev);
    const segs = ops.mapSg ? ops.mapSg(dev, sg, dir) : mapSgPerEntry(ops, dev, sg, dir);
    if (!segs) this.stats.errors++;
    else {
      this.stats.maps++;
      this.stats.bytes += sg.reduce((t, s) => t + s.length, 0);
    }
    return segs;
  }

  unmapSg(dev: GuestDevice, sg: readonly SgEntry[], segs: readonly DmaSegment[], dir: DmaDirection): void {
    const ops = this.opsOf(dev);
    if (ops.unmapSg) ops.unmapSg(dev, sg, segs, dir);
    else unmapSgPerEntry(ops, dev, sg, segs, dir);
    this.stats.unmaps++;
  }

  /** dma_alloc_coherent: zeroed pages the device can reach, mapped bidirectionally. */
  allocCoherent(dev: GuestDevice, size: number): { paddr: number; dma: number } | undefined {
    const ops = this.opsOf(dev);
    const limit = ops === this.iommu ? Number.MAX_SAFE_INTEGER : dev.coherentDmaMask + 1;
    const paddr = this.mem.alloc(size, 4096, limit);
    if (paddr === undefined) return undefined;
    this.port.writeBytes(paddr, new Uint8Array(Math.ceil(size / 4096) * 4096));
    const dma = ops.map(dev, paddr, size, 'bidirectional');
    if (dma === DMA_MAPPING_ERROR) {
      this.mem.freePages(paddr, size);
      return undefined;
    }
    return { paddr, dma };
  }

  freeCoherent(dev: GuestDevice, size: number, paddr: number, dma: number): void {
    this.opsOf(dev).unmap(dev, dma, size, 'bidirectional');
    this.mem.freePages(paddr, size);
  }

  /** Drains every flush queue (lazy mode) so all unmaps are invalidated. */
  flushQueues(): void {
    this.iommu?.flushAll();
  }
}
