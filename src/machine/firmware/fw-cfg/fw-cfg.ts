import { ConfigError } from '../../../base/config-error.js';
import { MEMTX_OK, type AddressSpace, type Word64 } from '../../../memory/index.js';
import {
  FW_CFG_ARCH_LOCAL, FW_CFG_BOOT_MENU, FW_CFG_DMA_ACCESS_SIZE, FW_CFG_DMA_CTL_ERROR, FW_CFG_DMA_CTL_READ,
  FW_CFG_DMA_CTL_SELECT, FW_CFG_DMA_CTL_SKIP, FW_CFG_DMA_CTL_WRITE, FW_CFG_DMA_SIGNATURE, FW_CFG_ENTRY_MASK,
  FW_CFG_FILE_DIR, FW_CFG_FILE_ENTRY_SIZE, FW_CFG_FILE_FIRST, FW_CFG_FILE_SLOTS_DFLT, FW_CFG_ID, FW_CFG_INVALID,
  FW_CFG_MAX_FILE_PATH, FW_CFG_NOGRAPHIC, FW_CFG_SIGNATURE, FW_CFG_UUID, FW_CFG_VERSION, FW_CFG_VERSION_DMA,
} from './fw-cfg-keys.js';

/** Options of one item (fw_cfg_add_bytes_callback / fw_cfg_add_file_callback). */
export interface FwCfgItemOptions {
  /** The guest may overwrite the item through DMA writes (read_only = false). */
  writable?: boolean;
  /** Runs when the guest selects the item (QEMU's select_cb, e.g. ACPI rebuild). */
  onSelect?: () => void;
  /** Runs after a DMA write changed [offset, offset+len) of the item. */
  onWrite?: (offset: number, len: number) => void;
}

interface Entry extends FwCfgItemOptions {
  data: Uint8Array;
}

interface FileSlot {
  readonly name: string;
  readonly nameBytes: Uint8Array;
  entry: Entry;
}

export interface FwCfgOptions {
  /** Address space the DMA interface reads and writes; no DMA interface when absent. */
  dmaAs?: AddressSpace;
  /** x-file-slots (default 0x20). */
  fileSlots?: number;
  /** FW_CFG_UUID contents (16 bytes, default all zero as QEMU without -uuid). */
  uuid?: Uint8Array;
  /** FW_CFG_NOGRAPHIC (QEMU: 1 with -nographic). */
  nographic?: boolean;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** A 64-bit guest address from two halves: a number below 2^53, else bigint. */
function address(hi: number, lo: number): number | bigint {
  return hi < 0x20_0000 ? hi * 0x1_0000_0000 + lo : (BigInt(hi) << 32n) | BigInt(lo);
}

function advance(a: number | bigint, n: number): number | bigint {
  return typeof a === 'bigint' ? a + BigInt(n) : a + n;
}

/**
 * The firmware configuration device's state, QEMU hw/nvram/fw_cfg.c
 * (docs/specs/fw_cfg.rst): numbered items, the file directory at 0x19 with
 * files sorted by name (selectors from 0x20, re-numbered as files are
 * inserted, as QEMU's non-legacy order), the data stream and the DMA
 * interface. The register front ends (FwCfgIo for x86 ports, FwCfgMem for
 * MMIO) sit on top. Guest mistakes end as zeros or the DMA error bit,
 * never exceptions.
 */
export class FwCfg {
  readonly fileSlots: number;
  readonly dmaAs: AddressSpace | undefined;
  private readonly entries: (Entry | undefined)[][];
  private readonly files: FileSlot[] = [];
  private readonly dir: Entry;
  private curEntry = FW_CFG_SIGNATURE;
  private curOffset = 0;
  private dmaHi = 0;
  private dmaLo = 0;

  constructor(opts: FwCfgOptions = {}) {
    this.fileSlots = opts.fileSlots ?? FW_CFG_FILE_SLOTS_DFLT;
    const maxSlots = FW_CFG_ENTRY_MASK - FW_CFG_FILE_FIRST + 1;
    if (!Number.isInteger(this.fileSlots) || this.fileSlots < FW_CFG_FILE_SLOTS_DFLT || this.fileSlots > maxSlots) {
      throw new ConfigError('x-file-slots', `must be between 0x${FW_CFG_FILE_SLOTS_DFLT.toString(16)} and 0x${maxSlots.toString(16)}`);
    }
    this.dmaAs = opts.dmaAs;
    const max = this.maxEntry;
    this.entries = [new Array<Entry | undefined>(max), new Array<Entry | undefined>(max)];
    // fw_cfg_common_realize, then the machine-ready reset's boot files.
    this.addBytes(FW_CFG_SIGNATURE, new TextEncoder().encode('QEMU'));
    this.addBytes(FW_CFG_UUID, opts.uuid ? Uint8Array.from(opts.uuid) : new Uint8Array(16));
    this.addI16(FW_CFG_NOGRAPHIC, opts.nographic ? 1 : 0);
    this.addI16(FW_CFG_BOOT_MENU, 0);
    this.dir = { data: new Uint8Array(4 + FW_CFG_FILE_ENTRY_SIZE * this.fileSlots) };
    this.entries[0]![FW_CFG_FILE_DIR] = this.dir;
    this.addFile('etc/boot-fail-wait', Uint8Array.of(0xff, 0xff, 0xff, 0xff));
    this.addI32(FW_CFG_ID, FW_CFG_VERSION | (this.dmaEnabled ? FW_CFG_VERSION_DMA : 0));
    this.addFile('bootorder', new Uint8Array(0));
    this.addFile('bios-geometry', new Uint8Array(0));
  }

  get dmaEnabled(): boolean {
    return this.dmaAs !== undefined;
  }

  /** Exclusive limit of entry numbers (fw_cfg_max_entry). */
  get maxEntry(): number {
    return FW_CFG_FILE_FIRST + this.fileSlots;
  }

  // ---- Items (board side) ----

  /** fw_cfg_add_bytes: a numbered item; a key may be set once. */
  addBytes(key: number, data: Uint8Array, opts: FwCfgItemOptions = {}): void {
    const arch = key & FW_CFG_ARCH_LOCAL ? 1 : 0;
    const k = key & FW_CFG_ENTRY_MASK;
    if (k >= this.maxEntry) throw new ConfigError('fw_cfg', `key 0x${key.toString(16)} is beyond the last entry`);
    if (this.entries[arch]![k]) throw new ConfigError('fw_cfg', `key 0x${key.toString(16)} is already set`);
    this.entries[arch]![k] = { data, ...opts };
  }

  addString(key: number, value: string): void {
    const s = new TextEncoder().encode(value);
    const d = new Uint8Array(s.length + 1);
    d.set(s);
    this.addBytes(key, d);
  }

  /** Numbers are stored little-endian (fw_cfg_add_i16/i32/i64). */
  addI16(key: number, v: number): void {
    const d = new Uint8Array(2);
    new DataView(d.buffer).setUint16(0, v, true);
    this.addBytes(key, d);
  }

  addI32(key: number, v: number): void {
    const d = new Uint8Array(4);
    new DataView(d.buffer).setUint32(0, v >>> 0, true);
    this.addBytes(key, d);
  }

  addI64(key: number, v: bigint): void {
    const d = new Uint8Array(8);
    new DataView(d.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
    this.addBytes(key, d);
  }

  /**
   * fw_cfg_add_file_callback: inserts the file in name order (strcmp on the
   * bytes); later files shift to higher selectors. Returns the selector.
   */
  addFile(name: string, data: Uint8Array, opts: FwCfgItemOptions = {}): number {
    const nameBytes = new TextEncoder().encode(name);
    if (nameBytes.length === 0 || nameBytes.length >= FW_CFG_MAX_FILE_PATH) {
      throw new ConfigError('fw_cfg', `file name '${name}' must be 1..${FW_CFG_MAX_FILE_PATH - 1} bytes`);
    }
    if (this.files.length >= this.fileSlots) throw new ConfigError('fw_cfg', `no free file slot for '${name}' (x-file-slots=0x${this.fileSlots.toString(16)})`);
    if (this.files.some((f) => f.name === name)) throw new ConfigError('fw_cfg', `duplicate fw_cfg file name: ${name}`);
    let index = this.files.length;
    while (index > 0 && compareBytes(nameBytes, this.files[index - 1]!.nameBytes) < 0) index--;
    this.files.splice(index, 0, { name, nameBytes, entry: { data, ...opts } });
    this.writeDirectory();
    return FW_CFG_FILE_FIRST + index;
  }

  /** fw_cfg_modify_file: replaces a file's contents (read-only again), or adds it. */
  modifyFile(name: string, data: Uint8Array): number {
    const i = this.files.findIndex((f) => f.name === name);
    if (i < 0) return this.addFile(name, data);
    this.files[i]!.entry = { data };
    this.writeDirectory();
    return FW_CFG_FILE_FIRST + i;
  }

  /**
   * Replaces a file's contents keeping its options and callbacks (QEMU's
   * acpi_ram_update after a rebuild); the directory shows the new size.
   */
  setFileData(name: string, data: Uint8Array): void {
    const f = this.files.find((x) => x.name === name);
    if (!f) throw new ConfigError('fw_cfg', `no fw_cfg file '${name}'`);
    f.entry.data = data;
    this.writeDirectory();
  }

  /** The current contents of a file (the object the device serves). */
  file(name: string): Uint8Array | undefined {
    return this.files.find((f) => f.name === name)?.entry.data;
  }

  selectorOf(name: string): number | undefined {
    const i = this.files.findIndex((f) => f.name === name);
    return i < 0 ? undefined : FW_CFG_FILE_FIRST + i;
  }

  fileNames(): string[] {
    return this.files.map((f) => f.name);
  }

  /** Directory: be32 count, then {be32 size, be16 select, be16 reserved, name[56]}. */
  private writeDirectory(): void {
    const d = this.dir.data;
    d.fill(0);
    const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
    v.setUint32(0, this.files.length);
    this.files.forEach((f, i) => {
      const o = 4 + i * FW_CFG_FILE_ENTRY_SIZE;
      v.setUint32(o, f.entry.data.length);
      v.setUint16(o + 4, FW_CFG_FILE_FIRST + i);
      d.set(f.nameBytes, o + 8);
    });
  }

  private entry(key: number): Entry | undefined {
    if (key === FW_CFG_INVALID) return undefined;
    const k = key & FW_CFG_ENTRY_MASK;
    if (!(key & FW_CFG_ARCH_LOCAL) && k >= FW_CFG_FILE_FIRST) return this.files[k - FW_CFG_FILE_FIRST]?.entry;
    return this.entries[key & FW_CFG_ARCH_LOCAL ? 1 : 0]![k];
  }

  // ---- Guest side ----

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
