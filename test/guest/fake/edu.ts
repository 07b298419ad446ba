import type { AddressSpace, MemoryRegion } from '../../../src/memory/index.js';
import type { Timer } from '../../../src/base/clock.js';
import { dmaAccessObserver, type DmaObserver } from '../../../src/guest/oracle/observation.js';
import { FakeFn, msiCap, pasidCap, pcieCap } from './pci.js';
import type { FakeMachine } from './machine.js';

/**
 * A fake of QEMU's edu (hw/misc/edu.c) as far as the guest uses it: ID,
 * liveness, and the DMA engine (SRC/DST/COUNT/CMD, 4096-byte buffer at
 * 0x40000, a timer 100 ms after RUN, addresses masked to 28 bits, IOMMU
 * faults invisible to the device). Its DMA goes through its own bus-master
 * address space with the requester ID it currently has.
 */
export class FakeEdu {
  readonly fn: FakeFn;
  readonly region: MemoryRegion;
  readonly buf = new Uint8Array(4096);
  readonly dma = { src: 0, dst: 0, cnt: 0, cmd: 0 };
  liveness = 0;
  irqStatus = 0;
  readonly timer: Timer;
  readonly log: string[] = [];
  bm!: AddressSpace;
  observer: DmaObserver | undefined;

  constructor(m: FakeMachine, readonly dmaMask = 2 ** 28 - 1, pasid = false, bigEndian = false) {
    this.region = m.mem.mmio('edu-mmio', 1 << 20, {
      read: (off, size) => this.read(off, size),
      write: (off, size, v) => this.write(off, size, v, 0),
      read64: (off) => {
        const v = this.reg64(off);
        return { lo: v % 2 ** 32, hi: Math.floor(v / 2 ** 32) };
      },
      write64: (off, lo, hi) => this.write(off, 8, lo, hi),
      valid: { min: 4, max: 8 },
      impl: { min: 4, max: 8 },
      // QEMU's edu is DEVICE_NATIVE_ENDIAN: big-endian on ppc64 (pseries).
      endianness: bigEndian ? 'big' : 'little',
    });
    this.fn = new FakeFn({ vendor: 0x1234, device: 0x11e8, classCode: 0x00ff00, bars: [{ index: 0, size: 1 << 20, kind: 'mem32', region: this.region }],
      caps: pasid ? [pcieCap(0), msiCap()] : [msiCap()], ...(pasid ? { extCaps: [pasidCap(8)] } : {}) });
    this.timer = m.clock.timer(() => this.runDma(), 'edu-dma');
  }

  private reg64(off: number): number {
    switch (off) {
      case 0x80: return this.dma.src;
      case 0x88: return this.dma.dst;
      case 0x90: return this.dma.cnt;
      case 0x98: return this.dma.cmd;
      default: return 0;
    }
  }

  private read(off: number, size: number): number {
    if (off < 0x80 && size !== 4) return 0xffffffff;
    switch (off) {
      case 0x00: return 0x010000ed;
      case 0x04: return this.liveness >>> 0;
      case 0x24: return this.irqStatus;
      default: return off >= 0x80 ? this.reg64(off) % 2 ** 32 : 0;
    }
  }

  private write(off: number, size: number, lo: number, hi: number): void {
    const v = lo >>> 0;
    const val = hi * 2 ** 32 + (lo >>> 0);
    if (off < 0x80 && size !== 4) return;
    if (off === 0x04) this.liveness = ~v >>> 0;
    else if (off === 0x64) this.irqStatus &= ~v;
    else if (!(this.dma.cmd & 1)) {
      if (off === 0x80) this.dma.src = val;
      else if (off === 0x88) this.dma.dst = val;
      else if (off === 0x90) this.dma.cnt = val;
      else if (off === 0x98) {
        this.dma.cmd = val;
        if (val & 1) this.timer.modIn(100_000_000);
      }
    }
  }

  private clamp(a: number): number {
    return a % (this.dmaMask + 1);
  }

  private runDma(): void {
    const { cnt } = this.dma;
    const toRam = (this.dma.cmd & 2) !== 0;
    const devAddr = (toRam ? this.dma.src : this.dma.dst) - 0x40000;
    if (devAddr < 0 || devAddr + cnt > 4096) {
      this.log.push(`DMA range ${devAddr} +${cnt} outside the buffer`);
    } else {
      this.bm.observer = this.observer ? dmaAccessObserver(this.observer, { requesterId: this.fn.rid, device: 'edu' }) : undefined;
      const attrs = { requesterId: this.fn.rid };
      if (toRam) this.bm.writeBytes(this.clamp(this.dma.dst), this.buf.slice(devAddr, devAddr + cnt), attrs);
      else {
        const tmp = new Uint8Array(cnt);
        this.bm.readBytes(this.clamp(this.dma.src), tmp, attrs);
        this.buf.set(tmp, devAddr);
      }
    }
    this.dma.cmd &= ~1;
    if (this.dma.cmd & 4) this.irqStatus |= 0x100;
  }
}
