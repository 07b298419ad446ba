import { ByteBuffer } from '../byte-buffer.js';

/**
 * QEMU's BIOS linker/loader (hw/acpi/bios-linker-loader.c): the commands a
 * firmware runs from fw_cfg `etc/table-loader` to place the ACPI blobs in
 * guest memory, patch pointers between them and fill checksums. Each command
 * is 128 bytes, little-endian: u32 command, then the union below, zero-padded.
 */
export const BIOS_LINKER_LOADER_COMMAND_ALLOCATE = 0x1;
export const BIOS_LINKER_LOADER_COMMAND_ADD_POINTER = 0x2;
export const BIOS_LINKER_LOADER_COMMAND_ADD_CHECKSUM = 0x3;
export const BIOS_LINKER_LOADER_COMMAND_WRITE_POINTER = 0x4;
/** ALLOCATE zones: anywhere (high memory) or the 0xe0000..0xfffff F segment. */
export const BIOS_LINKER_LOADER_ALLOC_ZONE_HIGH = 0x1;
export const BIOS_LINKER_LOADER_ALLOC_ZONE_FSEG = 0x2;
export const BIOS_LINKER_LOADER_FILESZ = 56;
export const BIOS_LINKER_LOADER_ENTRY_SIZE = 128;

/*
 * Entry layouts (offsets within the 128 bytes):
 *   ALLOCATE      4 file[56], 60 align u32, 64 zone u8
 *   ADD_POINTER   4 dest_file[56], 60 src_file[56], 116 offset u32, 120 size u8
 *   ADD_CHECKSUM  4 file[56], 60 offset u32, 64 start u32, 68 length u32
 *   WRITE_POINTER 4 dest_file[56], 60 src_file[56], 116 dst_offset u32,
 *                 120 src_offset u32, 124 size u8
 */

export class BiosLinker {
  /** The command blob (etc/table-loader). */
  readonly cmds = new ByteBuffer();
  /** Files the linker knows, by name (bios_linker_loader_alloc adds them). */
  private readonly files = new Map<string, ByteBuffer>();

  private entry(command: number): number {
    const at = this.cmds.zeros(BIOS_LINKER_LOADER_ENTRY_SIZE);
    this.cmds.setInt(at, command, 4);
    return at;
  }

  private name(at: number, name: string): void {
    if (name.length >= BIOS_LINKER_LOADER_FILESZ) throw new RangeError(`loader file name too long: ${name}`);
    for (let i = 0; i < name.length; i++) this.cmds.setByte(at + i, name.charCodeAt(i));
  }

  private file(name: string): ByteBuffer {
    const f = this.files.get(name);
    if (!f) throw new Error(`BIOS linker: file '${name}' was not allocated`);
    return f;
  }

  /**
   * bios_linker_loader_alloc: the firmware allocates `blob` (the file's
   * contents) aligned to `align` in the zone. ALLOCATE commands go first:
   * each new one is prepended, as QEMU does.
   */
  alloc(name: string, blob: ByteBuffer, align: number, fseg: boolean): void {
    if (this.files.has(name)) throw new Error(`BIOS linker: '${name}' allocated twice`);
    this.files.set(name, blob);
    const prior = this.cmds.toBytes();
    this.cmds.length = 0;
    const at = this.entry(BIOS_LINKER_LOADER_COMMAND_ALLOCATE);
    this.name(at + 4, name);
    this.cmds.setInt(at + 60, align, 4);
    this.cmds.setInt(at + 64, fseg ? BIOS_LINKER_LOADER_ALLOC_ZONE_FSEG : BIOS_LINKER_LOADER_ALLOC_ZONE_HIGH, 1);
    this.cmds.bytes(prior);
  }

  /**
   * bios_linker_loader_add_pointer: stores `srcOffset` (little-endian,
   * `size` bytes) at dest[destOffset]; the firmware adds src's address.
   */
  addPointer(dest: string, destOffset: number, size: 1 | 2 | 4 | 8, src: string, srcOffset: number): void {
    const d = this.file(dest);
    const s = this.file(src);
    if (destOffset + size > d.length) throw new RangeError(`pointer at ${destOffset} is outside '${dest}'`);
    if (srcOffset >= s.length) throw new RangeError(`pointer target ${srcOffset} is outside '${src}'`);
    d.setInt(destOffset, srcOffset, size);
    const at = this.entry(BIOS_LINKER_LOADER_COMMAND_ADD_POINTER);
    this.name(at + 4, dest);
    this.name(at + 60, src);
    this.cmds.setInt(at + 116, destOffset, 4);
    this.cmds.setInt(at + 120, size, 1);
  }

  /** bios_linker_loader_add_checksum: the byte at checksumOffset makes [start, start+size) sum to 0. */
  addChecksum(name: string, start: number, size: number, checksumOffset: number): void {
    const f = this.file(name);
    if (start + size > f.length || checksumOffset < start || checksumOffset >= start + size) {
      throw new RangeError(`checksum range is outside '${name}'`);
    }
    const at = this.entry(BIOS_LINKER_LOADER_COMMAND_ADD_CHECKSUM);
    this.name(at + 4, name);
    this.cmds.setInt(at + 60, checksumOffset, 4);
    this.cmds.setInt(at + 64, start, 4);
    this.cmds.setInt(at + 68, size, 4);
  }

  /**
   * bios_linker_loader_write_pointer: the firmware writes the address of
   * src + srcOffset into the fw_cfg file `dest` at destOffset (used for
   * e.g. vmgenid / the TPM log; listed for completeness).
   */
  writePointer(dest: string, destOffset: number, size: 1 | 2 | 4 | 8, src: string, srcOffset: number): void {
    this.file(src);
    const at = this.entry(BIOS_LINKER_LOADER_COMMAND_WRITE_POINTER);
    this.name(at + 4, dest);
    this.name(at + 60, src);
    this.cmds.setInt(at + 116, destOffset, 4);
    this.cmds.setInt(at + 120, srcOffset, 4);
    this.cmds.setInt(at + 124, size, 1);
  }
}
