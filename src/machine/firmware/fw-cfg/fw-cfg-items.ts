import { ConfigError } from '../../../base/config-error.js';
import type { AddressSpace } from '../../../memory/index.js';
import {
  FW_CFG_ARCH_LOCAL, FW_CFG_BOOT_MENU, FW_CFG_ENTRY_MASK, FW_CFG_FILE_DIR, FW_CFG_FILE_ENTRY_SIZE, FW_CFG_FILE_FIRST,
  FW_CFG_FILE_SLOTS_DFLT, FW_CFG_ID, FW_CFG_INVALID, FW_CFG_MAX_FILE_PATH, FW_CFG_NOGRAPHIC, FW_CFG_SIGNATURE,
  FW_CFG_UUID, FW_CFG_VERSION, FW_CFG_VERSION_DMA,
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

export interface FwCfgEntry extends FwCfgItemOptions {
  data: Uint8Array;
}

interface FileSlot {
  readonly name: string;
  readonly nameBytes: Uint8Array;
  entry: FwCfgEntry;
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

/**
 * The items of a fw_cfg device (QEMU hw/nvram/fw_cfg.c): numbered entries
 * (two banks: generic and arch-local), the file directory at 0x19 with files
 * sorted by name (selectors from 0x20, re-numbered as files are inserted, as
 * QEMU's non-legacy order), and the entries every QEMU fw_cfg starts with.
 */
export class FwCfgItems {
  readonly fileSlots: number;
  readonly dmaAs: AddressSpace | undefined;
  private readonly entries: (FwCfgEntry | undefined)[][];
  private readonly files: FileSlot[] = [];
  private readonly dir: FwCfgEntry;

  constructor(opts: FwCfgOptions = {}) {
    this.fileSlots = opts.fileSlots ?? FW_CFG_FILE_SLOTS_DFLT;
    const maxSlots = FW_CFG_ENTRY_MASK - FW_CFG_FILE_FIRST + 1;
    if (!Number.isInteger(this.fileSlots) || this.fileSlots < FW_CFG_FILE_SLOTS_DFLT || this.fileSlots > maxSlots) {
      throw new ConfigError('x-file-slots', `must be between 0x${FW_CFG_FILE_SLOTS_DFLT.toString(16)} and 0x${maxSlots.toString(16)}`);
    }
    this.dmaAs = opts.dmaAs;
    const max = this.maxEntry;
    this.entries = [new Array<FwCfgEntry | undefined>(max), new Array<FwCfgEntry | undefined>(max)];
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

  protected entry(key: number): FwCfgEntry | undefined {
    if (key === FW_CFG_INVALID) return undefined;
    const k = key & FW_CFG_ENTRY_MASK;
    if (!(key & FW_CFG_ARCH_LOCAL) && k >= FW_CFG_FILE_FIRST) return this.files[k - FW_CFG_FILE_FIRST]?.entry;
    return this.entries[key & FW_CFG_ARCH_LOCAL ? 1 : 0]![k];
  }
}
