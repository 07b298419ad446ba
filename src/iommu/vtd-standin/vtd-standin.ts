import { IOMMU_NONE, type AddressSpace, type IOMMUTLBEntry, type MemorySystem, type MemTxAttrs } from '../../memory/index.js';
import type { IotlbCoherence } from '../coherence/coherence.js';
import { IommuMemoryRegion } from '../iommu-region.js';
import { CTX_FMT_IDENTITY, CTX_FMT_VTD_SL } from '../xlate/context-table.js';
import type { TranslationEngine } from '../xlate/engine.js';
import { VTD_FR_CONTEXT_ENTRY_INV } from '../walk/vtd-sl.js';

/** VT-d fault reasons of the root/context lookup (ref/smmuv3-vtd.md B7). */
export const VTD_FR_ROOT_ENTRY_P = 0x1;
export const VTD_FR_CONTEXT_ENTRY_P = 0x2;
export const VTD_FR_ROOT_TABLE_INV = 0x8;
export const VTD_FR_CONTEXT_TABLE_INV = 0x9;
export const VTD_FR_ROOT_ENTRY_RSVD = 0xa;

const TWO32 = 0x1_0000_0000;

export interface VtdStandinOptions {
  /** aw-bits: the MGAW (39 or 48). */
  readonly awBits?: number;
  /** Host address width (bits of output addresses). */
  readonly hawBits?: number;
}

/**
 * STAND-IN for the Intel VT-d model, until the VT-d issue lands: the
 * smallest legacy-mode DMA remapping that lets `viommu bench iotlb --iommu
 * vtd` and early tests translate through real VT-d tables in guest RAM.
 * It has the guest-visible state a driver programs (RTADDR, SRTP, TE) but
 * no MMIO register file, no fault recording registers, no invalidation
 * queue and no notifier emission; the real model (src/iommu/vtd/) replaces
 * it and keeps its shape: requester ID -> root entry -> context entry ->
 * a translation context (one per domain id) -> TranslationEngine.
 */
export class VtdStandin {
  private rtaddr = 0;
  private rootPointer = 0;
  private translationEnabled = false;
  /** Context cache: requester ID -> context id, or a negated fault reason. */
  private readonly sidContext = new Map<number, number>();
  /** Domain id -> context id (the IOTLB is tagged by domain, as the hardware is). */
  private readonly didContext = new Map<number, number>();
  private readonly awBits: number;
  private readonly hawBits: number;
  /** The last translation fault: requester, IOVA, reason (the real model records it in FRCD). */
  lastFault: { sid: number; iova: number; reason: number } | null = null;

  constructor(readonly coherence: IotlbCoherence, opts: VtdStandinOptions = {}) {
    this.awBits = opts.awBits ?? 48;
    this.hawBits = opts.hawBits ?? 48;
  }

  get engine(): TranslationEngine {
    return this.coherence.engine;
  }

  /** RTADDR_REG write (legacy root table, TTM = 0). */
  writeRtaddr(addr: number): void {
    this.rtaddr = addr - (addr % 4096);
  }

  /** GCMD.SRTP: latch the root table pointer; caches are reset (QEMU vtd_handle_gcmd_srtp). */
  setRootTablePointer(): void {
    this.rootPointer = this.rtaddr;
    this.invalidateContextCache();
    this.coherence.invalidateAll();
  }

  /** GCMD.TE. */
  setTranslationEnable(on: boolean): void {
    this.translationEnabled = on;
    this.invalidateContextCache();
  }

  /** Context-cache global invalidation. */
  invalidateContextCache(): void {
    this.sidContext.clear();
  }

  /** IOTLB domain-selective invalidation. */
  invalidateDomain(did: number): void {
    const ctx = this.didContext.get(did);
    if (ctx !== undefined) this.coherence.invalidateContext(ctx);
  }

  /** IOTLB page-selective invalidation: 2^am pages at addr. */
  invalidatePages(did: number, addr: number, am: number): void {
    const ctx = this.didContext.get(did);
    if (ctx !== undefined) this.coherence.invalidateRange(ctx, addr, 4096 * 2 ** am);
  }

  /**
   * The translation context of a requester (bus << 8 | devfn), decoding
   * the legacy root and context entries from guest RAM (ref/smmuv3-vtd.md
   * B2) on a context-cache miss. Returns a context id, or -reason.
   */
  contextFor(sid: number): number {
    const cached = this.sidContext.get(sid);
    if (cached !== undefined) return cached;
    const r = this.decode(sid);
    this.sidContext.set(sid, r);
    return r;
  }

  private decode(sid: number): number {
    if (!this.translationEnabled) return this.identityContext();
    const ram = this.engine.ram;
    if (!ram.ld64le(this.rootPointer + (sid >>> 8) * 16)) return -VTD_FR_ROOT_TABLE_INV;
    const rootLo = ram.lo;
    const rootHi = ram.hi;
    if (!(rootLo & 1)) return -VTD_FR_ROOT_ENTRY_P;
    if (!ram.ld64le(this.rootPointer + (sid >>> 8) * 16 + 8) || ram.lo !== 0 || ram.hi !== 0 || rootLo & 0xffe) {
      return -VTD_FR_ROOT_ENTRY_RSVD;
    }
    const ctp = rootHi * TWO32 + ((rootLo & 0xfffff000) >>> 0);
    if (!ram.ld64le(ctp + (sid & 0xff) * 16)) return -VTD_FR_CONTEXT_TABLE_INV;
    const lo = ram.lo;
    const loHi = ram.hi;
    if (!ram.ld64le(ctp + (sid & 0xff) * 16 + 8)) return -VTD_FR_CONTEXT_TABLE_INV;
    const hi = ram.lo;
    if (!(lo & 1)) return -VTD_FR_CONTEXT_ENTRY_P;
    const tt = (lo >>> 2) & 3;
    if (tt === 2) return this.identityContext();
    const aw = hi & 7;
    if (tt === 3 || aw < 1 || aw > 3) return -VTD_FR_CONTEXT_ENTRY_INV;
    const did = (hi >>> 8) & 0xffff;
    const slptptr = loHi * TWO32 + ((lo & 0xfffff000) >>> 0);
    let ctx = this.didContext.get(did);
    if (ctx === undefined) {
      ctx = this.didContext.size + 1;
      this.didContext.set(did, ctx);
    }
    const desc = this.engine.contexts.get(ctx);
    const params = [aw + 2, this.awBits, this.hawBits, 0];
    if (desc.format !== CTX_FMT_VTD_SL || desc.root !== slptptr || desc.params.some((p, i) => p !== params[i])) {
      this.coherence.setContext(ctx, { format: CTX_FMT_VTD_SL, root: slptptr, params });
    }
    return ctx;
  }

  /** Context 0: DMA remapping off or pass-through (identity, read/write). */
  private identityContext(): number {
    if (this.engine.contexts.get(0).format !== CTX_FMT_IDENTITY) {
      this.coherence.setContext(0, { format: CTX_FMT_IDENTITY, root: 0, params: [] });
    }
    return 0;
  }

  /** Translates one access of a requester; an address, or -reason (recorded in lastFault). */
  translate(sid: number, iova: number, access: number): number {
    const ctx = this.contextFor(sid);
    const r = ctx < 0 ? ctx : this.engine.translate(ctx, iova, access);
    if (r < 0) this.lastFault = { sid, iova, reason: -r };
    return r;
  }

  /** The IOMMU region a device's DMA goes through ("vtd-SS.F-dmar" in QEMU). */
  region(sys: MemorySystem, sid: number, target: AddressSpace): IommuMemoryRegion {
    const name = `vtd-${((sid & 0xff) >> 3).toString(16).padStart(2, '0')}.${sid & 7}-dmar`;
    return new IommuMemoryRegion(sys, name, 1n << 64n, {
      targetAs: target,
      ops: {
        translate: (addr: number, flag: number, _idx: number, _attrs: MemTxAttrs): IOMMUTLBEntry => {
          const r = this.translate(sid, addr, flag);
          if (r < 0) return { targetAs: null, iova: addr - (addr % 4096), translatedAddr: 0, addrMask: 0xfff, perm: IOMMU_NONE };
          const w = this.engine.walk;
          const size = 2 ** w.shift;
          return { targetAs: target, iova: addr - (addr % size), translatedAddr: r - (r % size), addrMask: size - 1, perm: w.perm };
        },
      },
    });
  }
}

