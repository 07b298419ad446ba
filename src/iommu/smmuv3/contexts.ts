import type { IotlbCoherence } from '../coherence/coherence.js';
import { CTX_FMT_LPAE_S1 } from '../xlate/context-table.js';

/** A stage-1 translation regime: what the IOTLB tag stands for. */
export interface S1Regime {
  readonly asid: number;
  readonly ttb: number;
  readonly granule: number;
  readonly tsz: number;
  readonly oas: number;
  /** LPAE_* walk flags (AFFD, HAD, QEMU blocks). */
  readonly flags: number;
}

interface Slot {
  readonly key: string;
  readonly regime: S1Regime;
  refs: number;
  lastUse: number;
}

/**
 * The translation contexts of the shared engine (xlate/context-table.ts)
 * that stand for SMMU stage-1 regimes. The IOTLB is tagged by context, and
 * a context by (ASID, TTB0, granule, T0SZ, OAS, walk flags): devices whose
 * CDs share an ASID and its tables share IOTLB entries, as the hardware's
 * ASID-tagged TLB does, and TLBI by ASID reaches every context of that
 * ASID. Contexts outlive configuration-cache flushes (CFGI does not
 * invalidate the TLB). When the table is full, a context no cached
 * configuration uses is recycled: its entries are dropped first.
 */
export class SmmuContexts {
  private readonly byKey = new Map<string, number>();
  private readonly slots: (Slot | undefined)[];
  private clock = 0;

  constructor(private readonly coherence: IotlbCoherence) {
    this.slots = new Array<Slot | undefined>(coherence.engine.contexts.size).fill(undefined);
  }

  private static key(r: S1Regime): string {
    return `${r.asid}:${r.ttb}:${r.granule}:${r.tsz}:${r.oas}:${r.flags}`;
  }

  /** The context for a regime (published to the context table on first use), with a reference taken; -1 if none is free. */
  acquire(r: S1Regime): number {
    const key = SmmuContexts.key(r);
    let ctx = this.byKey.get(key);
    if (ctx === undefined) {
      ctx = this.freeSlot();
      if (ctx < 0) return -1;
      this.slots[ctx] = { key, regime: r, refs: 0, lastUse: 0 };
      this.byKey.set(key, ctx);
      this.coherence.setContext(ctx, { format: CTX_FMT_LPAE_S1, root: r.ttb, params: [r.granule, r.tsz, r.oas, r.flags] });
    }
    const s = this.slots[ctx]!;
    s.refs++;
    s.lastUse = ++this.clock;
    return ctx;
  }

  release(ctx: number): void {
    const s = this.slots[ctx];
    if (s && s.refs > 0) s.refs--;
  }

  /** Context 0 is never used (the engine's pass-through convention elsewhere). */
  private freeSlot(): number {
    for (let i = 1; i < this.slots.length; i++) if (!this.slots[i]) return i;
    let victim = -1;
    for (let i = 1; i < this.slots.length; i++) {
      const s = this.slots[i]!;
      if (s.refs === 0 && (victim < 0 || s.lastUse < this.slots[victim]!.lastUse)) victim = i;
    }
    if (victim < 0) return -1;
    this.byKey.delete(this.slots[victim]!.key);
    this.slots[victim] = undefined;
    this.coherence.invalidateContext(victim);
    return victim;
  }

  /** Contexts of an ASID (TLBI_NH_ASID, TLBI_NH_VA). */
  ofAsid(asid: number): number[] {
    const out: number[] = [];
    for (let i = 1; i < this.slots.length; i++) if (this.slots[i]?.regime.asid === asid) out.push(i);
    return out;
  }

  regime(ctx: number): S1Regime | undefined {
    return this.slots[ctx]?.regime;
  }

  /** Live contexts, for `info iommu`. */
  get live(): { ctx: number; regime: S1Regime; refs: number }[] {
    const out: { ctx: number; regime: S1Regime; refs: number }[] = [];
    this.slots.forEach((s, ctx) => {
      if (s) out.push({ ctx, regime: s.regime, refs: s.refs });
    });
    return out;
  }

  /** Reset: every context forgotten (the caller drops the IOTLB). */
  clear(): void {
    this.byKey.clear();
    this.slots.fill(undefined);
  }
}
