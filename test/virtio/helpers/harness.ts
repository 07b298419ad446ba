import { parseCmdline } from '../../../src/machine/cmdline.js';
import type { DeviceRegistry } from '../../../src/machine/device-registry.js';
import { Machine } from '../../../src/machine/machine.js';
import type { AddressSpace } from '../../../src/memory/address-space.js';
import { VirtioPciProxy } from '../../../src/virtio/pci/virtio-pci.js';

/**
 * A minimal virtio-pci driver for tests, written from the specification
 * (virtio 1.2 sections 3.1, 4.1.4, 2.7): it programs BAR 4, walks the
 * status sequence, sets up split queues in guest RAM and submits chains.
 * Tests use it to drive a device the way a guest does, through MMIO and
 * guest memory only.
 */
export const BAR4 = 0xfe000000;
export const COMMON = BAR4;
export const ISR = BAR4 + 0x1000;
export const DEVICE = BAR4 + 0x2000;
export const NOTIFY = BAR4 + 0x3000;

export interface QueueLayout {
  readonly desc: number;
  readonly avail: number;
  readonly used: number;
  readonly size: number;
}

export interface Segment {
  /** Bytes the device reads (out) or the length the device may write (in). */
  readonly data?: Uint8Array;
  readonly len?: number;
  readonly write?: boolean;
  readonly addr?: number;
}

export class VirtioHarness {
  readonly m: Machine;
  readonly dev: VirtioPciProxy;
  readonly as: AddressSpace;
  readonly queues: QueueLayout[] = [];
  private availIdx: number[] = [];
  private nextDesc: number[] = [];
  private bufTop = 0x400000;

  constructor(args: string, readonly slot = 2, registry?: DeviceRegistry, bus?: number) {
    this.m = Machine.create(parseCmdline(args.split(' ')).config, registry);
    this.as = this.m.systemAs;
    const dev = this.m.pciDevices().find((d) => d instanceof VirtioPciProxy && d.devfn === slot << 3 && (bus === undefined || d.bus.number === bus));
    if (!(dev instanceof VirtioPciProxy)) throw new Error(`no virtio-pci function at slot ${slot}`);
    this.dev = dev;
    this.mapBar();
  }

  /** Programs BAR 4 and enables memory decode and bus mastering (again after a system reset). */
  mapBar(): void {
    this.dev.configWrite(0x20, BAR4, 4);
    this.dev.configWrite(0x24, 0, 4);
    this.dev.configWrite(0x04, 0x6, 2);
  }

  r8(a: number): number {
    return this.as.read(a, 1).lo;
  }
  r16(a: number): number {
    return this.as.read(a, 2).lo;
  }
  r32(a: number): number {
    return this.as.read(a, 4).lo >>> 0;
  }
  w8(a: number, v: number): void {
    this.as.write(a, 1, v);
  }
  w16(a: number, v: number): void {
    this.as.write(a, 2, v);
  }
  w32(a: number, v: number): void {
    this.as.write(a, 4, v >>> 0);
  }
  w64(a: number, v: number): void {
    this.as.write(a, 8, v % 2 ** 32, Math.floor(v / 2 ** 32));
  }
  bytes(a: number, n: number): Uint8Array {
    const b = new Uint8Array(n);
    this.as.readBytes(a, b);
    return b;
  }

  get status(): number {
    return this.r8(COMMON + 20);
  }
  setStatus(v: number): void {
    this.w8(COMMON + 20, v);
  }
  deviceFeatures(): bigint {
    this.w32(COMMON + 0, 0);
    const lo = BigInt(this.r32(COMMON + 4));
    this.w32(COMMON + 0, 1);
    return (BigInt(this.r32(COMMON + 4)) << 32n) | lo;
  }
  writeFeatures(f: bigint): void {
    this.w32(COMMON + 8, 0);
    this.w32(COMMON + 12, Number(f & 0xffffffffn));
    this.w32(COMMON + 8, 1);
    this.w32(COMMON + 12, Number(f >> 32n));
  }

  /** Reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK; returns the status read back. */
  negotiate(features: bigint): number {
    this.setStatus(0);
    this.setStatus(1);
    this.setStatus(3);
    this.writeFeatures(features);
    this.setStatus(0xb);
    return this.status;
  }

  /** Queue setup as section 4.1.5.1.3 says; returns the queue's layout. */
  setupQueue(i: number, size = 16, base = 0x100000 + i * 0x10000): QueueLayout {
    this.w16(COMMON + 22, i);
    this.w16(COMMON + 24, size);
    const q = { desc: base, avail: base + 0x1000, used: base + 0x2000, size };
    this.as.writeBytes(base, new Uint8Array(0x3000));
    this.w32(COMMON + 32, q.desc);
    this.w32(COMMON + 36, 0);
    this.w32(COMMON + 40, q.avail);
    this.w32(COMMON + 44, 0);
    this.w32(COMMON + 48, q.used);
    this.w32(COMMON + 52, 0);
    this.w16(COMMON + 28, 1);
    this.queues[i] = q;
    this.availIdx[i] = 0;
    this.nextDesc[i] = 0;
    return q;
  }

  /** Full initialisation: features, two queues, DRIVER_OK. */
  init(features: bigint, queues = 2): number {
    const s = this.negotiate(features);
    for (let i = 0; i < queues; i++) this.setupQueue(i);
    this.setStatus(s | 4);
    return this.status;
  }

  alloc(n: number): number {
    const a = this.bufTop;
    this.bufTop += Math.ceil(n / 64) * 64 + 64;
    return a;
  }

  writeDesc(table: number, i: number, addr: number, len: number, flags: number, next: number): void {
    const at = table + i * 16;
    this.w64(at, addr);
    this.w32(at + 8, len);
    this.w16(at + 12, flags);
    this.w16(at + 14, next);
  }

  /** Puts a chain in the descriptor table and returns its head (descriptors used round-robin). */
  chain(qi: number, segs: readonly Segment[]): number {
    const q = this.queues[qi]!;
    const head = this.nextDesc[qi]!;
    segs.forEach((s, k) => {
      const len = s.data?.length ?? s.len ?? 0;
      const addr = s.addr ?? this.alloc(len);
      if (s.data && s.addr === undefined) this.as.writeBytes(addr, s.data);
      const i = (head + k) % q.size;
      this.writeDesc(q.desc, i, addr, len, (k < segs.length - 1 ? 1 : 0) | (s.write ? 2 : 0), (i + 1) % q.size);
    });
    this.nextDesc[qi] = (head + segs.length) % q.size;
    return head;
  }

  /** Makes head available and notifies. */
  kick(qi: number, head: number, notify = true): void {
    const q = this.queues[qi]!;
    this.w16(q.avail + 4 + (this.availIdx[qi]! % q.size) * 2, head);
    this.availIdx[qi] = (this.availIdx[qi]! + 1) & 0xffff;
    this.w16(q.avail + 2, this.availIdx[qi]!);
    if (notify) this.w16(NOTIFY + qi * 4, qi);
  }

  usedIdx(qi: number): number {
    return this.r16(this.queues[qi]!.used + 2);
  }
  usedElem(qi: number, n: number): { id: number; len: number } {
    const q = this.queues[qi]!;
    const at = q.used + 4 + (n % q.size) * 8;
    return { id: this.r32(at), len: this.r32(at + 4) };
  }

  /** A readable part and a writable part of `wo` bytes; returns the used length and the writable bytes. */
  submit(qi: number, ro: Uint8Array, wo: number): { used: number; out: Uint8Array; usedIdx: number } {
    const outAddr = this.alloc(wo);
    this.as.writeBytes(outAddr, new Uint8Array(wo).fill(0xaa));
    const before = this.usedIdx(qi);
    const head = this.chain(qi, [{ data: ro }, { len: wo, write: true, addr: outAddr }]);
    this.kick(qi, head);
    const idx = this.usedIdx(qi);
    const used = idx !== before ? this.usedElem(qi, before).len : -1;
    return { used, out: this.bytes(outAddr, wo), usedIdx: idx };
  }
}
