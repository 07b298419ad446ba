import { dmaBitMask, type GuestDevice } from '../device.js';
import { dmaMappingError, type DmaDirection } from '../dma-ops.js';
import { EIO, ENODEV, ENOMEM, ETIMEDOUT } from '../errno.js';
import { cpuBigEndian, NativeMmio } from '../native-mmio.js';
import type { GuestKernel } from '../kernel.js';
import { pciEnableDevice } from '../pci-core/enumerate.js';
import type { PciDriver } from './driver-core.js';

/**
 * QEMU's educational device, from docs/specs/edu.txt (QEMU 7.2): PCI
 * 1234:11e8, BAR0 1 MiB of MMIO. Registers below 0x80 take 4-byte accesses,
 * from 0x80 also 8-byte ones (a 4-byte write only sets the low half).
 */
export const EDU_VENDOR = 0x1234;
export const EDU_DEVICE = 0x11e8;
export const EDU_ID = 0x00;
export const EDU_LIVENESS = 0x04;
export const EDU_FACTORIAL = 0x08;
export const EDU_STATUS = 0x20;
export const EDU_IRQ_STATUS = 0x24;
export const EDU_IRQ_RAISE = 0x60;
export const EDU_IRQ_ACK = 0x64;
export const EDU_DMA_SRC = 0x80;
export const EDU_DMA_DST = 0x88;
export const EDU_DMA_COUNT = 0x90;
export const EDU_DMA_CMD = 0x98;
/** DMA command bits: start (cleared when done), direction (1: EDU to RAM), raise IRQ 0x100 when done. */
export const EDU_DMA_RUN = 0x1;
export const EDU_DMA_DIR_TO_RAM = 0x2;
export const EDU_DMA_IRQ = 0x4;
export const EDU_DMA_IRQ_STATUS = 0x100;
/** The device's DMA buffer sits at 0x40000 in its own address space, 4096 bytes. */
export const EDU_DMA_BUF = 0x40000;
export const EDU_DMA_BUF_SIZE = 4096;
/** QEMU's edu dma_mask property default: 28 bits. */
export const EDU_DMA_BITS = 28;
/** The device's DMA timer fires 100 ms of virtual time after RUN is set. */
export const EDU_DMA_DELAY_NS = 100_000_000;

export interface EduInstance {
  readonly dev: GuestDevice;
  readonly mmio: number;
  transfers: number;
}

/**
 * The edu driver: enables the function, checks its identification and
 * liveness registers, sets the 28-bit DMA mask, enables bus mastering, and
 * moves data with map -> program SRC/DST/COUNT/CMD -> wait -> unmap.
 */
export class EduDriver implements PciDriver {
  readonly name = 'edu';
  readonly ids = [{ vendor: EDU_VENDOR, device: EDU_DEVICE }];
  readonly instances = new Map<GuestDevice, EduInstance>();

  /**
   * @param dmaBits the DMA mask to ask for: QEMU's edu clamps bus addresses
   * to its `dma_mask` property, 28 bits unless the machine sets it, and the
   * guest cannot discover it.
   */
  private readonly io: NativeMmio;

  constructor(private readonly k: GuestKernel, readonly dmaBits = EDU_DMA_BITS) {
    // edu's registers are DEVICE_NATIVE_ENDIAN: the CPU's byte order.
    this.io = new NativeMmio(k.port, cpuBigEndian(k.port.board));
  }

  probe(dev: GuestDevice): number {
    const pci = dev.pci;
    const bar0 = pci?.bars.find((b) => b.index === 0);
    if (!pci || !bar0 || bar0.kind === 'io' || bar0.cpuAddress === 0) return -ENODEV;
    pciEnableDevice(pci);
    const mmio = bar0.cpuAddress;
    const id = this.io.read32(mmio + EDU_ID);
    if (!id.ok || (id.value & 0xff) !== 0xed) {
      this.k.log.err(`edu ${dev.name}`, `unexpected identification 0x${id.value.toString(16)}`);
      return -ENODEV;
    }
    this.io.write32(mmio + EDU_LIVENESS, 0x12345678);
    if (this.io.read32(mmio + EDU_LIVENESS).value !== (~0x12345678 >>> 0)) {
      this.k.log.err(`edu ${dev.name}`, 'liveness check failed');
      return -EIO;
    }
    const ret = this.k.dma.setMask(dev, dmaBitMask(this.dmaBits));
    if (ret) {
      this.k.log.err(`edu ${dev.name}`, `DMA mask of ${this.dmaBits} bits not supported`);
      return ret;
    }
    pci.setMaster();
    this.instances.set(dev, { dev, mmio, transfers: 0 });
    this.k.log.info(`edu ${dev.name}`, `edu v${(id.value >>> 24) & 0xff}.${(id.value >>> 16) & 0xff} at 0x${mmio.toString(16)}`);
    return 0;
  }

  remove(dev: GuestDevice): void {
    this.instances.delete(dev);
  }

  private write64(mmio: number, reg: number, v: number): void {
    this.io.write64(mmio + reg, v);
  }

  /**
   * One DMA between guest memory at `paddr` and the device buffer at
   * `bufOffset`: 'to-device' moves RAM -> edu, 'from-device' edu -> RAM.
   * Returns 0, -ENOMEM when the DMA API cannot map, -ETIMEDOUT when the
   * device does not finish within a second of virtual time.
   */
  transfer(dev: GuestDevice, paddr: number, length: number, dir: Exclude<DmaDirection, 'bidirectional'>, bufOffset = 0): number {
    const inst = this.instances.get(dev);
    if (!inst) return -ENODEV;
    const dma = this.k.dma.mapSingle(dev, paddr, length, dir);
    if (dmaMappingError(dma)) return -ENOMEM;
    const { mmio } = inst;
    const toRam = dir === 'from-device';
    this.write64(mmio, EDU_DMA_SRC, toRam ? EDU_DMA_BUF + bufOffset : dma);
    this.write64(mmio, EDU_DMA_DST, toRam ? dma : EDU_DMA_BUF + bufOffset);
    this.write64(mmio, EDU_DMA_COUNT, length);
    this.write64(mmio, EDU_DMA_CMD, EDU_DMA_RUN | (toRam ? EDU_DMA_DIR_TO_RAM : 0));
    const done = this.k.clock.pollUntil(() => (this.io.read32(mmio + EDU_DMA_CMD).value & EDU_DMA_RUN) === 0, EDU_DMA_DELAY_NS, 10 * EDU_DMA_DELAY_NS);
    this.k.dma.unmapSingle(dev, dma, length, dir);
    if (!done) {
      this.k.log.err(`edu ${dev.name}`, 'DMA did not complete');
      return -ETIMEDOUT;
    }
    inst.transfers++;
    return 0;
  }
}
