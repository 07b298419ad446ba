import type { MemoryRegion, MemorySystem, MmioRegion } from '../../../memory/index.js';
import { FwCfg, type FwCfgOptions } from './fw-cfg.js';

/** QEMU's x86 ports (hw/i386/fw_cfg.h FW_CFG_IO_BASE; DMA at base + 4). */
export const FW_CFG_IO_BASE = 0x510;
export const FW_CFG_IO_DMA_OFFSET = 4;
/** FW_CFG_CTL_SIZE: the selector; the data port overlaps its second byte. */
export const FW_CFG_CTL_SIZE = 2;
export const FW_CFG_DMA_SIZE = 8;

/**
 * The I/O-port fw_cfg (QEMU TYPE_FW_CFG_IO, fw_cfg_init_io_dma): one
 * little-endian region "fwcfg" of 2 ports where a 16-bit write selects and
 * a 1-byte read at either port reads data (fw_cfg_comb_mem_ops), and the
 * big-endian "fwcfg.dma" region of 8 ports (two 32-bit writes, high half
 * first; the low half starts the transfer).
 */
export class FwCfgIo extends FwCfg {
  readonly comb: MmioRegion;
  readonly dma: MmioRegion | undefined;

  constructor(mem: MemorySystem, opts: FwCfgOptions = {}) {
    super(opts);
    this.comb = mem.mmio('fwcfg', FW_CFG_CTL_SIZE, {
      read: (_off, size) => this.dataRead(size),
      // A 1-byte write is the data port's (ignored since QEMU 2.4); 2 bytes select.
      write: (_off, size, value) => {
        if (size === 2) this.select(value & 0xffff);
      },
      valid: { accepts: (_off, size, isWrite) => size === 1 || (isWrite && size === 2) },
      endianness: 'little',
    });
    this.dma = this.dmaEnabled
      ? mem.mmio('fwcfg.dma', FW_CFG_DMA_SIZE, {
        read: (off, size) => this.dmaRegRead(off, size),
        write: (off, size, value) => this.dmaRegWrite(off, size, value),
        valid: { accepts: (off, size, isWrite) => !isWrite || (size === 4 && (off === 0 || off === 4)) },
        endianness: 'big',
      })
      : undefined;
  }

  /** Maps the ports into an I/O address space's root (QEMU get_system_io()). */
  map(io: MemoryRegion, base = FW_CFG_IO_BASE, dmaBase = base + FW_CFG_IO_DMA_OFFSET): void {
    io.addSubregion(this.comb, base);
    if (this.dma) io.addSubregion(this.dma, dmaBase);
  }
}
