import { ConfigError } from '../../base/index.js';
import { POW2 } from '../walk/walk-result.js';
import { invalidateContext, invalidateRange } from './invalidate.js';
import { CTR_EVICTIONS, CTR_HITS, CTR_MISSES, FIELDS, MAX_SHIFT, iotlbLayout } from './layout.js';

export type IotlbPolicy = 'fifo' | 'lru';
export const IOTLB_POLICIES: readonly IotlbPolicy[] = ['fifo', 'lru'];

export interface IotlbOptions {
  /** Entries (rounded up to a power-of-two number of sets). Default 4096. */
  readonly capacity?: number;
  /** Associativity: 1, 2, 4, 8 or 16. Default 4. */
  readonly ways?: number;
  /** Replacement within a full set: first-in first-out, or least recently used. */
  readonly policy?: IotlbPolicy;
}

/** Everything another thread needs to attach to the same arrays. */
export interface IotlbDescriptor {
  readonly sab: SharedArrayBuffer;
  readonly sets: number;
  readonly ways: number;
  readonly policy: IotlbPolicy;
}


/**
 * A set-associative IOTLB over one SharedArrayBuffer (DESIGN "Shared
 * IOTLB"), reused by every vIOMMU and by the vhost device IOTLB. An entry
 * is keyed by a context tag the vIOMMU chooses (an int32: domain id,
 * ASID/VMID, LIOBN, SID) and the first 4 KiB page of the page or block it
 * maps; it holds the size (2^shift, any power of two from 4 KiB: 4K/2M/1G,
 * SMMU 16K/64K granules and their blocks, TCE pages), the permission, and
 * the translation as a delta (translated = iova + delta). Layout:
 * layout.ts. A lookup is plain typed-array loads; nothing here allocates
 * on the hot path or uses BigInt or Atomics.
 *
 * One thread owns (writes) an instance; others may attach to read its
 * counters. A free way has tag -1 and meta 0.
 */
export class Iotlb {
  readonly sets: number;
  readonly ways: number;
  readonly capacity: number;
  readonly setMask: number;
  readonly policy: IotlbPolicy;
  readonly sab: SharedArrayBuffer;
  /** Set blocks: tags, contexts, deltas, meta (layout.ts). */
  readonly ent: Float64Array;
  /** LRU stamps, one per way. */
  readonly age: Int32Array;
  /** FIFO victim pointer, one per set. */
  readonly fifo: Int32Array;
  /** Valid ways of each set, one bit per way: free ways are filled first. */
  readonly valid: Int32Array;
  readonly shiftCount: Int32Array;
  readonly counters: Float64Array;
  /** True when entries larger than 4 KiB exist (the hot path then probes them on a 4 KiB miss). */
  hasLarge = false;
  /** Shifts above 12 that have entries, ascending (owner-thread state). */
  private large: number[] = [];
  private readonly waysLog2: number;
  private readonly blockLog2: number;
  private readonly fullMask: number;
  private clock = 0;

  constructor(desc: IotlbDescriptor) {
    const l = iotlbLayout(desc.sets, desc.ways);
    this.sets = desc.sets;
    this.ways = desc.ways;
    this.waysLog2 = Math.log2(desc.ways);
    this.blockLog2 = this.waysLog2 + Math.log2(FIELDS);
    this.fullMask = (1 << desc.ways) - 1;
    this.capacity = desc.sets * desc.ways;
    this.setMask = desc.sets - 1;
    this.policy = desc.policy;
    this.sab = desc.sab;
    this.counters = new Float64Array(desc.sab, l.counters, 24);
    this.ent = new Float64Array(desc.sab, l.ent, this.capacity * FIELDS);
    this.age = new Int32Array(desc.sab, l.age, this.capacity);
    this.fifo = new Int32Array(desc.sab, l.fifo, desc.sets);
    this.valid = new Int32Array(desc.sab, l.valid, desc.sets);
    this.shiftCount = new Int32Array(desc.sab, l.shiftCount, MAX_SHIFT);
    for (let s = 13; s < MAX_SHIFT; s++) if (this.shiftCount[s]! > 0) this.large.push(s);
    this.hasLarge = this.large.length > 0;
  }

  /** A new, empty IOTLB. Throws ConfigError for a bad size or policy. */
  static create(opts: IotlbOptions = {}): Iotlb {
    const ways = opts.ways ?? 4;
    const capacity = opts.capacity ?? 4096;
    const policy = opts.policy ?? 'fifo';
    if (![1, 2, 4, 8, 16].includes(ways)) throw new ConfigError('iotlb.ways', `${ways} is not 1, 2, 4, 8 or 16`);
    if (!Number.isInteger(capacity) || capacity < ways || capacity > 1 << 24) {
      throw new ConfigError('iotlb.capacity', `${capacity} is not ${ways}..${1 << 24}`);
    }
    if (!IOTLB_POLICIES.includes(policy)) throw ConfigError.unknown('iotlb.policy', 'policy', policy, IOTLB_POLICIES);
    let sets = 1;
    while (sets * ways < capacity) sets *= 2;
    const tlb = new Iotlb({ sab: new SharedArrayBuffer(iotlbLayout(sets, ways).bytes), sets, ways, policy });
    tlb.clear();
    return tlb;
  }

  descriptor(): IotlbDescriptor {
    return { sab: this.sab, sets: this.sets, ways: this.ways, policy: this.policy };
  }

  /** The set-index salt of a context at a size: a probe's set is ((pn | 0) ^ salt) & setMask. */
  static salt(ctx: number, shift: number): number {
    return Math.imul((ctx ^ (shift << 24)) | 0, 0x9e3779b1);
  }

  /** Index in `ent` of the block of the set holding page number `pn` (2^shift units) of `ctx`. */
  block(ctx: number, pn: number, shift: number): number {
    return (((pn | 0) ^ Iotlb.salt(ctx, shift)) & this.setMask) * this.ways * FIELDS;
  }

  /** The slot translating `iova` for `ctx`, or -1: 4 KiB first, then each larger size in use. */
  lookup(ctx: number, iova: number): number {
    const vpn = Math.floor(iova / 4096);
    const s = this.probe(ctx, vpn, vpn, 12);
    return s >= 0 || !this.hasLarge ? s : this.lookupLarge(ctx, iova);
  }

  /** Probes only the sizes above 4 KiB (the hot path probes 4 KiB inline). */
  lookupLarge(ctx: number, iova: number): number {
    const large = this.large;
    for (let i = 0; i < large.length; i++) {
      const shift = large[i]!;
      const pn = Math.floor(iova / POW2[shift]!);
      const s = this.probe(ctx, pn, pn * POW2[shift - 12]!, shift);
      if (s >= 0) return s;
    }
    return -1;
  }

  /** The slot of 4 KiB page `vpn` of `ctx` in the set block `b`, or -1. */
  probe4k(b: number, vpn: number, ctx: number): number {
    const e = this.ent;
    const w = this.ways | 0;
    for (let s = b; s < b + w; s++) if (e[s] === vpn && e[s + w] === ctx && e[s + 3 * w]! >>> 8 === 12) return s;
    return -1;
  }

  /** The slot of page number `pn` (2^shift units; first 4 KiB page `vpn`) of `ctx`, or -1. */
  probe(ctx: number, pn: number, vpn: number, shift: number): number {
    const e = this.ent;
    const w = this.ways;
    const b = this.block(ctx, pn, shift);
    for (let s = b; s < b + w; s++) {
      if (e[s] === vpn && e[s + w] === (ctx | 0) && e[s + 3 * w]! >>> 8 === shift) return s;
    }
    return -1;
  }

  /** Translated address for `iova` through slot `s`. */
  translated(s: number, iova: number): number {
    return iova + this.ent[s + 2 * this.ways]!;
  }
  perm(s: number): number {
    return this.ent[s + 3 * this.ways]! & 0xf;
  }
  shift(s: number): number {
    return this.ent[s + 3 * this.ways]! >>> 8;
  }
  /** Marks a slot used (LRU). */
  touch(s: number): void {
    if (this.policy !== 'lru') return;
    const w = this.ways;
    this.age[((s >> this.blockLog2) << this.waysLog2) | (s & (w - 1))] = ++this.clock;
  }

  /**
   * Inserts the translation of the 2^shift page holding `iova` to `addr`
   * (the output address of the page's first byte), replacing an entry with
   * the same key, else a free way, else the policy's victim (an eviction).
   * Returns the slot.
   */
  insert(ctx: number, iova: number, shift: number, addr: number, perm: number): number {
    const e = this.ent;
    const w = this.ways;
    const size = POW2[shift]!;
    const pn = Math.floor(iova / size);
    const start = pn * size;
    const vpn = start / 4096;
    const b = this.block(ctx, pn, shift);
    for (let s = b; s < b + w; s++) {
      if (e[s] === vpn && e[s + w] === (ctx | 0) && e[s + 3 * w]! >>> 8 === shift) this.drop(s);
    }
    return this.fill(b, ctx, vpn, addr - start, (perm & 0xf) | (shift << 8));
  }

  /**
   * Fills a free way of the set whose block starts at `b`, else evicts the
   * policy's victim. The key must not be in the set (the hot path calls
   * this after its probe missed). Returns the slot.
   */
  fill(b: number, ctx: number, vpn: number, delta: number, meta: number): number {
    const e = this.ent;
    const w = this.ways;
    const set = b >> this.blockLog2;
    const vm = this.valid[set]!;
    const shift = meta >>> 8;
    let s: number;
    if (vm === this.fullMask) {
      s = this.policy === 'lru' ? this.lruVictim(b) : this.fifoVictim(b);
      this.counters[CTR_EVICTIONS]!++;
    } else {
      s = b + 31 - Math.clz32(~vm & (vm + 1));
    }
    // Replacing an entry of the same size changes no bookkeeping (the common case).
    if (e[s + 3 * w] === 0 || e[s + 3 * w]! >>> 8 !== shift) {
      this.drop(s);
      this.valid[set] = this.valid[set]! | (1 << (s - b));
      if (this.shiftCount[shift]!++ === 0 && shift > 12) {
        this.large = [...this.large, shift].sort((x, y) => x - y);
        this.hasLarge = true;
      }
    }
    e[s] = vpn;
    e[s + w] = ctx | 0;
    e[s + 2 * w] = delta;
    e[s + 3 * w] = meta;
    if (this.policy === 'lru') this.touch(s);
    return s;
  }

  private fifoVictim(b: number): number {
    const set = b >> this.blockLog2;
    const j = this.fifo[set]!;
    this.fifo[set] = (j + 1) & (this.ways - 1);
    return b + j;
  }

  private lruVictim(b: number): number {
    const first = (b >> this.blockLog2) << this.waysLog2;
    let best = 0;
    for (let j = 1; j < this.ways; j++) if (this.age[first + j]! - this.age[first + best]! < 0) best = j;
    return b + best;
  }

  /** Frees a slot. */
  drop(s: number): void {
    const w = this.ways;
    if (this.ent[s + 3 * w] === 0) return;
    const shift = this.ent[s + 3 * w]! >>> 8;
    if (--this.shiftCount[shift]! === 0 && shift > 12) {
      this.large = this.large.filter((x) => x !== shift);
      this.hasLarge = this.large.length > 0;
    }
    this.ent[s] = -1;
    this.ent[s + 3 * w] = 0;
    const set = s >> this.blockLog2;
    this.valid[set] = this.valid[set]! & ~(1 << (s & (w - 1)));
  }

  /**
   * Removes every entry of `ctx` (or of any context when null: SMMU "any
   * ASID", VT-d global page invalidation) whose page or block overlaps
   * [start, start + size); see invalidate.ts. Returns the entries removed.
   */
  invalidateRange(ctx: number | null, start: number, size: number): number {
    return invalidateRange(this, ctx, start, size);
  }

  /** Removes every entry of a context (VT-d domain-selective, SMMU by ASID/VMID, a LIOBN). */
  invalidateContext(ctx: number): number {
    return invalidateContext(this, ctx);
  }

  invalidateAll(): void {
    this.clear();
  }

  private clear(): void {
    const w = this.ways;
    const e = this.ent;
    for (let b = 0; b < e.length; b += FIELDS * w) {
      e.fill(-1, b, b + w);
      e.fill(0, b + 3 * w, b + 4 * w);
    }
    this.shiftCount.fill(0);
    this.valid.fill(0);
    this.large = [];
    this.hasLarge = false;
  }

  /** Valid entries. */
  get entries(): number {
    let n = 0;
    for (let s = 12; s < MAX_SHIFT; s++) n += this.shiftCount[s]!;
    return n;
  }
  get hits(): number {
    return this.counters[CTR_HITS]!;
  }
  get misses(): number {
    return this.counters[CTR_MISSES]!;
  }
  get evictions(): number {
    return this.counters[CTR_EVICTIONS]!;
  }
  /** Adds a batch's counts (the hot path counts in locals and adds once). */
  count(hits: number, misses: number): void {
    this.counters[CTR_HITS]! += hits;
    this.counters[CTR_MISSES]! += misses;
  }
}
