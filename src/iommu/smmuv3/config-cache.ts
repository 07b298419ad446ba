import type { CdConfig } from './cd.js';
import type { SmmuContexts } from './contexts.js';
import type { SteConfig } from './ste.js';

/** A decoded CD and the translation context of its TT0 (-1 when TT0 is disabled). */
export interface CdEntry {
  readonly cd: CdConfig;
  readonly ctx: number;
}

/** What is cached for one StreamID: its STE and the CDs decoded so far, by CD index (SubstreamID, or 0). */
export interface SidEntry {
  readonly ste: SteConfig;
  readonly cds: Map<number, CdEntry>;
}

/**
 * The configuration cache (IHI 0070 16.2 "configuration caches"; QEMU
 * smmuv3_get_config / smmuv3_flush_config): decoded STEs and CDs by
 * StreamID and CD index. Only successful decodes are cached (QEMU does the
 * same: an invalid STE is fetched again on every transaction). CFGI_STE,
 * CFGI_STE_RANGE and CFGI_ALL drop StreamIDs, CFGI_CD one CD, CFGI_CD_ALL a
 * StreamID's CDs. Entries hold a reference on their translation context.
 */
export class SmmuConfigCache {
  private readonly sids = new Map<number, SidEntry>();
  hits = 0;
  misses = 0;

  constructor(private readonly contexts: SmmuContexts) {}

  get(sid: number): SidEntry | undefined {
    return this.sids.get(sid);
  }

  putSte(sid: number, ste: SteConfig): SidEntry {
    this.flushSid(sid);
    const e = { ste, cds: new Map<number, CdEntry>() };
    this.sids.set(sid, e);
    return e;
  }

  putCd(e: SidEntry, index: number, cd: CdEntry): void {
    const old = e.cds.get(index);
    if (old && old.ctx >= 0) this.contexts.release(old.ctx);
    e.cds.set(index, cd);
  }

  private dropCds(e: SidEntry): void {
    for (const c of e.cds.values()) if (c.ctx >= 0) this.contexts.release(c.ctx);
    e.cds.clear();
  }

  /** CFGI_STE: the StreamID's STE and CDs. Returns the contexts they used. */
  flushSid(sid: number): number[] {
    const e = this.sids.get(sid);
    if (!e) return [];
    const ctxs = [...e.cds.values()].map((c) => c.ctx).filter((c) => c >= 0);
    this.dropCds(e);
    this.sids.delete(sid);
    return ctxs;
  }

  /** CFGI_STE_RANGE / CFGI_ALL: StreamIDs in [first, last]. */
  flushRange(first: number, last: number): void {
    for (const sid of [...this.sids.keys()]) if (sid >= first && sid <= last) this.flushSid(sid);
  }

  /** CFGI_CD: one CD of a StreamID. */
  flushCd(sid: number, index: number): void {
    const e = this.sids.get(sid);
    const c = e?.cds.get(index);
    if (!e || !c) return;
    if (c.ctx >= 0) this.contexts.release(c.ctx);
    e.cds.delete(index);
  }

  /** CFGI_CD_ALL: every CD of a StreamID (the STE stays). */
  flushCds(sid: number): void {
    const e = this.sids.get(sid);
    if (e) this.dropCds(e);
  }

  flushAll(): void {
    for (const sid of [...this.sids.keys()]) this.flushSid(sid);
  }

  /** Cached StreamIDs, for `info iommu`. */
  entries(): [number, SidEntry][] {
    return [...this.sids.entries()].sort((a, b) => a[0] - b[0]);
  }
}
