import type { GuestPort } from '../port.js';
import { bswap16, bswap32, hiOf, loOf } from '../util/bytes.js';

/**
 * The fw_cfg register block as the guest reaches it (QEMU
 * docs/specs/fw_cfg.rst, "Selector Register", "Data Register", "DMA Address
 * Register"): x86 port I/O at 0x510 (selector, 16-bit little-endian), 0x511
 * (data, 8-bit) and 0x514 (DMA address, 64-bit big-endian written as two
 * 32-bit halves, high first, the low-half write starting the transfer); MMIO
 * on Arm virt at base+8 (selector, 16-bit big-endian), base+0 (data, up to
 * 64-bit, bytes in string order) and base+16 (DMA address, big-endian).
 */
export interface FwCfgRegs {
  readonly kind: 'io' | 'mmio';
  select(key: number): void;
  /** Reads `dst.length` bytes from the data register. */
  readData(dst: Uint8Array): void;
  /** Writes the DMA address register (starting the transfer described at `addr`). */
  writeDmaAddress(addr: number): void;
  /** Reads the DMA address register: "QEMU CFG" when the DMA interface exists. */
  readDmaSignature(): string;
}

export const FW_CFG_IO_SELECTOR = 0x510;
export const FW_CFG_IO_DATA = 0x511;
export const FW_CFG_IO_DMA = 0x514;
export const FW_CFG_MMIO_DATA = 0;
export const FW_CFG_MMIO_SELECTOR = 8;
export const FW_CFG_MMIO_DMA = 16;

function sigFromBe32(a: number, b: number): string {
  let s = '';
  for (const w of [a, b]) for (let i = 3; i >= 0; i--) s += String.fromCharCode((w >>> (i * 8)) & 0xff);
  return s;
}

/** x86 port I/O fw_cfg (q35, pc). */
export function fwCfgIo(port: GuestPort, base = FW_CFG_IO_SELECTOR): FwCfgRegs | undefined {
  const io = port.io;
  if (!io) return undefined;
  const dma = base + (FW_CFG_IO_DMA - FW_CFG_IO_SELECTOR);
  return {
    kind: 'io',
    select: (key) => io.out(base, 2, key & 0xffff),
    readData(dst) {
      for (let i = 0; i < dst.length; i++) dst[i] = io.in(base + 1, 1) & 0xff;
    },
    writeDmaAddress(addr) {
      // Port I/O carries bytes in port order; a big-endian register takes the byte-swapped value.
      io.out(dma, 4, bswap32(hiOf(addr)));
      io.out(dma + 4, 4, bswap32(loOf(addr)));
    },
    readDmaSignature: () => sigFromBe32(bswap32(io.in(dma, 4)), bswap32(io.in(dma + 4, 4))),
  };
}

/** MMIO fw_cfg (Arm virt, "qemu,fw-cfg-mmio"). Values travel in memory byte order. */
export function fwCfgMmio(port: GuestPort, base: number): FwCfgRegs {
  return {
    kind: 'mmio',
    select: (key) => {
      port.write(base + FW_CFG_MMIO_SELECTOR, 2, bswap16(key & 0xffff));
    },
    readData(dst) {
      let i = 0;
      for (; i + 8 <= dst.length; i += 8) {
        const r = port.read(base + FW_CFG_MMIO_DATA, 8);
        for (let b = 0; b < 4; b++) dst[i + b] = (r.lo >>> (b * 8)) & 0xff;
        for (let b = 0; b < 4; b++) dst[i + 4 + b] = (r.hi >>> (b * 8)) & 0xff;
      }
      for (; i < dst.length; i++) dst[i] = port.read(base + FW_CFG_MMIO_DATA, 1).lo & 0xff;
    },
    writeDmaAddress(addr) {
      port.write(base + FW_CFG_MMIO_DMA, 4, bswap32(hiOf(addr)));
      port.write(base + FW_CFG_MMIO_DMA + 4, 4, bswap32(loOf(addr)));
    },
    readDmaSignature: () => {
      const a = port.read(base + FW_CFG_MMIO_DMA, 4);
      const b = port.read(base + FW_CFG_MMIO_DMA + 4, 4);
      if (!a.ok || !b.ok) return '';
      return sigFromBe32(bswap32(a.lo), bswap32(b.lo));
    },
  };
}
