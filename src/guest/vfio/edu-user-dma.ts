import type { GuestDevice } from '../device.js';
import { EDU_DMA_CMD, EDU_DMA_COUNT, EDU_DMA_DST, EDU_DMA_SRC } from '../drivers/edu.js';
import type { GuestKernel } from '../kernel.js';
import { cpuBigEndian, NativeMmio } from '../native-mmio.js';

/** edu's buffer in its DMA address map, and its command bits (QEMU hw/misc/edu.c, docs/specs/edu.rst). */
const EDU_BUF = 0x40000;
const EDU_DMA_RUN = 1;
const EDU_DMA_TO_RAM = 2;
const DMA_NS = 100_000_000;

/**
 * A VFIO user's own driver for an edu-style DMA engine (what DPDK or a
 * test program does through the device's mmap'ed BAR): program a transfer
 * between bus address `bus` and the device buffer and wait for RUN to
 * clear, using the device buffer from `bufOffset`. Returns false when the
 * device never finished.
 */
export function eduUserDma(k: GuestKernel, dev: GuestDevice, bus: number, len: number, toRam: boolean, bufOffset = 0): boolean {
  const bar = dev.pci?.bars[0];
  if (!bar) return false;
  const io = new NativeMmio(k.port, cpuBigEndian(k.port.board));
  const mmio = bar.cpuAddress;
  io.write64(mmio + EDU_DMA_SRC, toRam ? EDU_BUF + bufOffset : bus);
  io.write64(mmio + EDU_DMA_DST, toRam ? bus : EDU_BUF + bufOffset);
  io.write64(mmio + EDU_DMA_COUNT, len);
  io.write64(mmio + EDU_DMA_CMD, EDU_DMA_RUN | (toRam ? EDU_DMA_TO_RAM : 0));
  return k.clock.pollUntil(() => (io.read32(mmio + EDU_DMA_CMD).value & EDU_DMA_RUN) === 0, DMA_NS, 10 * DMA_NS);
}
