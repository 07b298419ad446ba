import type { GuestPort } from '../port.js';
import type { PageAllocator } from '../page-alloc.js';
import { bswap32, ByteView, hiOf, loOf } from '../util/bytes.js';
import { fail, ok, parseWith, type Result } from '../util/result.js';
import type { FwCfgRegs } from './fw-cfg-regs.js';

/** Selector keys (docs/specs/fw_cfg.rst, "Selector Keys"). */
export const FW_CFG_SIGNATURE = 0x00;
export const FW_CFG_ID = 0x01;
export const FW_CFG_FILE_DIR = 0x19;
/** FW_CFG_ID feature bits: traditional interface, DMA interface. */
export const FW_CFG_VERSION_TRADITIONAL = 1 << 0;
export const FW_CFG_VERSION_DMA = 1 << 1;
/** FWCfgDmaAccess.control bits ("DMA interface"). */
export const FW_CFG_DMA_CTL_ERROR = 0x01;
export const FW_CFG_DMA_CTL_READ = 0x02;
export const FW_CFG_DMA_CTL_SKIP = 0x04;
export const FW_CFG_DMA_CTL_SELECT = 0x08;
export const FW_CFG_DMA_CTL_WRITE = 0x10;
/** A directory entry: be32 size, be16 select, be16 reserved, char name[56]. */
export const FW_CFG_FILE_ENTRY = 64;
export const FW_CFG_MAX_FILE_PATH = 56;
/** Bound on the directory we accept; QEMU's default is 0x20 entries and at most 4096 (FW_CFG_MAX_ENTRIES). */
const MAX_DIR_ENTRIES = 4096;
/** Polls of the DMA control word before the transfer counts as stuck. */
const DMA_POLLS = 1000;

export interface FwCfgFile {
  readonly name: string;
  readonly select: number;
  readonly size: number;
}

/**
 * The guest's fw_cfg client: signature and feature check, the file
 * directory, and file reads (and writes, for the linker's WRITE_POINTER)
 * through the DMA interface when the device offers it and guest RAM is
 * available, else byte by byte through the data register.
 */
export class FwCfgClient {
  private constructor(readonly regs: FwCfgRegs, readonly features: number, readonly files: readonly FwCfgFile[],
    private readonly mem: PageAllocator | undefined, private readonly port: GuestPort) {}

  static open(port: GuestPort, regs: FwCfgRegs, mem?: PageAllocator): Result<FwCfgClient> {
    regs.select(FW_CFG_SIGNATURE);
    const sig = new Uint8Array(4);
    regs.readData(sig);
    if (String.fromCharCode(...sig) !== 'QEMU') return fail(`fw_cfg: no signature at the ${regs.kind} registers`);
    regs.select(FW_CFG_ID);
    const idb = new Uint8Array(4);
    regs.readData(idb);
    const features = new ByteView(idb).u32le(0);
    let dma = (features & FW_CFG_VERSION_DMA) !== 0;
    if (dma && regs.readDmaSignature() !== 'QEMU CFG') dma = false;
    regs.select(FW_CFG_FILE_DIR);
    const head = new Uint8Array(4);
    regs.readData(head);
    const count = new ByteView(head).u32be(0);
    if (count > MAX_DIR_ENTRIES) return fail(`fw_cfg: file directory claims ${count} entries (at most ${MAX_DIR_ENTRIES})`);
    const dirBytes = new Uint8Array(count * FW_CFG_FILE_ENTRY);
    regs.readData(dirBytes);
    const dir = parseWith('fw_cfg file directory', () => {
      const v = new ByteView(dirBytes, 'fw_cfg directory');
      const files: FwCfgFile[] = [];
      for (let i = 0; i < count; i++) {
        const o = i * FW_CFG_FILE_ENTRY;
        const name = v.cstring(o + 8, FW_CFG_MAX_FILE_PATH);
        files.push({ size: v.u32be(o), select: v.u16be(o + 4), name });
      }
      return files;
    });
    if (!dir.ok) return dir;
    return ok(new FwCfgClient(regs, dma ? features : features & ~FW_CFG_VERSION_DMA, dir.value, mem, port));
  }

  get hasDma(): boolean {
    return (this.features & FW_CFG_VERSION_DMA) !== 0 && this.mem !== undefined;
  }

  find(name: string): FwCfgFile | undefined {
    return this.files.find((f) => f.name === name);
  }

  /** Reads a whole file by name. */
  readFile(name: string): Result<Uint8Array> {
    const f = this.find(name);
    if (!f) return fail(`fw_cfg: no file '${name}'`);
    return this.readKey(f.select, f.size);
  }

  /** Reads `size` bytes of the item at `key`. */
  readKey(key: number, size: number): Result<Uint8Array> {
    if (this.hasDma && size > 0) return this.dmaTransfer(key, FW_CFG_DMA_CTL_READ, 0, new Uint8Array(size));
    this.regs.select(key);
    const out = new Uint8Array(size);
    this.regs.readData(out);
    return ok(out);
  }

  /** Writes `data` at `offset` into a writable file (DMA interface only, as in QEMU 2.10+). */
  writeFile(name: string, offset: number, data: Uint8Array): Result<void> {
    const f = this.find(name);
    if (!f) return fail(`fw_cfg: no file '${name}'`);
    if (offset + data.length > f.size) return fail(`fw_cfg: write of ${data.length} bytes at ${offset} overruns '${name}' (${f.size} bytes)`);
    if (!this.hasDma) return fail('fw_cfg: writes need the DMA interface');
    const r = this.dmaTransfer(f.select, FW_CFG_DMA_CTL_WRITE, offset, data);
    return r.ok ? ok(undefined) : r;
  }

  /**
   * One DMA transfer: SELECT, then an optional SKIP to `offset`, then READ or
   * WRITE, each an FWCfgDmaAccess {be32 control, be32 length, be64 address}
   * in guest RAM; the device clears `control` when done or sets ERROR.
   */
  private dmaTransfer(key: number, op: number, offset: number, buf: Uint8Array): Result<Uint8Array> {
    const mem = this.mem!;
    const desc = mem.alloc(16);
    const data = mem.alloc(Math.max(1, buf.length));
    if (desc === undefined || data === undefined) return fail('fw_cfg: no guest RAM for a DMA transfer');
    try {
      const steps: { control: number; length: number; address: number }[] = [];
      const sel = ((key & 0xffff) << 16) | FW_CFG_DMA_CTL_SELECT;
      if (offset > 0) steps.push({ control: sel | FW_CFG_DMA_CTL_SKIP, length: offset, address: 0 });
      steps.push({ control: (offset > 0 ? 0 : sel) | op, length: buf.length, address: data });
      if (op === FW_CFG_DMA_CTL_WRITE) this.port.writeBytes(data, buf);
      for (const s of steps) {
        const d = new Uint8Array(16);
        const dv = new DataView(d.buffer);
        dv.setUint32(0, s.control >>> 0, false);
        dv.setUint32(4, s.length >>> 0, false);
        dv.setUint32(8, hiOf(s.address), false);
        dv.setUint32(12, loOf(s.address), false);
        this.port.writeBytes(desc, d);
        this.regs.writeDmaAddress(desc);
        let control = -1;
        for (let i = 0; i < DMA_POLLS; i++) {
          const r = this.port.read(desc, 4);
          control = bswap32(r.lo);
          if ((control & ~FW_CFG_DMA_CTL_ERROR) === 0) break;
        }
        if (control & FW_CFG_DMA_CTL_ERROR) return fail(`fw_cfg: DMA transfer on key 0x${key.toString(16)} reported an error`);
        if (control !== 0) return fail(`fw_cfg: DMA transfer on key 0x${key.toString(16)} did not complete`);
      }
      if (op === FW_CFG_DMA_CTL_READ) this.port.readBytes(data, buf);
      return ok(buf);
    } finally {
      mem.freePages(desc, 16);
      mem.freePages(data, Math.max(1, buf.length));
    }
  }
}
