import type { Timer } from '../base/clock.js';
import type { Word64 } from '../memory/word64.js';
import type { PCIDeviceIdentity } from './device.js';
import { PCIDevice } from './device.js';
import { MsiCapability } from './msi.js';
import { PCI_BASE_ADDRESS_SPACE_MEMORY, PCI_CLASS_OTHERS, PCI_INTERRUPT_PIN, PCI_VENDOR_ID_QEMU } from './regs.js';

// Register map of QEMU's educational device (hw/misc/edu.c, docs/specs/edu.rst).
const EDU_ID = 0x010000ed;
const FACT_IRQ = 0x00000001;
const DMA_IRQ = 0x00000100;
const DMA_START = 0x40000n;
const DMA_SIZE = 4096n;
const EDU_STATUS_COMPUTING = 0x01;
const EDU_STATUS_IRQFACT = 0x80;
const EDU_DMA_RUN = 0x1n;
const EDU_DMA_TO_PCI = 0x2n;
const EDU_DMA_IRQ = 0x4n;
const U64 = (1n << 64n) - 1n;
const MS = 1_000_000;

const hex16 = (v: bigint): string => '0x' + BigInt.asUintN(64, v).toString(16).padStart(16, '0');

/**
 * QEMU's `edu` (1234:11e8 rev 0x10, class 0x00ff) as QEMU 7.2 models it:
 * BAR0 is 1 MiB of registers (below 0x80 only 4-byte accesses, from 0x80 4
 * or 8 bytes, anything else reads all-ones): 0x00 ID, 0x04 liveness (reads
 * back the inverse), 0x08 factorial, 0x20 status, 0x24 IRQ status, 0x60
 * raise, 0x64 acknowledge, 0x80/0x88/0x90/0x98 DMA source, destination,
 * count, command. A DMA command runs 100 ms of virtual time later through
 * the bus-master address space (so through an IOMMU when one is attached);
 * addresses are masked by `dma_mask` (28 bits by default); the 4 KiB buffer
 * sits at 0x40000. One MSI vector, else INTx pin A.
 *
 * QEMU computes the factorial on a thread so that drivers must poll the
 * status register; viommu computes it at once on the write (COMPUTING is
 * never seen set), which a correctly polling driver cannot tell apart.
 * A transfer outside the buffer is logged with QEMU's text and not
 * performed (QEMU 7.2 stops the machine with hw_error there; later QEMU
 * logs and overruns its buffer).
 */
export class Edu extends PCIDevice {
  readonly typeName: string = 'edu';
  readonly identity: PCIDeviceIdentity = { vendorId: PCI_VENDOR_ID_QEMU, deviceId: 0x11e8, revision: 0x10, classId: PCI_CLASS_OTHERS };
  addr4 = 0;
  fact = 0;
  status = 0;
  irqStatus = 0;
  readonly dma = { src: 0n, dst: 0n, cnt: 0n, cmd: 0n };
  readonly dmaBuf = new Uint8Array(Number(DMA_SIZE));
  private timer: Timer | undefined;

  constructor(readonly dmaMask: bigint = (1n << 28n) - 1n) {
    super();
  }

  protected realizeDevice(): void {
    this.cs.set8(PCI_INTERRUPT_PIN, 1);
    MsiCapability.init(this, 0, 1, true, false);
    this.timer = this.ctx.clock.timer(() => this.dmaTimer(), 'edu-dma');
    const big = this.ctx.targetBigEndian;
    const mmio = this.ctx.mem.mmio('edu-mmio', 1 << 20, {
      read: (off, size) => Number(this.mmioRead(off, size) & 0xffffffffn),
      write: (off, size, value) => this.mmioWrite(off, size, BigInt(value >>> 0)),
      read64: (off): Word64 => {
        const v = this.mmioRead(off, 8);
        return { lo: Number(v & 0xffffffffn), hi: Number(v >> 32n) };
      },
      write64: (off, lo, hi) => this.mmioWrite(off, 8, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)),
      valid: { min: 4, max: 8 },
      impl: { min: 4, max: 8 },
      endianness: big ? 'big' : 'little',
    });
    this.registerBar(0, PCI_BASE_ADDRESS_SPACE_MEMORY, mmio);
  }

  override unrealize(): void {
    this.timer?.del();
    super.unrealize();
  }

  /**
   * Reset (PCI RST#) returns the function to its initial state, a DMA in
   * flight included. QEMU's edu has no reset handler: its DMA timer survives
   * system_reset and fires once the guest enables Bus Master again, writing
   * with the registers of before the reset (found by `viommu fuzz`, target
   * vtd). viommu cancels it; the buffer keeps its contents.
   */
  protected override deviceReset(): void {
    this.timer?.del();
    this.addr4 = 0;
    this.fact = 0;
    this.status = 0;
    this.irqStatus = 0;
    this.dma.src = this.dma.dst = this.dma.cnt = this.dma.cmd = 0n;
  }

  private get msiEnabled(): boolean {
    return this.msi?.enabled ?? false;
  }

  /** edu_raise_irq. */
  private raiseIrq(val: number): void {
    this.irqStatus = (this.irqStatus | val) >>> 0;
    if (!this.irqStatus) return;
    if (this.msiEnabled) this.msi!.notify(0);
    else this.setIrq(1);
  }

  /** edu_lower_irq. */
  private lowerIrq(val: number): void {
    this.irqStatus = (this.irqStatus & ~val) >>> 0;
    if (!this.irqStatus && !this.msiEnabled) this.setIrq(0);
  }

  private mmioRead(addr: number, size: number): bigint {
    if (addr < 0x80 && size !== 4) return U64;
    if (addr >= 0x80 && size !== 4 && size !== 8) return U64;
    switch (addr) {
      case 0x00: return BigInt(EDU_ID);
      case 0x04: return BigInt(this.addr4);
      case 0x08: return BigInt(this.fact);
      case 0x20: return BigInt(this.status);
      case 0x24: return BigInt(this.irqStatus);
      case 0x80: return this.dma.src;
      case 0x88: return this.dma.dst;
      case 0x90: return this.dma.cnt;
      case 0x98: return this.dma.cmd;
      default: return U64;
    }
  }

  private mmioWrite(addr: number, size: number, val: bigint): void {
    if (addr < 0x80 && size !== 4) return;
    if (addr >= 0x80 && size !== 4 && size !== 8) return;
    const v32 = Number(val & 0xffffffffn);
    switch (addr) {
      case 0x04:
        this.addr4 = ~v32 >>> 0;
        break;
      case 0x08:
        if (this.status & EDU_STATUS_COMPUTING) break;
        this.fact = factorial(v32);
        if (this.status & EDU_STATUS_IRQFACT) this.raiseIrq(FACT_IRQ);
        break;
      case 0x20:
        this.status = v32 & EDU_STATUS_IRQFACT ? this.status | EDU_STATUS_IRQFACT : this.status & ~EDU_STATUS_IRQFACT;
        break;
      case 0x60:
        this.raiseIrq(v32);
        break;
      case 0x64:
        this.lowerIrq(v32);
        break;
      case 0x80:
      case 0x88:
      case 0x90:
        if (this.dma.cmd & EDU_DMA_RUN) break;
        this.dma[addr === 0x80 ? 'src' : addr === 0x88 ? 'dst' : 'cnt'] = val;
        break;
      case 0x98:
        if (!(val & EDU_DMA_RUN) || this.dma.cmd & EDU_DMA_RUN) break;
        this.dma.cmd = val;
        // timer_mod(qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL) + 100) on a millisecond timer.
        this.timer!.mod((Math.floor(this.ctx.clock.now / MS) + 100) * MS);
        break;
    }
  }

  private log(text: string): void {
    this.ctx.log.err('edu', text);
  }

  /** edu_check_range: true when [start, start+size) lies in the buffer. */
  private checkRange(start: bigint, size: bigint): boolean {
    const end = BigInt.asUintN(64, start + size);
    const dmaEnd = DMA_START + DMA_SIZE;
    if (end >= start && start >= DMA_START && end <= dmaEnd) return true;
    this.log(`EDU: DMA range ${hex16(start)}-${hex16(end - 1n)} out of bounds (${hex16(DMA_START)}-${hex16(dmaEnd - 1n)})!`);
    return false;
  }

  /** edu_clamp_addr: QEMU 7.2 printf()s this line to its standard output. */
  private clamp(addr: bigint): bigint {
    const res = addr & this.dmaMask;
    if (res !== addr) {
      const text = `EDU: clamping DMA ${hex16(addr)} to ${hex16(res)}!`;
      this.ctx.log.warn('edu', text);
      this.ctx.console(text + '\n');
    }
    return res;
  }

  /** edu_dma_timer: the transfer, then RUN clears and the IRQ is raised if asked. */
  private dmaTimer(): void {
    const d = this.dma;
    if (!(d.cmd & EDU_DMA_RUN)) return;
    if (!(d.cmd & EDU_DMA_TO_PCI)) {
      if (this.checkRange(d.dst, d.cnt)) {
        const off = Number(d.dst - DMA_START);
        this.dmaRead(this.clamp(d.src), this.dmaBuf.subarray(off, off + Number(d.cnt)));
      }
    } else if (this.checkRange(d.src, d.cnt)) {
      const off = Number(d.src - DMA_START);
      this.dmaWrite(this.clamp(d.dst), this.dmaBuf.subarray(off, off + Number(d.cnt)));
    }
    d.cmd &= ~EDU_DMA_RUN;
    if (d.cmd & EDU_DMA_IRQ) this.raiseIrq(DMA_IRQ);
  }
}

/** The factorial in 32-bit arithmetic, as edu_fact_thread computes it. */
export function factorial(n: number): number {
  let ret = 1;
  // Past 33! the product holds 2^32 and stays 0, so the loop can stop there.
  for (let v = n >>> 0; v > 0 && ret !== 0; v--) ret = Math.imul(ret, v) >>> 0;
  return ret;
}
