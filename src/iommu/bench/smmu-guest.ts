import type { AddressSpace } from '../../memory/index.js';

const TWO32 = 0x1_0000_0000;

/** A stage-1 CD as a guest fills it (IHI 0070 5.4). */
export interface GuestCd {
  readonly asid: number;
  readonly ttb0: number;
  /** T0SZ (default 16: 48-bit input). */
  readonly tsz?: number;
  /** 12, 14 or 16 (default 12). */
  readonly granule?: number;
  /** CD.IPS (default 4: 44 bits). */
  readonly ips?: number;
  /** CD.R: record faults (default true). */
  readonly r?: boolean;
  /** CD.EPD0 (default false). */
  readonly epd0?: boolean;
}

/** TG0 encodings: 4K 0, 64K 1, 16K 2. */
const TG0: Readonly<Record<number, number>> = { 12: 0, 16: 1, 14: 2 };

/** The two u32 words of a CD's first 8 bytes, and of its TTB0, for a guest's CD. */
export function cdWords(c: GuestCd): number[] {
  const w0 = ((c.tsz ?? 16) | (TG0[c.granule ?? 12]! << 6) | (1 << 30) | (c.epd0 ? 1 << 14 : 0) | (1 << 31)) >>> 0;
  const w1 = ((c.ips ?? 4) | (1 << 9) | (c.r === false ? 0 : 1 << 13) | (1 << 14) | (c.asid << 16)) >>> 0;
  const hi = Math.floor(c.ttb0 / TWO32);
  return [w0, w1, (c.ttb0 - hi * TWO32) >>> 0, hi];
}

/**
 * A minimal SMMUv3 bring-up through the guest-visible interface (the
 * register window and structures in guest memory), as QEMU's libqos
 * qos-smmuv3 does it: command and event queues, a linear stream table,
 * STEs and CDs, commands with CMD_SYNC. For the bench and tests; the
 * synthetic guest's full driver is src/guest/drivers/smmuv3/.
 */
export class SmmuGuest {
  readonly strtab: number;
  readonly cmdq: number;
  readonly eventq: number;
  private prod = 0;

  constructor(private readonly mem: AddressSpace, readonly base: number, area: number, readonly log2sids = 8,
    readonly cmdqLog2 = 8, readonly eventqLog2 = 8) {
    this.strtab = area;
    this.cmdq = area + 2 ** (log2sids + 6);
    this.eventq = this.cmdq + 16 * 2 ** cmdqLog2;
    mem.writeBytes(area, new Uint8Array(this.eventq + 32 * 2 ** eventqLog2 - area));
  }

  /** Bytes of guest memory the structures take from `area`. */
  get size(): number {
    return this.eventq + 32 * 2 ** this.eventqLog2 - this.strtab;
  }

  w32(off: number, v: number): void {
    this.mem.write(this.base + off, 4, v >>> 0);
  }
  r32(off: number): number {
    return this.mem.read(this.base + off, 4).lo >>> 0;
  }
  w64(off: number, v: number): void {
    this.mem.write(this.base + off, 8, v % TWO32, Math.floor(v / TWO32));
  }
  st64(addr: number, lo: number, hi = 0): void {
    this.mem.write(addr, 8, lo >>> 0, hi >>> 0);
  }

  /** Queues and stream table programmed, then CR0 = SMMUEN | EVENTQEN | CMDQEN (0xD). */
  enable(cr0 = 0xd): void {
    this.w32(0x20, 0);
    this.w64(0x90, this.cmdq + this.cmdqLog2);
    this.w32(0x98, 0);
    this.w32(0x9c, 0);
    this.w64(0xa0, this.eventq + this.eventqLog2);
    this.w32(0xa8, 0);
    this.w32(0xac, 0);
    this.w32(0x88, this.log2sids);
    this.w64(0x80, this.strtab);
    this.w32(0x20, cr0);
  }

  /**
   * STE of `sid` (IHI 0070 5.2): Config 0b101 (stage 1) with S1ContextPtr
   * `cd`, 0b100 bypass, 0b000 abort, or V = 0; S1Fmt [5:4], S1CDMax
   * [63:59], S1DSS [65:64], EATS [93:92].
   */
  ste(sid: number, kind: 's1' | 'bypass' | 'abort' | 'invalid', o: { cd?: number; s1fmt?: number; s1cdmax?: number; s1dss?: number; eats?: number } = {}): void {
    const at = this.strtab + sid * 64;
    const cd = o.cd ?? 0;
    const config = kind === 's1' ? 5 : kind === 'bypass' ? 4 : 0;
    const w0 = kind === 'invalid' ? 0 : (1 | (config << 1) | ((o.s1fmt ?? 0) << 4) | ((cd % TWO32) & 0xffffffc0)) >>> 0;
    const w1 = ((Math.floor(cd / TWO32) & 0xffffff) | ((o.s1cdmax ?? 0) << 27)) >>> 0;
    this.st64(at, w0, w1);
    this.st64(at + 8, ((o.s1dss ?? 0) | ((o.eats ?? 0) << 28)) >>> 0, 0);
  }

  /** Writes a CD at `addr`. */
  cd(addr: number, c: GuestCd): void {
    const [w0, w1, t0, t1] = cdWords(c);
    this.mem.writeBytes(addr, new Uint8Array(64));
    this.st64(addr, w0!, w1!);
    this.st64(addr + 8, t0!, t1!);
  }

  /** Appends commands (four words each) and publishes them with CMDQ_PROD. */
  cmd(...cmds: readonly number[][]): void {
    const size = 2 ** this.cmdqLog2;
    for (const c of cmds) {
      const at = this.cmdq + (this.prod % size) * 16;
      this.st64(at, c[0] ?? 0, c[1] ?? 0);
      this.st64(at + 8, c[2] ?? 0, c[3] ?? 0);
      this.prod = (this.prod + 1) % (2 * size);
    }
    this.w32(0x98, this.prod);
  }

  /** CMD_SYNC (CS = 0). */
  static readonly SYNC = [0x46, 0, 0, 0];
  static cfgiAll(): number[] {
    return [0x04, 0, 31, 0];
  }
  static cfgiSte(sid: number): number[] {
    return [0x03, sid, 1, 0];
  }
  static tlbiNhAll(): number[] {
    return [0x10, 0, 0, 0];
  }
  /** TLBI_NH_VA (asid) or NH_VAA (asid null) at `addr`; with `tg` (granule log2) a range of (num+1) << scale pages. */
  static tlbiVa(asid: number | null, addr: number, range?: { granule: number; num: number; scale: number }): number[] {
    const hi = Math.floor(addr / TWO32);
    const lo = (addr - hi * TWO32) & 0xfffff000;
    const tg = range ? (range.granule - 10) / 2 : 0;
    const w0 = (asid === null ? 0x13 : 0x12) | (range ? (range.num << 12) | (range.scale << 20) : 0);
    return [w0, asid === null ? 0 : asid << 16, (lo | (tg << 10) | 1) >>> 0, hi];
  }
  static atcInv(sid: number, addr: number, size: number, ssid?: number): number[] {
    const hi = Math.floor(addr / TWO32);
    const w0 = (0x40 | (ssid !== undefined ? (1 << 11) | (ssid << 12) : 0)) >>> 0;
    return [w0, sid, (((addr - hi * TWO32) & 0xfffff000) | size) >>> 0, hi];
  }

  /** The event records between EVENTQ_CONS and EVENTQ_PROD (8 words each); CONS is moved to PROD. */
  drainEvents(): Uint32Array[] {
    const out: Uint32Array[] = [];
    const size = 2 ** this.eventqLog2;
    const prod = this.r32(0xa8);
    let cons = this.r32(0xac);
    const mask = 2 * size - 1;
    while ((cons & mask) !== (prod & mask)) {
      const at = this.eventq + (cons % size) * 32;
      const w = new Uint32Array(8);
      for (let i = 0; i < 8; i++) w[i] = this.mem.read(at + i * 4, 4).lo >>> 0;
      out.push(w);
      cons = (cons + 1) & mask;
    }
    this.w32(0xac, cons);
    return out;
  }
}
