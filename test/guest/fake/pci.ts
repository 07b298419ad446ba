import type { MemoryRegion } from '../../../src/memory/index.js';
import type { PciConfigAccess } from '../../../src/guest/pci-core/config-access.js';
import type { FakeMachine, IoHandler } from './machine.js';

/** A capability body: bytes after the ID/next pair (or after the extended header), with its writable bits. */
export interface CapSpec {
  readonly id: number;
  readonly body: readonly number[];
  readonly wmask?: readonly number[];
}

export interface BarSpec {
  readonly index: number;
  readonly size: number;
  readonly kind: 'io' | 'mem32' | 'mem64';
  readonly prefetchable?: boolean;
  /** Mapped into the fake machine at the BAR address while memory decode is on. */
  readonly region?: MemoryRegion;
}

export interface FnSpec {
  readonly vendor: number;
  readonly device: number;
  readonly classCode?: number;
  readonly bridge?: boolean;
  readonly multifunction?: boolean;
  readonly bars?: readonly BarSpec[];
  readonly caps?: readonly CapSpec[];
  readonly extCaps?: readonly CapSpec[];
}

const le = (v: number, n: number): number[] => Array.from({ length: n }, (_, i) => (v >>> (i * 8)) & 0xff);
export const pcieCap = (type: number): CapSpec => ({ id: 0x10, body: [...le(0x2 | (type << 4), 2), ...new Array<number>(56).fill(0)] });
export const msiCap = (): CapSpec => ({ id: 0x05, body: [...le(0x0080, 2), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], wmask: [0x71, 0, 0xfc, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0] });
/** MSI-X with `n` vectors, table in BAR 1 at 0, PBA in BAR 1 at 0x800. */
export const msixCap = (n: number): CapSpec => ({ id: 0x11, body: [...le(n - 1, 2), ...le(1, 4), ...le(0x801, 4)], wmask: [0, 0xc0] });
export const vendorCap = (bytes: readonly number[]): CapSpec => ({ id: 0x09, body: [bytes.length + 3, ...bytes] });
export const acsCap = (capBits: number): CapSpec => ({ id: 0x000d, body: [...le(capBits, 2), 0, 0], wmask: [0, 0, capBits & 0xff, 0] });
export const atsCap = (): CapSpec => ({ id: 0x000f, body: [0, 0, 0, 0], wmask: [0, 0, 0x1f, 0x80] });
export const pasidCap = (width: number): CapSpec => ({ id: 0x001b, body: [0x06, width & 0x1f, 0, 0], wmask: [0, 0, 0x07, 0] });

export class FakeBus {
  readonly fns = new Map<number, FakeFn>();
  constructor(readonly bridge: FakeFn | undefined) {}
  get number(): number {
    return this.bridge ? this.bridge.cfg[0x19]! : 0;
  }
}

/** A PCI function's config space with write masks, BARs that size and decode, and capability lists. */
export class FakeFn {
  readonly cfg = new Uint8Array(4096);
  readonly wmask = new Uint8Array(4096);
  readonly child: FakeBus | undefined;
  readonly bars: readonly BarSpec[];
  parent!: FakeBus;
  devfn = 0;
  readonly mapped = new Map<number, number>();
  /** Called after a config write (device-specific registers such as the MCH's PCIEXBAR). */
  onWrite: ((off: number, size: number) => void) | undefined;

  constructor(readonly spec: FnSpec) {
    const c = this.cfg;
    const set = (off: number, v: number, n: number): void => le(v, n).forEach((b, i) => (c[off + i] = b));
    set(0, spec.vendor, 2);
    set(2, spec.device, 2);
    set(8, (spec.classCode ?? 0xff0000) << 8, 4);
    c[0x0e] = (spec.bridge ? 1 : 0) | (spec.multifunction ? 0x80 : 0);
    set(0x04, 0, 2);
    this.wmask[0x04] = 0x07;
    this.wmask[0x05] = 0x04;
    this.bars = spec.bars ?? [];
    for (const b of this.bars) {
      const off = 0x10 + b.index * 4;
      const flags = b.kind === 'io' ? 1 : (b.kind === 'mem64' ? 4 : 0) | (b.prefetchable ? 8 : 0);
      c[off] = flags;
      const mask = b.kind === 'io' ? (~(b.size - 1) & 0xfffffffc) : (~(b.size - 1) & 0xfffffff0);
      le(mask >>> 0, 4).forEach((v, i) => (this.wmask[off + i] = v));
      if (b.kind === 'mem64') for (let i = 4; i < 8; i++) this.wmask[off + i] = 0xff;
    }
    if (spec.bridge) {
      this.child = new FakeBus(this);
      for (const o of [0x18, 0x19, 0x1a]) this.wmask[o] = 0xff;
      c[0x1c] = 0x01;
      c[0x24] = 0x01;
      this.wmask[0x1c] = 0xf0;
      this.wmask[0x1d] = 0xf0;
      for (const o of [0x20, 0x22, 0x24, 0x26]) {
        this.wmask[o] = 0xf0;
        this.wmask[o + 1] = 0xff;
      }
      for (let o = 0x28; o < 0x34; o++) this.wmask[o] = 0xff;
    }
    const caps = spec.caps ?? [];
    if (caps.length) {
      c[0x06] = 0x10;
      c[0x34] = 0x40;
      let at = 0x40;
      caps.forEach((cap, i) => {
        const len = (2 + cap.body.length + 3) & ~3;
        c[at] = cap.id;
        c[at + 1] = i + 1 < caps.length ? at + len : 0;
        cap.body.forEach((b, j) => (c[at + 2 + j] = b));
        cap.wmask?.forEach((m, j) => (this.wmask[at + 2 + j] = m));
        at += len;
      });
    }
    const ext = spec.extCaps ?? [];
    let at = 0x100;
    ext.forEach((cap, i) => {
      const len = (4 + cap.body.length + 3) & ~3;
      const next = i + 1 < ext.length ? at + len : 0;
      set(at, cap.id | (1 << 16) | (next << 20), 4);
      cap.body.forEach((b, j) => (c[at + 4 + j] = b));
      cap.wmask?.forEach((m, j) => (this.wmask[at + 4 + j] = m));
      at += len;
    });
  }

  get busNumber(): number {
    return this.parent.number;
  }
  get rid(): number {
    return (this.busNumber << 8) | this.devfn;
  }

  read(off: number, size: number): number {
    let v = 0;
    for (let i = 0; i < size; i++) v |= this.cfg[off + i]! << (i * 8);
    return v >>> 0;
  }

  write(off: number, size: number, value: number): void {
    for (let i = 0; i < size; i++) {
      const m = this.wmask[off + i]!;
      const b = (value >>> (i * 8)) & 0xff;
      this.cfg[off + i] = (this.cfg[off + i]! & ~m) | (b & m);
    }
  }

  barAddress(b: BarSpec): number {
    const off = 0x10 + b.index * 4;
    const lo = this.read(off, 4) & (b.kind === 'io' ? 0xfffffffc : 0xfffffff0);
    const hi = b.kind === 'mem64' ? this.read(off + 4, 4) : 0;
    return hi * 0x1_0000_0000 + (lo >>> 0);
  }
}

/**
 * A fake PCI host: a root bus, bridges that route type 1 config cycles by
 * their secondary/subordinate numbers, Configuration Mechanism #1 on ports
 * 0xcf8-0xcff, and an ECAM window. Memory BARs are mapped into the machine
 * while memory decode is enabled.
 */
export class FakePciHost {
  readonly root = new FakeBus(undefined);
  private addr = 0;

  /** @param memCpuOffset CPU address = bus address + offset for memory BARs (pseries windows). */
  constructor(private readonly m: FakeMachine, private readonly memCpuOffset = 0) {}

  add(bus: FakeBus, slot: number, fn: number, f: FakeFn): FakeFn {
    f.parent = bus;
    f.devfn = (slot << 3) | fn;
    bus.fns.set(f.devfn, f);
    return f;
  }

  find(busNr: number, devfn: number, bus: FakeBus = this.root): FakeFn | undefined {
    if (bus.number === busNr) return bus.fns.get(devfn);
    for (const f of bus.fns.values()) {
      if (!f.child) continue;
      const sec = f.cfg[0x19]!;
      const sub = f.cfg[0x1a]!;
      if (sec !== 0 && busNr >= sec && busNr <= sub) return this.find(busNr, devfn, f.child);
    }
    return undefined;
  }

  read(bus: number, devfn: number, off: number, size: number): number {
    const f = this.find(bus, devfn);
    return f ? f.read(off, size) : size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
  }

  write(bus: number, devfn: number, off: number, size: number, v: number): void {
    const f = this.find(bus, devfn);
    if (!f) return;
    f.write(off, size, v);
    f.onWrite?.(off, size);
    this.remap(f);
  }

  private remap(f: FakeFn): void {
    const memOn = (f.cfg[4]! & 2) !== 0;
    for (const b of f.bars) {
      if (!b.region) continue;
      const want = memOn && f.barAddress(b) ? f.barAddress(b) + this.memCpuOffset : 0;
      const have = f.mapped.get(b.index) ?? 0;
      if (want === have) continue;
      if (have) this.m.root.removeSubregion(b.region);
      if (want) this.m.root.addSubregion(b.region, want, 1);
      f.mapped.set(b.index, want);
    }
  }

  cf8(): IoHandler {
    return {
      base: 0xcf8,
      size: 8,
      in: (p, size) => {
        if (p === 0xcf8 && size === 4) return this.addr >>> 0;
        if (p < 0xcfc || !(this.addr & 0x8000_0000)) return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
        return this.read((this.addr >>> 16) & 0xff, (this.addr >>> 8) & 0xff, (this.addr & 0xfc) + (p - 0xcfc), size);
      },
      out: (p, size, v) => {
        if (p === 0xcf8 && size === 4) this.addr = v >>> 0;
        else if (p >= 0xcfc && this.addr & 0x8000_0000) this.write((this.addr >>> 16) & 0xff, (this.addr >>> 8) & 0xff, (this.addr & 0xfc) + (p - 0xcfc), size, v);
      },
    };
  }

  /** ECAM MMIO region for buses [0, buses). */
  ecam(buses = 256): MemoryRegion {
    return this.m.mem.mmio('ecam', buses << 20, {
      read: (off, size) => this.read(off >>> 20, (off >>> 12) & 0xff, off & 0xfff, size),
      write: (off, size, v) => this.write(off >>> 20, (off >>> 12) & 0xff, off & 0xfff, size, v),
    });
  }

  /** Direct config access (no port), for unit tests of the IOMMU core. */
  access(): PciConfigAccess {
    return {
      name: 'fake',
      segment: 0,
      size: 4096,
      read: (b, d, o, s) => this.read(b, d, o, s),
      write: (b, d, o, s, v) => this.write(b, d, o, s, v),
    };
  }
}
