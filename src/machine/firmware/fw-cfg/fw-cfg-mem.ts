import type { MemoryRegion, MemorySystem, MmioRegion } from '../../../memory/index.js';
import { FwCfg, type FwCfgOptions } from './fw-cfg.js';
import { FW_CFG_CTL_SIZE, FW_CFG_DMA_SIZE } from './fw-cfg-io.js';

/** Arm virt's fw_cfg (hw/arm/virt.c VIRT_FW_CFG): data +0, selector +8, DMA +16. */
export const VIRT_FW_CFG_BASE = 0x09020000;
export const VIRT_FW_CFG_SIZE = 0x18;
/** virt passes data_width 8 to fw_cfg_init_mem_wide. */
export const FW_CFG_DATA_WIDTH = 8;

/**
 * The MMIO fw_cfg (QEMU TYPE_FW_CFG_MEM, fw_cfg_init_mem_wide): big-endian
 * "fwcfg.data" readable at offset 0 only with 1..data_width bytes (the
 * bytes land in string order), "fwcfg.ctl" taking only 16-bit writes of the
 * selector, and "fwcfg.dma" taking an 8-byte write at 0 or two 4-byte writes.
 */
export class FwCfgMem extends FwCfg {
  readonly data: MmioRegion;
  readonly ctl: MmioRegion;
  readonly dma: MmioRegion | undefined;

  constructor(mem: MemorySystem, opts: FwCfgOptions & { dataWidth?: 1 | 2 | 4 | 8 } = {}) {
    super(opts);
    const width = opts.dataWidth ?? FW_CFG_DATA_WIDTH;
    this.ctl = mem.mmio('fwcfg.ctl', FW_CFG_CTL_SIZE, {
      read: () => 0,
      write: (_off, _size, value) => {
        this.select(value & 0xffff);
      },
      valid: { accepts: (_off, size, isWrite) => isWrite && size === 2 },
      endianness: 'big',
    });
    this.data = mem.mmio('fwcfg.data', width, {
      read: (_off, size) => this.dataRead(size),
      write: () => undefined,
      ...(width === 8 ? { read64: () => this.dataRead64(), write64: () => undefined } : {}),
      valid: { min: 1, max: width, accepts: (off) => off === 0 },
      impl: { max: width },
      endianness: 'big',
    });
    this.dma = this.dmaEnabled
      ? mem.mmio('fwcfg.dma', FW_CFG_DMA_SIZE, {
        read: (off, size) => this.dmaRegRead(off, size),
        write: (off, size, value) => this.dmaRegWrite(off, size, value),
        read64: () => this.dmaRegRead64(),
        write64: (off, lo, hi) => this.dmaRegWrite64(off, hi, lo),
        valid: { max: 8, accepts: (off, size, isWrite) => !isWrite || (size === 4 && (off === 0 || off === 4)) || (size === 8 && off === 0) },
        impl: { max: 8 },
        endianness: 'big',
      })
      : undefined;
  }

  /** Maps data at base, the selector at base + 8 and DMA at base + 16. */
  map(sysmem: MemoryRegion, base = VIRT_FW_CFG_BASE): void {
    sysmem.addSubregion(this.data, base);
    sysmem.addSubregion(this.ctl, base + 8);
    if (this.dma) sysmem.addSubregion(this.dma, base + 16);
  }
}
