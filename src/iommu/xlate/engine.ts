import { hex, type TraceTrack, type Tracer } from '../../base/trace.js';
import { IOMMU_RW } from '../../memory/index.js';
import { Iotlb } from '../iotlb/iotlb.js';
import { FIELDS } from '../iotlb/layout.js';
import type { GuestRamView } from '../walk/guest-ram-view.js';
import { lpaeS1Walk, lpaeS1WalkFrom } from '../walk/lpae.js';
import { tceWalk } from '../walk/tce.js';
import { vtdSlLeaf, vtdSlWalk } from '../walk/vtd-sl.js';
import { POW2, WalkResult } from '../walk/walk-result.js';
import { WalkCache } from './walk-cache.js';
import { vtdMissPass, type MissPassHost } from './vtd-miss-pass.js';
import { lpaeMissPass } from './lpae-miss-pass.js';
import {
  CTX_FMT_IDENTITY, CTX_FMT_LPAE_S1, CTX_FMT_TCE, CTX_FMT_VTD_SL, CTX_WORDS, type ContextTable,
} from './context-table.js';

/** Translations per hit pass (translateBatch). */
const PASS = 1024;

/** Where an engine's misses and fills are traced: its vIOMMU's track on the machine's tracer. */
export interface EngineTrace {
  readonly tracer: Tracer;
  readonly where: TraceTrack;
}

/** The fault reason reported for a context with no table (format NONE). */
export const XLATE_NO_CONTEXT = 0x100;

/**
 * The translate path of one thread: its IOTLB, guest RAM and the shared
 * context table, with the walkers on a miss. The vIOMMU models (main
 * thread), the bench and the pool workers all translate through this
 * class; a device's IOMMU region translate() and a worker's batch share
 * the same lookup, walk and fill.
 *
 * Results: a translated address (>= 0), or a fault as the negated reason
 * code of the context's walker (VT-d fault reason, LPAE_FAULT_*,
 * TCE_FAULT_*, XLATE_NO_CONTEXT). Faults are not cached. A hit that lacks
 * the permission asked for is treated as a miss: the walk reports the
 * precise fault, or refills if the guest has since granted it.
 */
export class TranslationEngine implements MissPassHost {
  /** The last walk (level, entry address of a fault) for fault records. */
  readonly walk = new WalkResult();
  /** Snapshot of each context line (words 1-7), valid while `loaded[ctx]`. */
  private readonly ctxWords: Int32Array;
  private readonly loaded: Uint8Array;
  /** Indexes of the misses of one hit pass. */
  readonly missIdx = new Int32Array(PASS);
  readonly walkCache: WalkCache;
  /**
   * Set by the vIOMMU that owns the engine; events are recorded only while
   * its tracer is on, and only on the miss side (the hit paths never look).
   */
  trace: EngineTrace | undefined = undefined;

  constructor(readonly ram: GuestRamView, readonly contexts: ContextTable, readonly iotlb: Iotlb, walkCacheSize = 1024) {
    this.walkCache = new WalkCache(walkCacheSize);
    this.ctxWords = new Int32Array(contexts.size * CTX_WORDS);
    this.loaded = new Uint8Array(contexts.size);
  }

  /** Translates one access (`access`: IOMMU_RO or IOMMU_WO, or IOMMU_NONE to report permissions). */
  translate(ctx: number, iova: number, access: number): number {
    const tlb = this.iotlb;
    const s = tlb.lookup(ctx, iova);
    if (s >= 0 && (tlb.perm(s) & access) === access) {
      tlb.touch(s);
      tlb.count(1, 0);
      this.walk.perm = tlb.perm(s);
      this.walk.shift = tlb.shift(s);
      return tlb.translated(s, iova);
    }
    tlb.count(0, 1);
    const r = this.slowMiss(ctx, iova, access, -1, s);
    if (this.trace !== undefined && this.trace.tracer.on) this.traceMiss(this.trace, ctx, iova, access, r);
    return r;
  }

  /** One miss of translate(): the walk, then the fill (or the fault). */
  private traceMiss(t: EngineTrace, ctx: number, iova: number, access: number, r: number): void {
    t.tracer.complete(t.where, 'iotlb', 'IOTLB miss', { ctx, iova: hex(iova), access });
    if (r >= 0) t.tracer.instant(t.where, 'iotlb', 'IOTLB fill', { ctx, iova: hex(iova), addr: hex(r), shift: this.walk.shift, perm: this.walk.perm });
    else t.tracer.instant(t.where, 'iotlb', 'translation fault', { ctx, iova: hex(iova), reason: hex(-r) });
  }

  /**
   * Translates iovas[from..to) into out[from..to) for one context and
   * access; returns the number of faults. Two passes per piece of up to
   * PASS translations: the hit pass is plain typed-array loads with no call
   * (a probe of the 4 KiB set: one cache line of tags and contexts) and
   * notes the misses; the miss pass re-probes each (an earlier miss may
   * have filled it), then walks and fills.
   */
  translateBatch(ctx: number, access: number, iovas: Float64Array, from: number, to: number, out: Float64Array): number {
    let faults = 0;
    const tr = this.trace !== undefined && this.trace.tracer.on ? this.trace : undefined;
    for (let k = from; k < to; k += PASS) {
      const end = Math.min(to, k + PASS);
      const misses = this.hitPass(ctx | 0, access, iovas, k, end, out);
      if (misses > 0) {
        const m0 = this.iotlb.misses;
        const f = this.missPassFor(ctx | 0, access, iovas, misses, out);
        faults += f;
        // Per pass, not per access: the pass's walks, fills and faults as one event.
        if (tr !== undefined) {
          const walked = this.iotlb.misses - m0;
          tr.tracer.complete(tr.where, 'iotlb', 'IOTLB misses', { ctx, first: k, translations: end - k, misses: walked, fills: walked - f, faults: f });
        }
      }
      this.iotlb.count(end - k - misses, 0);
    }
    return faults;
  }

  /** Serves the 4 KiB hits of iovas[from..to); returns how many missed (their indexes are in missIdx). */
  private hitPass(c: number, access: number, iovas: Float64Array, from: number, to: number, out: Float64Array): number {
    // `| 0` makes each loop-invariant an int32 once, so that V8 does not re-check it on every iteration.
    const tlb = this.iotlb;
    const ent = tlb.ent;
    const mask = tlb.setMask | 0;
    const w = tlb.ways | 0;
    const stride = (w * FIELDS) | 0;
    const salt = Iotlb.salt(c, 12) | 0;
    const acc = access | 0;
    const missIdx = this.missIdx;
    let n = 0;
    for (let k = from | 0; k < to; k++) {
      const iova = iovas[k]!;
      const vpn = Math.floor(iova / 4096);
      const b = (((vpn | 0) ^ salt) & mask) * stride;
      let s = -1;
      if (w === 4) {
        // Four ways unrolled: tags at b..b+3, contexts at b+4..b+7 (one cache line).
        if (ent[b] === vpn && ent[b + 4] === c) s = b;
        else if (ent[b + 1] === vpn && ent[b + 5] === c) s = b + 1;
        else if (ent[b + 2] === vpn && ent[b + 6] === c) s = b + 2;
        else if (ent[b + 3] === vpn && ent[b + 7] === c) s = b + 3;
      } else {
        for (let j = b; j < b + w; j++) {
          if (ent[j] === vpn && ent[j + w] === c) {
            s = j;
            break;
          }
        }
      }
      if (s >= 0 && (ent[s + 3 * w]! & acc) === acc) {
        out[k] = iova + ent[s + 2 * w]!;
      } else {
        missIdx[n++] = k;
      }
    }
    return n;
  }

  /** The miss pass: the VT-d and 4 KiB LPAE fast paths (vtd-miss-pass.ts, lpae-miss-pass.ts), else the general one. */
  private missPassFor(c: number, access: number, iovas: Float64Array, n: number, out: Float64Array): number {
    const o = this.loadContext(c);
    if (o >= 0 && this.ctxWords[o + 1] === CTX_FMT_VTD_SL) {
      return vtdMissPass(this, c, access, this.ctxWords[o + 6]!, this.ctxWords[o + 7]!, iovas, n, out);
    }
    if (o >= 0 && this.ctxWords[o + 1] === CTX_FMT_LPAE_S1 && this.ctxWords[o + 4] === 12) {
      return lpaeMissPass(this, c, access, this.ctxWords[o + 6]!, this.ctxWords[o + 7]!, iovas, n, out);
    }
    return this.missPass(c, access, iovas, n, out);
  }

  /** Offset of a context's snapshot in ctxWords (read on first use), or -1 for an id outside the table. */
  private loadContext(ctx: number): number {
    if (!(ctx >= 0 && ctx < this.loaded.length)) return -1;
    const o = ctx * CTX_WORDS;
    if (!this.loaded[ctx]) {
      this.contexts.read(ctx, this.ctxWords, o);
      this.loaded[ctx] = 1;
    }
    return o;
  }

  private missPass(c: number, access: number, iovas: Float64Array, n: number, out: Float64Array): number {
    const tlb = this.iotlb;
    const salt = Iotlb.salt(c, 12) | 0;
    const mask = tlb.setMask | 0;
    const stride = (tlb.ways * FIELDS) | 0;
    const lru = tlb.policy === 'lru';
    let faults = 0;
    let misses = 0;
    for (let i = 0; i < n; i++) {
      const k = this.missIdx[i]!;
      const iova = iovas[k]!;
      const vpn = Math.floor(iova / 4096);
      const b = (((vpn | 0) ^ salt) & mask) * stride;
      // An earlier miss of this pass may have filled the page.
      let s = tlb.probe4k(b, vpn, c);
      if (s < 0 && tlb.hasLarge) s = tlb.lookupLarge(c, iova);
      if (s >= 0 && (tlb.perm(s) & access) === access) {
        if (lru) tlb.touch(s);
        out[k] = tlb.translated(s, iova);
        continue;
      }
      misses++;
      const r = this.slowMiss(c, iova, access, b, s);
      if (r < 0) faults++;
      out[k] = r;
    }
    tlb.count(n - misses, misses);
    return faults;
  }

  /**
   * Walk the context's table (resuming from the walk cache) and fill the
   * IOTLB; the address or -reason. `b` is the 4 KiB set block the caller
   * probed (or -1), `stale` a slot that matched without the permission.
   */
  slowMiss(ctx: number, iova: number, access: number, b: number, stale: number): number {
    const o = this.loadContext(ctx);
    if (o < 0) return -XLATE_NO_CONTEXT;
    const w = this.ctxWords;
    const format = w[o + 1]!;
    const r = this.walk;
    const pwc = this.walkCache;
    let err: number;
    if (format === CTX_FMT_VTD_SL) {
      // Last-level tables cover 2 MiB.
      const region = Math.floor(iova / 0x200000);
      const p = pwc.lookup(ctx, region, 21);
      if (p >= 0) {
        err = vtdSlLeaf(this.ram, pwc.tableLo[p]! >>> 0, pwc.tableHi[p]!, pwc.perm[p]!, w[o + 6]!, w[o + 7]!, iova, access, r);
      } else {
        err = vtdSlWalk(this.ram, this.root(o), w[o + 4]!, w[o + 5]!, w[o + 6]!, w[o + 7]!, iova, access, r);
        if (err === 0 && r.level === 1) pwc.insert(ctx, region, 21, r.tableLo, r.tableHi, r.tablePerm);
      }
    } else if (format === CTX_FMT_LPAE_S1) {
      const granule = w[o + 4]!;
      const rshift = 2 * granule - 3;
      const region = Math.floor(iova / POW2[rshift]!);
      const p = pwc.lookup(ctx, region, rshift);
      if (p >= 0) {
        err = lpaeS1WalkFrom(this.ram, pwc.tableLo[p]! >>> 0, pwc.tableHi[p]!, 3, granule - 3, pwc.perm[p]!, granule,
          w[o + 6]!, w[o + 7]!, iova, access, r);
      } else {
        err = lpaeS1Walk(this.ram, this.root(o), granule, w[o + 5]!, w[o + 6]!, w[o + 7]!, iova, access, r);
        if (err === 0 && r.level === 3) pwc.insert(ctx, region, rshift, r.tableLo, r.tableHi, r.tablePerm);
      }
    } else if (format === CTX_FMT_TCE) {
      err = tceWalk(this.ram, this.root(o), w[o + 4]! >>> 0, w[o + 5]!, w[o + 6]!, iova, access, r);
    } else if (format === CTX_FMT_IDENTITY) {
      r.addr = Math.floor(iova / 4096) * 4096;
      r.shift = 12;
      r.perm = IOMMU_RW;
      return iova;
    } else {
      return -XLATE_NO_CONTEXT;
    }
    if (err !== 0) return -err;
    const tlb = this.iotlb;
    if (stale >= 0) tlb.drop(stale);
    if (r.shift !== 12 || b < 0) return tlb.translated(tlb.insert(ctx, iova, r.shift, r.addr, r.perm), iova);
    const vpn = Math.floor(iova / 4096);
    const delta = r.addr - vpn * 4096;
    tlb.fill(b, ctx, vpn, delta, r.perm | (12 << 8));
    return iova + delta;
  }

  private root(o: number): number {
    return (this.ctxWords[o + 3]! >>> 0) * 0x1_0000_0000 + (this.ctxWords[o + 2]! >>> 0);
  }

  /** Forget the snapshot of one context (it was rewritten) and everything cached for it. */
  invalidateContext(ctx: number): void {
    if (ctx >= 0 && ctx < this.loaded.length) this.loaded[ctx] = 0;
    this.iotlb.invalidateContext(ctx);
    this.walkCache.invalidateContext(ctx);
  }

  invalidateRange(ctx: number | null, start: number, size: number): void {
    this.iotlb.invalidateRange(ctx, start, size);
    this.walkCache.invalidateRange(ctx, start, size);
  }

  invalidateAll(): void {
    this.loaded.fill(0);
    this.iotlb.invalidateAll();
    this.walkCache.invalidateAll();
  }
}
