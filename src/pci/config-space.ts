/**
 * A function's configuration space with QEMU's per-byte masks
 * (hw/pci/pci.c: config, wmask, w1cmask, cmask, used): `wmask` bits are
 * guest-writable, `w1cmask` bits clear when the guest writes 1, `cmask`
 * marks bytes checked on migration (kept for fidelity), `used` marks bytes
 * that belong to a capability. 256 bytes for conventional PCI, 4096 for
 * PCIe. All multi-byte values are little-endian (PCI 3.0 section 6.1).
 */
export class ConfigSpace {
  readonly config: Uint8Array;
  readonly wmask: Uint8Array;
  readonly w1cmask: Uint8Array;
  readonly cmask: Uint8Array;
  readonly used: Uint8Array;

  constructor(readonly size: number) {
    this.config = new Uint8Array(size);
    this.wmask = new Uint8Array(size);
    this.w1cmask = new Uint8Array(size);
    this.cmask = new Uint8Array(size);
    this.used = new Uint8Array(size);
  }

  // Little-endian accessors over any of the arrays (pci_get_* / pci_set_*).
  static get8(a: Uint8Array, off: number): number {
    return a[off]!;
  }
  static get16(a: Uint8Array, off: number): number {
    return a[off]! | (a[off + 1]! << 8);
  }
  static get32(a: Uint8Array, off: number): number {
    return (a[off]! | (a[off + 1]! << 8) | (a[off + 2]! << 16) | (a[off + 3]! << 24)) >>> 0;
  }
  static set8(a: Uint8Array, off: number, v: number): void {
    a[off] = v & 0xff;
  }
  static set16(a: Uint8Array, off: number, v: number): void {
    a[off] = v & 0xff;
    a[off + 1] = (v >>> 8) & 0xff;
  }
  static set32(a: Uint8Array, off: number, v: number): void {
    a[off] = v & 0xff;
    a[off + 1] = (v >>> 8) & 0xff;
    a[off + 2] = (v >>> 16) & 0xff;
    a[off + 3] = (v >>> 24) & 0xff;
  }

  get8(off: number): number {
    return this.config[off]!;
  }
  get16(off: number): number {
    return ConfigSpace.get16(this.config, off);
  }
  get32(off: number): number {
    return ConfigSpace.get32(this.config, off);
  }
  set8(off: number, v: number): void {
    this.config[off] = v & 0xff;
  }
  set16(off: number, v: number): void {
    ConfigSpace.set16(this.config, off, v);
  }
  set32(off: number, v: number): void {
    ConfigSpace.set32(this.config, off, v);
  }
  /** u64 as two halves at off (lo) and off+4 (hi). */
  set64(off: number, lo: number, hi: number): void {
    this.set32(off, lo);
    this.set32(off + 4, hi);
  }

  /** Reads `len` (1..4) bytes at `off` as a little-endian number. */
  read(off: number, len: number): number {
    let v = 0;
    for (let i = 0; i < len; i++) v |= this.config[off + i]! << (8 * i);
    return v >>> 0;
  }

  /**
   * pci_default_write_config's byte loop: writable bits take the new value,
   * then write-1-to-clear bits that the value sets are cleared.
   */
  maskedWrite(off: number, val: number, len: number): void {
    for (let i = 0; i < len; i++, val >>>= 8) {
      const b = val & 0xff;
      const w = this.wmask[off + i]!;
      const c = this.w1cmask[off + i]!;
      let cur = (this.config[off + i]! & ~w) | (b & w);
      cur &= ~(b & c);
      this.config[off + i] = cur & 0xff;
    }
  }

  // Bit helpers on 16/32-bit fields of a given array (pci_*_test_and_set_mask).
  static setBits16(a: Uint8Array, off: number, mask: number): number {
    const old = ConfigSpace.get16(a, off);
    ConfigSpace.set16(a, off, old | mask);
    return old & mask;
  }
  static clearBits16(a: Uint8Array, off: number, mask: number): number {
    const old = ConfigSpace.get16(a, off);
    ConfigSpace.set16(a, off, old & ~mask);
    return old & mask;
  }
  static setBits32(a: Uint8Array, off: number, mask: number): number {
    const old = ConfigSpace.get32(a, off);
    ConfigSpace.set32(a, off, (old | mask) >>> 0);
    return (old & mask) >>> 0;
  }
  static clearBits32(a: Uint8Array, off: number, mask: number): number {
    const old = ConfigSpace.get32(a, off);
    ConfigSpace.set32(a, off, (old & ~mask) >>> 0);
    return (old & mask) >>> 0;
  }
}

/** ranges_overlap(first1, len1, first2, len2) from QEMU's qemu/range.h. */
export function rangesOverlap(a: number, alen: number, b: number, blen: number): boolean {
  return a < b + blen && b < a + alen;
}

/** range_covers_byte(offset, len, byte). */
export function rangeCoversByte(off: number, len: number, byte: number): boolean {
  return off <= byte && byte < off + len;
}
