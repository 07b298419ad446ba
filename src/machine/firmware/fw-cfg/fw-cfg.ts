import { MEMTX_OK, type AddressSpace, type Word64 } from '../../../memory/index.js';
import {
  FW_CFG_DMA_ACCESS_SIZE, FW_CFG_DMA_CTL_ERROR, FW_CFG_DMA_CTL_READ, FW_CFG_DMA_CTL_SELECT, FW_CFG_DMA_CTL_SKIP,
  FW_CFG_DMA_CTL_WRITE, FW_CFG_DMA_SIGNATURE, FW_CFG_ENTRY_MASK, FW_CFG_INVALID, FW_CFG_SIGNATURE,
} from './fw-cfg-keys.js';
import { FwCfgItems } from './fw-cfg-items.js';

export type { FwCfgItemOptions, FwCfgOptions } from './fw-cfg-items.js';

/** A 64-bit guest address from two halves: a number below 2^53, else bigint. */
function address(hi: number, lo: number): number | bigint {
  return hi < 0x20_0000 ? hi * 0x1_0000_0000 + lo : (BigInt(hi) << 32n) | BigInt(lo);
}

function advance(a: number | bigint, n: number): number | bigint {
  return typeof a === 'bigint' ? a + BigInt(n) : a + n;
}

/**
 * The firmware configuration device's guest interface, QEMU
 * hw/nvram/fw_cfg.c (docs/specs/fw_cfg.rst): selection, the data stream and
 * the DMA interface over the items of FwCfgItems. The register front ends (FwCfgIo for x86 ports, FwCfgMem for
 * MMIO) sit on top. Guest mistakes end as zeros or the DMA error bit,
 * never exceptions.
 */
export class FwCfg extends FwCfgItems {
  private curEntry = FW_CFG_SIGNATURE;
  private curOffset = 0;
  private dmaHi = 0;
  private dmaLo = 0;

  /** Device reset: the signature is selected (fw_cfg_reset). */
  reset(): void {
    this.select(FW_CFG_SIGNATURE);
    this.dmaHi = 0;
    this.dmaLo = 0;
  }

  /** fw_cfg_select: true when the key is in range; runs the select callback. */
  select(key: number): boolean {
    key &= 0xffff;
    this.curOffset = 0;
    if ((key & FW_CFG_ENTRY_MASK) >= this.maxEntry) {
      this.curEntry = FW_CFG_INVALID;
      return false;
    }
    this.curEntry = key;
    this.entry(key)?.onSelect?.();
    return true;
  }

  /**
   * Reads up to `n` bytes of the selected item at the current offset and
   * advances; bytes past the end (or of an invalid item) read as zero.
   */
  private readStream(n: number, out: Uint8Array): void {
    out.fill(0, 0, n);
    const e = this.entry(this.curEntry);
    if (!e) return;
    for (let i = 0; i < n && this.curOffset < e.data.length; i++) out[i] = e.data[this.curOffset++]!;
  }

  private readonly scratch = new Uint8Array(8);

  /**
   * fw_cfg_data_read for 1..4 bytes: the item's bytes as a big-endian value
   * (string order), zero-padded on the right when the item ends early.
   */
  dataRead(size: number): number {
    const b = this.scratch;
    this.readStream(size, b);
    let v = 0;
    for (let i = 0; i < size; i++) v = ((v << 8) | b[i]!) >>> 0;
    return v;
  }

  /** fw_cfg_data_read for 8 bytes: the register value as two halves. */
  dataRead64(): Word64 {
    const b = this.scratch;
    this.readStream(8, b);
    const v = new DataView(b.buffer);
    return { hi: v.getUint32(0), lo: v.getUint32(4) };
  }

  /** fw_cfg_dma_mem_read: "QEMU CFG" as a big-endian register, any width. */
  dmaRegRead(offset: number, size: number): number {
    let v = 0;
    for (let i = 0; i < size && i < 4; i++) v = ((v << 8) | (FW_CFG_DMA_SIGNATURE.charCodeAt(offset + i) & 0xff)) >>> 0;
    return v;
  }

  dmaRegRead64(): Word64 {
    return { hi: this.dmaRegRead(0, 4), lo: this.dmaRegRead(4, 4) };
  }

  /**
   * fw_cfg_dma_mem_write with a 4-byte access: offset 0 sets the high half
   * (and clears the low), offset 4 ORs the low half and starts the transfer.
   */
  dmaRegWrite(offset: number, size: number, value: number): void {
    if (size !== 4) return;
    if (offset === 0) {
      this.dmaHi = value >>> 0;
      this.dmaLo = 0;
    } else if (offset === 4) {
      this.dmaLo = (this.dmaLo | value) >>> 0;
      this.dmaTransfer();
    }
  }

  /** An 8-byte write at offset 0 sets the whole address and starts the transfer. */
  dmaRegWrite64(offset: number, hi: number, lo: number): void {
    if (offset !== 0) return;
    this.dmaHi = hi >>> 0;
    this.dmaLo = lo >>> 0;
    this.dmaTransfer();
  }

  /** fw_cfg_dma_transfer (docs/specs/fw_cfg.rst "FWCfgDmaAccess"). */
  private dmaTransfer(): void {
    const as = this.dmaAs;
    const descAddr = address(this.dmaHi, this.dmaLo);
    this.dmaHi = 0;
    this.dmaLo = 0;
    if (!as) return;
    const desc = new Uint8Array(FW_CFG_DMA_ACCESS_SIZE);
    const dv = new DataView(desc.buffer);
    if (as.readBytes(descAddr, desc) !== MEMTX_OK) {
      dv.setUint32(0, FW_CFG_DMA_CTL_ERROR);
      as.writeBytes(descAddr, desc.subarray(0, 4));
      return;
    }
    let control = dv.getUint32(0);
    let length = dv.getUint32(4);
    let addr = address(dv.getUint32(8), dv.getUint32(12));
    if (control & FW_CFG_DMA_CTL_SELECT) this.select(control >>> 16);
    const e = this.entry(this.curEntry);
    let read = false;
    let write = false;
    if (control & FW_CFG_DMA_CTL_READ) read = true;
    else if (control & FW_CFG_DMA_CTL_WRITE) write = true;
    else if (!(control & FW_CFG_DMA_CTL_SKIP)) length = 0;
    control = 0;
    while (length > 0 && !(control & FW_CFG_DMA_CTL_ERROR)) {
      let len: number;
      if (!e || this.curOffset >= e.data.length) {
        len = length;
        if (read && !this.fillZero(as, addr, len)) control |= FW_CFG_DMA_CTL_ERROR;
        if (write) control |= FW_CFG_DMA_CTL_ERROR;
      } else {
        len = Math.min(length, e.data.length - this.curOffset);
        const part = e.data.subarray(this.curOffset, this.curOffset + len);
        if (read && as.writeBytes(addr, part) !== MEMTX_OK) control |= FW_CFG_DMA_CTL_ERROR;
        if (write) {
          if (!e.writable || len !== length) control |= FW_CFG_DMA_CTL_ERROR;
          else {
            const tmp = new Uint8Array(len);
            if (as.readBytes(addr, tmp) !== MEMTX_OK) control |= FW_CFG_DMA_CTL_ERROR;
            else {
              part.set(tmp);
              e.onWrite?.(this.curOffset, len);
            }
          }
        }
        this.curOffset += len;
      }
      addr = advance(addr, len);
      length -= len;
    }
    dv.setUint32(0, control);
    as.writeBytes(descAddr, desc.subarray(0, 4));
  }

  /** dma_memory_set(0) in bounded chunks. */
  private fillZero(as: AddressSpace, addr: number | bigint, len: number): boolean {
    const chunk = new Uint8Array(Math.min(len, 0x10000));
    let ok = true;
    for (let done = 0; done < len; done += chunk.length) {
      const n = Math.min(chunk.length, len - done);
      if (as.writeBytes(advance(addr, done), chunk.subarray(0, n)) !== MEMTX_OK) ok = false;
    }
    return ok;
  }
}
