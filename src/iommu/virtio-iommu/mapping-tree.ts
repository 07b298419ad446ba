import { big, u64, type Mapping } from './u64.js';

export type { Mapping } from './u64.js';
export { big, u64 } from './u64.js';

/**
 * The mappings of one domain: disjoint inclusive intervals [start, end] of
 * a 64-bit input space with their physical start and flags, in an AVL tree
 * keyed by start (QEMU keeps a GTree per domain). Lookup, insertion and
 * removal are O(log n). 64-bit values are stored as two u32 halves in
 * typed arrays, so the translation lookup (find) uses neither BigInt nor
 * allocation; the control path converts bigints once (u64.ts).
 */
const NIL = -1;
const TWO53 = 2 ** 53;

/** Compares (ah, al) with (bh, bl) as unsigned 64-bit values. */
function cmp(ah: number, al: number, bh: number, bl: number): number {
  if (ah !== bh) return ah < bh ? -1 : 1;
  return al < bl ? -1 : al > bl ? 1 : 0;
}

/**
 * Node layout. The lookup structure: start, end, phys and flags as doubles
 * (Float64Array, 4 per node: one 32-byte block, all a translation reads)
 * and the children as int32 (2 per node, -1: none; V8 indexes with small
 * integers fastest). A double orders u64 values monotonically
 * and is exact below 2^53, so a lookup of an address below 2^53 (every
 * hot-path address) compares exactly against every key. The exact values
 * live as u32 halves, 6 per node (start, end, phys), for the control path;
 * heights and flags in their own arrays.
 */
const F = 4;
const F_START = 0;
const F_END = 1;
const F_PHYS = 2;
const F_FLAGS = 3;
const L = 0;
const R = 1;
const W = 6;
const S_HI = 0;
const S_LO = 1;
const E_HI = 2;
const E_LO = 3;
const P_HI = 4;
const P_LO = 5;

export class MappingTree {
  private u = new Uint32Array(16 * W);
  private f = new Float64Array(16 * F);
  private kid = new Int32Array(16 * 2);
  private flg = new Uint8Array(16);
  private height = new Int8Array(16);
  private root = NIL;
  private free: number[] = [];
  private used = 0;
  size = 0;

  private alloc(): number {
    const f = this.free.pop();
    if (f !== undefined) return f;
    if (this.used === this.flg.length) this.grow();
    return this.used++;
  }

  private grow(): void {
    const n = this.flg.length * 2;
    const u = new Uint32Array(n * W);
    u.set(this.u);
    this.u = u;
    const fl = new Float64Array(n * F);
    fl.set(this.f);
    this.f = fl;
    const k = new Int32Array(n * 2);
    k.set(this.kid);
    this.kid = k;
    const f = new Uint8Array(n);
    f.set(this.flg);
    this.flg = f;
    const h = new Int8Array(n);
    h.set(this.height);
    this.height = h;
  }

  private left(n: number): number {
    return this.kid[n * 2 + L]!;
  }
  private right(n: number): number {
    return this.kid[n * 2 + R]!;
  }
  private setLeft(n: number, v: number): void {
    this.kid[n * 2 + L] = v;
  }
  private setRight(n: number, v: number): void {
    this.kid[n * 2 + R] = v;
  }
  private h(n: number): number {
    return n === NIL ? 0 : this.height[n]!;
  }
  private fix(n: number): void {
    this.height[n] = 1 + Math.max(this.h(this.left(n)), this.h(this.right(n)));
  }
  private rotRight(n: number): number {
    const l = this.left(n);
    this.setLeft(n, this.right(l));
    this.setRight(l, n);
    this.fix(n);
    this.fix(l);
    return l;
  }
  private rotLeft(n: number): number {
    const r = this.right(n);
    this.setRight(n, this.left(r));
    this.setLeft(r, n);
    this.fix(n);
    this.fix(r);
    return r;
  }
  private balance(n: number): number {
    this.fix(n);
    const bf = this.h(this.left(n)) - this.h(this.right(n));
    if (bf > 1) {
      if (this.h(this.left(this.left(n))) < this.h(this.right(this.left(n)))) this.setLeft(n, this.rotLeft(this.left(n)));
      return this.rotRight(n);
    }
    if (bf < -1) {
      if (this.h(this.right(this.right(n))) < this.h(this.left(this.right(n)))) this.setRight(n, this.rotRight(this.right(n)));
      return this.rotLeft(n);
    }
    return n;
  }

  /** Adds a mapping; the caller has checked it overlaps none. */
  insert(start: bigint, end: bigint, phys: bigint, flags: number): void {
    const n = this.alloc();
    const s = u64(start);
    const e = u64(end);
    const p = u64(phys);
    const o = n * W;
    const u = this.u;
    u[o + S_HI] = s.hi;
    u[o + S_LO] = s.lo;
    u[o + E_HI] = e.hi;
    u[o + E_LO] = e.lo;
    u[o + P_HI] = p.hi;
    u[o + P_LO] = p.lo;
    this.f[n * F + F_START] = Number(BigInt.asUintN(64, start));
    this.f[n * F + F_END] = Number(BigInt.asUintN(64, end));
    this.f[n * F + F_PHYS] = Number(BigInt.asUintN(64, phys));
    this.f[n * F + F_FLAGS] = flags;
    this.setLeft(n, NIL);
    this.setRight(n, NIL);
    this.flg[n] = flags;
    this.height[n] = 1;
    this.root = this.insertAt(this.root, n);
    this.size++;
  }

  private insertAt(t: number, n: number): number {
    if (t === NIL) return n;
    const u = this.u;
    if (cmp(u[n * W + S_HI]!, u[n * W + S_LO]!, u[t * W + S_HI]!, u[t * W + S_LO]!) < 0) this.setLeft(t, this.insertAt(this.left(t), n));
    else this.setRight(t, this.insertAt(this.right(t), n));
    return this.balance(t);
  }

  /** Removes the mapping that starts at `start` (if any). */
  remove(start: bigint): boolean {
    const s = u64(start);
    const before = this.size;
    this.root = this.removeAt(this.root, s.hi, s.lo);
    return this.size < before;
  }

  private removeAt(t: number, hi: number, lo: number): number {
    if (t === NIL) return NIL;
    const c = cmp(hi, lo, this.u[t * W + S_HI]!, this.u[t * W + S_LO]!);
    if (c < 0) this.setLeft(t, this.removeAt(this.left(t), hi, lo));
    else if (c > 0) this.setRight(t, this.removeAt(this.right(t), hi, lo));
    else {
      this.size--;
      this.free.push(t);
      const l = this.left(t);
      const r = this.right(t);
      if (l === NIL) return r;
      if (r === NIL) return l;
      // Replace by the smallest node of the right subtree.
      let m = r;
      while (this.left(m) !== NIL) m = this.left(m);
      this.setRight(m, this.detachMin(r));
      this.setLeft(m, l);
      return this.balance(m);
    }
    return this.balance(t);
  }

  private detachMin(t: number): number {
    if (this.left(t) === NIL) return this.right(t);
    this.setLeft(t, this.detachMin(this.left(t)));
    return this.balance(t);
  }

  /** The node with the greatest start <= (hi, lo), or -1. */
  private floor(hi: number, lo: number): number {
    const u = this.u;
    let t = this.root;
    let best = NIL;
    while (t !== NIL) {
      const o = t * W;
      const sh = u[o + S_HI]!;
      if (sh < hi || (sh === hi && u[o + S_LO]! <= lo)) {
        best = t;
        t = this.right(t);
      } else {
        t = this.left(t);
      }
    }
    return best;
  }

  /** The node with the smallest start > (hi, lo), or -1. */
  private higher(hi: number, lo: number): number {
    let t = this.root;
    let best = NIL;
    while (t !== NIL) {
      if (cmp(this.u[t * W + S_HI]!, this.u[t * W + S_LO]!, hi, lo) > 0) {
        best = t;
        t = this.left(t);
      } else {
        t = this.right(t);
      }
    }
    return best;
  }

  /**
   * Hot path: the node translating address (hi, lo), or -1. Read its
   * fields with startOf / physOf / flagsOf.
   */
  find(hi: number, lo: number): number {
    const n = this.floor(hi, lo);
    if (n === NIL) return NIL;
    const eh = this.u[n * W + E_HI]!;
    return eh > hi || (eh === hi && this.u[n * W + E_LO]! >= lo) ? n : NIL;
  }

  /** find() for an address below 2^53: doubles only (exact there, see the layout). */
  findNumber(addr: number): number {
    const f = this.f;
    const kid = this.kid;
    let t = this.root | 0;
    let best = NIL;
    while (t !== NIL) {
      if (f[t * F + F_START]! <= addr) {
        best = t;
        t = kid[t * 2 + R]! | 0;
      } else {
        t = kid[t * 2 + L]! | 0;
      }
    }
    return best !== NIL && f[best * F + F_END]! >= addr ? best : NIL;
  }

  /** Start, phys and end of a node as numbers (exact below 2^53; callers check with bigint when larger). */
  startOf(n: number): number {
    return this.f[n * F + F_START]!;
  }
  endOf(n: number): number {
    return this.f[n * F + F_END]!;
  }
  physOf(n: number): number {
    return this.f[n * F + F_PHYS]!;
  }
  flagsOf(n: number): number {
    return this.f[n * F + F_FLAGS]!;
  }
  /** Whether the node's values all fit below 2^53 (then the accessors above are exact). */
  isNumeric(n: number): boolean {
    const o = n * F;
    const f = this.f;
    return f[o + F_END]! < TWO53 && f[o + F_PHYS]! + (f[o + F_END]! - f[o + F_START]!) < TWO53;
  }

  private mapping(n: number): Mapping {
    const u = this.u;
    const o = n * W;
    return {
      start: big(u[o + S_HI]!, u[o + S_LO]!), end: big(u[o + E_HI]!, u[o + E_LO]!),
      phys: big(u[o + P_HI]!, u[o + P_LO]!), flags: this.flg[n]!,
    };
  }

  /** The mappings overlapping [start, end], in address order (QEMU's interval_cmp lookups). */
  overlapping(start: bigint, end: bigint): Mapping[] {
    const s = u64(start);
    const e = u64(end);
    const out: Mapping[] = [];
    const u = this.u;
    let n = this.floor(s.hi, s.lo);
    if (n === NIL || cmp(u[n * W + E_HI]!, u[n * W + E_LO]!, s.hi, s.lo) < 0) n = this.higher(s.hi, s.lo);
    while (n !== NIL && cmp(u[n * W + S_HI]!, u[n * W + S_LO]!, e.hi, e.lo) <= 0) {
      out.push(this.mapping(n));
      n = this.higher(u[n * W + S_HI]!, u[n * W + S_LO]!);
    }
    return out;
  }

  /** Every mapping in address order. */
  all(): Mapping[] {
    const out: Mapping[] = [];
    const walk = (t: number): void => {
      if (t === NIL) return;
      walk(this.left(t));
      out.push(this.mapping(t));
      walk(this.right(t));
    };
    walk(this.root);
    return out;
  }

  /** The tree's height (tests check the O(log n) bound). */
  get depth(): number {
    return this.h(this.root);
  }

  clear(): void {
    this.root = NIL;
    this.free = [];
    this.used = 0;
    this.size = 0;
  }
}
