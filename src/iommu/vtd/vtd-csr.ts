import { DMAR_REG_SIZE } from './vtd-regs.js';

/**
 * The VT-d register file as QEMU keeps it (hw/i386/intel_iommu.c
 * vtd_define_*, vtd_set_*, vtd_get_*): per byte a value, a write mask
 * (bits the guest may change), a write-1-to-clear mask and a write-only
 * mask (bits that read as 0). 64-bit registers are two u32 halves, low
 * first; the masks act bitwise, so a 64-bit write is two 32-bit writes.
 */
export class VtdCsr {
  private readonly csr: DataView;
  private readonly wmask: DataView;
  private readonly w1cmask: DataView;
  private readonly womask: DataView;

  constructor() {
    const n = DMAR_REG_SIZE + 8;
    this.csr = new DataView(new ArrayBuffer(n));
    this.wmask = new DataView(new ArrayBuffer(n));
    this.w1cmask = new DataView(new ArrayBuffer(n));
    this.womask = new DataView(new ArrayBuffer(n));
  }

  /** memset of every array (vtd_init). */
  clear(): void {
    for (const v of [this.csr, this.wmask, this.w1cmask, this.womask]) new Uint8Array(v.buffer).fill(0);
  }

  /** vtd_define_long: reset value, writable bits, RW1C bits. */
  defineLong(addr: number, val: number, wmask: number, w1c: number): void {
    this.csr.setUint32(addr, val >>> 0, true);
    this.wmask.setUint32(addr, wmask >>> 0, true);
    this.w1cmask.setUint32(addr, w1c >>> 0, true);
  }

  defineQuad(addr: number, lo: number, hi: number, wmaskLo: number, wmaskHi: number, w1cLo = 0, w1cHi = 0): void {
    this.defineLong(addr, lo, wmaskLo, w1cLo);
    this.defineLong(addr + 4, hi, wmaskHi, w1cHi);
  }

  /** vtd_define_long_wo: bits that read as 0. */
  defineWo(addr: number, mask: number): void {
    this.womask.setUint32(addr, mask >>> 0, true);
  }

  /** vtd_set_long: a guest write (writable bits replaced, RW1C bits written as 1 cleared). */
  setLong(addr: number, val: number): void {
    const old = this.csr.getUint32(addr, true);
    const w = this.wmask.getUint32(addr, true);
    const c = this.w1cmask.getUint32(addr, true);
    this.csr.setUint32(addr, (((old & ~w) | (val & w)) & ~(c & val)) >>> 0, true);
  }

  setQuad(addr: number, lo: number, hi: number): void {
    this.setLong(addr, lo);
    this.setLong(addr + 4, hi);
  }

  /** vtd_get_long: a guest read (write-only bits read as 0). */
  getLong(addr: number): number {
    return (this.csr.getUint32(addr, true) & ~this.womask.getUint32(addr, true)) >>> 0;
  }

  /** The raw value (the device's own view). */
  raw(addr: number): number {
    return this.csr.getUint32(addr, true);
  }

  setRaw(addr: number, val: number): void {
    this.csr.setUint32(addr, val >>> 0, true);
  }

  /** vtd_set_clear_mask_long: clear `clear`, set `set`; returns the new value. */
  update(addr: number, clear: number, set: number): number {
    const v = ((this.csr.getUint32(addr, true) & ~clear) | set) >>> 0;
    this.csr.setUint32(addr, v, true);
    return v;
  }

  /** A 64-bit raw value as a number (exact below 2^53; registers here are addresses or small fields). */
  rawQuad(addr: number): number {
    return this.raw(addr + 4) * 0x1_0000_0000 + this.raw(addr);
  }
}
