/**
 * A growable byte array for building firmware blobs (QEMU's GArray with
 * build_append_int_noprefix): appends little-endian by default, big-endian
 * where a format says so (device trees, fw_cfg). 64-bit values are bigint
 * or non-negative numbers below 2^53; this is build-time code, not a hot path.
 */
export class ByteBuffer {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): number {
    const at = this.length;
    const need = at + n;
    if (need > this.buf.length) {
      let cap = this.buf.length * 2;
      while (cap < need) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    this.length = need;
    return at;
  }

  /** Appends an unsigned little-endian integer of `size` bytes (1, 2, 4, 8). */
  int(value: number | bigint, size: number): number {
    const at = this.reserve(size);
    this.setInt(at, value, size);
    return at;
  }

  u8(v: number): number { return this.int(v, 1); }
  u16(v: number): number { return this.int(v, 2); }
  u32(v: number): number { return this.int(v, 4); }
  u64(v: number | bigint): number { return this.int(v, 8); }

  /** Big-endian appends (FDT cells, fw_cfg structures). */
  be32(v: number): number {
    const at = this.reserve(4);
    this.view.setUint32(at, v >>> 0, false);
    return at;
  }

  be64(v: number | bigint): number {
    const at = this.reserve(8);
    this.view.setBigUint64(at, BigInt.asUintN(64, BigInt(v)), false);
    return at;
  }

  bytes(b: Uint8Array | readonly number[]): number {
    const at = this.reserve(b.length);
    this.buf.set(b, at);
    return at;
  }

  zeros(n: number): number {
    const at = this.reserve(n);
    this.buf.fill(0, at, at + n);
    return at;
  }

  /** ASCII text padded (or cut) to `size` bytes with `pad` (build_append_padded_str). */
  padded(text: string, size: number, pad = 0): number {
    const at = this.reserve(size);
    for (let i = 0; i < size; i++) this.buf[at + i] = i < text.length ? text.charCodeAt(i) & 0xff : pad;
    return at;
  }

  /** Appends zeros up to a multiple of `align`. */
  align(align: number): void {
    const rem = this.length % align;
    if (rem) this.zeros(align - rem);
  }

  setInt(at: number, value: number | bigint, size: number): void {
    if (size === 8) this.view.setBigUint64(at, BigInt.asUintN(64, BigInt(value)), true);
    else if (size === 4) this.view.setUint32(at, Number(value) >>> 0, true);
    else if (size === 2) this.view.setUint16(at, Number(value) & 0xffff, true);
    else if (size === 1) this.view.setUint8(at, Number(value) & 0xff);
    else throw new RangeError(`bad integer size ${size}`);
  }

  getInt(at: number, size: number): bigint {
    if (size === 8) return this.view.getBigUint64(at, true);
    if (size === 4) return BigInt(this.view.getUint32(at, true));
    if (size === 2) return BigInt(this.view.getUint16(at, true));
    return BigInt(this.view.getUint8(at));
  }

  setBe32(at: number, v: number): void {
    this.view.setUint32(at, v >>> 0, false);
  }

  byteAt(at: number): number {
    return this.buf[at]!;
  }

  setByte(at: number, v: number): void {
    this.buf[at] = v & 0xff;
  }

  /** A copy of the contents. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }

  /** A view of the contents (valid until the next append). */
  view8(start = 0, end = this.length): Uint8Array {
    return this.buf.subarray(start, end);
  }
}
