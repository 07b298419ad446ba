/**
 * The mappings of one domain: disjoint inclusive intervals [start, end] of
 * a 64-bit input space with their physical start and flags, in an AVL tree
 * keyed by start (QEMU keeps a GTree per domain). Lookup, insertion and
 * removal are O(log n). 64-bit values are stored as two u32 halves in
 * typed arrays, so the translation lookup (find) uses neither BigInt nor
 * allocation; the control path converts bigints once (u64 helpers below).
 */
const NIL = -1;
const TWO32 = 0x1_0000_0000;

/** A u64 as halves. */
export interface U64 {
  readonly hi: number;
  readonly lo: number;
}

export function u64(v: bigint): U64 {
  const m = BigInt.asUintN(64, v);
  return { hi: Number(m >> 32n), lo: Number(m & 0xffff_ffffn) };
}
export function big(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** Compares (ah, al) with (bh, bl) as unsigned 64-bit values. */
function cmp(ah: number, al: number, bh: number, bl: number): number {
  if (ah !== bh) return ah < bh ? -1 : 1;
  return al < bl ? -1 : al > bl ? 1 : 0;
}

/** A mapping as plain data (control path). */
export interface Mapping {
  readonly start: bigint;
  readonly end: bigint;
  readonly phys: bigint;
  readonly flags: number;
}

export class MappingTree {
  /** Node fields: start, end and phys halves, flags, children, height. */
  private sHi = new Uint32Array(16);
  private sLo = new Uint32Array(16);
  private eHi = new Uint32Array(16);
  private eLo = new Uint32Array(16);
  private pHi = new Uint32Array(16);
  private pLo = new Uint32Array(16);
  private flg = new Uint8Array(16);
  private left = new Int32Array(16);
  private right = new Int32Array(16);
  private height = new Int8Array(16);
  private root = NIL;
  private free: number[] = [];
  private used = 0;
  size = 0;

  private alloc(): number {
    const f = this.free.pop();
    if (f !== undefined) return f;
    if (this.used === this.sHi.length) this.grow();
    return this.used++;
  }

  private grow(): void {
    const n = this.sHi.length * 2;
    const g32 = (a: Uint32Array): Uint32Array<ArrayBuffer> => {
      const b = new Uint32Array(n);
      b.set(a);
      return b;
    };
    this.sHi = g32(this.sHi);
    this.sLo = g32(this.sLo);
    this.eHi = g32(this.eHi);
    this.eLo = g32(this.eLo);
    this.pHi = g32(this.pHi);
    this.pLo = g32(this.pLo);
    const f = new Uint8Array(n);
    f.set(this.flg);
    this.flg = f;
    const l = new Int32Array(n);
    l.set(this.left);
    this.left = l;
    const r = new Int32Array(n);
    r.set(this.right);
    this.right = r;
    const h = new Int8Array(n);
    h.set(this.height);
    this.height = h;
  }

  private h(n: number): number {
    return n === NIL ? 0 : this.height[n]!;
  }
  private fix(n: number): void {
    this.height[n] = 1 + Math.max(this.h(this.left[n]!), this.h(this.right[n]!));
  }
  private rotRight(n: number): number {
    const l = this.left[n]!;
    this.left[n] = this.right[l]!;
    this.right[l] = n;
    this.fix(n);
    this.fix(l);
    return l;
  }
  private rotLeft(n: number): number {
    const r = this.right[n]!;
    this.right[n] = this.left[r]!;
    this.left[r] = n;
    this.fix(n);
    this.fix(r);
    return r;
  }
  private balance(n: number): number {
    this.fix(n);
    const bf = this.h(this.left[n]!) - this.h(this.right[n]!);
    if (bf > 1) {
      if (this.h(this.left[this.left[n]!]!) < this.h(this.right[this.left[n]!]!)) this.left[n] = this.rotLeft(this.left[n]!);
      return this.rotRight(n);
    }
    if (bf < -1) {
      if (this.h(this.right[this.right[n]!]!) < this.h(this.left[this.right[n]!]!)) this.right[n] = this.rotRight(this.right[n]!);
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
    this.sHi[n] = s.hi;
    this.sLo[n] = s.lo;
    this.eHi[n] = e.hi;
    this.eLo[n] = e.lo;
    this.pHi[n] = p.hi;
    this.pLo[n] = p.lo;
    this.flg[n] = flags;
    this.left[n] = this.right[n] = NIL;
    this.height[n] = 1;
    this.root = this.insertAt(this.root, n);
    this.size++;
  }

  private insertAt(t: number, n: number): number {
    if (t === NIL) return n;
    if (cmp(this.sHi[n]!, this.sLo[n]!, this.sHi[t]!, this.sLo[t]!) < 0) this.left[t] = this.insertAt(this.left[t]!, n);
    else this.right[t] = this.insertAt(this.right[t]!, n);
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
    const c = cmp(hi, lo, this.sHi[t]!, this.sLo[t]!);
    if (c < 0) this.left[t] = this.removeAt(this.left[t]!, hi, lo);
    else if (c > 0) this.right[t] = this.removeAt(this.right[t]!, hi, lo);
    else {
      this.size--;
      this.free.push(t);
      const l = this.left[t]!;
      const r = this.right[t]!;
      if (l === NIL) return r;
      if (r === NIL) return l;
      // Replace by the smallest node of the right subtree.
      let m = r;
      while (this.left[m]! !== NIL) m = this.left[m]!;
      this.right[m] = this.detachMin(r);
      this.left[m] = l;
      return this.balance(m);
    }
    return this.balance(t);
  }

  private detachMin(t: number): number {
    if (this.left[t]! === NIL) return this.right[t]!;
    this.left[t] = this.detachMin(this.left[t]!);
    return this.balance(t);
  }

  /** The node with the greatest start <= (hi, lo), or -1. */
  private floor(hi: number, lo: number): number {
    let t = this.root;
    let best = NIL;
    while (t !== NIL) {
      if (cmp(this.sHi[t]!, this.sLo[t]!, hi, lo) <= 0) {
        best = t;
        t = this.right[t]!;
      } else {
        t = this.left[t]!;
      }
    }
    return best;
  }

  /** The node with the smallest start > (hi, lo), or -1. */
  private higher(hi: number, lo: number): number {
    let t = this.root;
    let best = NIL;
    while (t !== NIL) {
      if (cmp(this.sHi[t]!, this.sLo[t]!, hi, lo) > 0) {
        best = t;
        t = this.left[t]!;
      } else {
        t = this.right[t]!;
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
    if (n === NIL || cmp(this.eHi[n]!, this.eLo[n]!, hi, lo) < 0) return NIL;
    return n;
  }

  /** find() for an address below 2^53. */
  findNumber(addr: number): number {
    const hi = Math.floor(addr / TWO32);
    return this.find(hi, addr - hi * TWO32);
  }

  /** Start, phys and end of a node as numbers (exact below 2^53; callers check with bigint when larger). */
  startOf(n: number): number {
    return this.sHi[n]! * TWO32 + this.sLo[n]!;
  }
  endOf(n: number): number {
    return this.eHi[n]! * TWO32 + this.eLo[n]!;
  }
  physOf(n: number): number {
    return this.pHi[n]! * TWO32 + this.pLo[n]!;
  }
  flagsOf(n: number): number {
    return this.flg[n]!;
  }
  /** Whether the node's values all fit below 2^53. */
  isNumeric(n: number): boolean {
    return this.eHi[n]! < 0x20_0000 && this.pHi[n]! + (this.eHi[n]! - this.sHi[n]!) < 0x20_0000;
  }

  private mapping(n: number): Mapping {
    return {
      start: big(this.sHi[n]!, this.sLo[n]!), end: big(this.eHi[n]!, this.eLo[n]!),
      phys: big(this.pHi[n]!, this.pLo[n]!), flags: this.flg[n]!,
    };
  }

  /** The mappings overlapping [start, end], in address order (QEMU's interval_cmp lookups). */
  overlapping(start: bigint, end: bigint): Mapping[] {
    const s = u64(start);
    const e = u64(end);
    const out: Mapping[] = [];
    let n = this.floor(s.hi, s.lo);
    if (n === NIL || cmp(this.eHi[n]!, this.eLo[n]!, s.hi, s.lo) < 0) n = this.higher(s.hi, s.lo);
    while (n !== NIL && cmp(this.sHi[n]!, this.sLo[n]!, e.hi, e.lo) <= 0) {
      out.push(this.mapping(n));
      n = this.higher(this.sHi[n]!, this.sLo[n]!);
    }
    return out;
  }

  /** Every mapping in address order. */
  all(): Mapping[] {
    const out: Mapping[] = [];
    const walk = (t: number): void => {
      if (t === NIL) return;
      walk(this.left[t]!);
      out.push(this.mapping(t));
      walk(this.right[t]!);
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
