import { ByteView } from '../util/bytes.js';
import { fail, ok, ParseError, type Result } from '../util/result.js';

/**
 * QEMU's firmware linker/loader script (`etc/table-loader`, written by
 * hw/acpi/bios-linker-loader.c): 128-byte little-endian commands that tell
 * the firmware to place fw_cfg files in guest RAM, patch pointers between
 * them and fill in checksums. The guest runs it as SeaBIOS / OVMF do.
 */
export const BIOS_LINKER_LOADER_ENTRY = 128;
export const BIOS_LINKER_LOADER_FILESZ = 56;
export const BIOS_LINKER_LOADER_COMMAND_ALLOCATE = 0x1;
export const BIOS_LINKER_LOADER_COMMAND_ADD_POINTER = 0x2;
export const BIOS_LINKER_LOADER_COMMAND_ADD_CHECKSUM = 0x3;
export const BIOS_LINKER_LOADER_COMMAND_WRITE_POINTER = 0x4;
export const BIOS_LINKER_LOADER_ALLOC_ZONE_HIGH = 0x1;
export const BIOS_LINKER_LOADER_ALLOC_ZONE_FSEG = 0x2;

export type AllocZone = 'high' | 'fseg';

/** What the loader needs from its firmware. */
export interface LoaderEnv {
  readFile(name: string): Result<Uint8Array>;
  /** Guest RAM for a file; undefined when nothing fits. */
  alloc(size: number, align: number, zone: AllocZone): number | undefined;
  writeMem(addr: number, bytes: Uint8Array): void;
  /** fw_cfg write for WRITE_POINTER; absent when the device has no writable files. */
  writeFwCfg?(name: string, offset: number, bytes: Uint8Array): Result<void>;
}

export interface LoadedFile {
  readonly name: string;
  readonly addr: number;
  readonly size: number;
  readonly zone: AllocZone;
}

export interface LoaderResult {
  readonly files: ReadonlyMap<string, LoadedFile>;
  readonly commands: { allocate: number; addPointer: number; addChecksum: number; writePointer: number; skipped: number };
}

interface Placed extends LoadedFile {
  readonly data: Uint8Array;
}

function patchLe(data: Uint8Array, offset: number, size: number, add: bigint): void {
  let v = 0n;
  for (let i = 0; i < size; i++) v |= BigInt(data[offset + i]!) << BigInt(i * 8);
  v = BigInt.asUintN(size * 8, v + add);
  for (let i = 0; i < size; i++) data[offset + i] = Number((v >> BigInt(i * 8)) & 0xffn);
}

/** Runs the loader script. Any malformed command fails the whole load (nothing is trusted half-patched). */
export function runTableLoader(script: Uint8Array, env: LoaderEnv): Result<LoaderResult> {
  if (script.length % BIOS_LINKER_LOADER_ENTRY !== 0) {
    return fail(`table-loader: ${script.length} bytes is not a whole number of ${BIOS_LINKER_LOADER_ENTRY}-byte commands`);
  }
  const v = new ByteView(script, 'table-loader');
  const placed = new Map<string, Placed>();
  const counts = { allocate: 0, addPointer: 0, addChecksum: 0, writePointer: 0, skipped: 0 };
  const file = (name: string, cmd: number): Placed => {
    const f = placed.get(name);
    if (!f) throw new ParseError(`command ${cmd} refers to '${name}', which no ALLOCATE placed`);
    return f;
  };
  const sizeOk = (size: number, cmd: number): void => {
    if (size !== 1 && size !== 2 && size !== 4 && size !== 8) throw new ParseError(`command ${cmd}: pointer size ${size} is not 1, 2, 4 or 8`);
  };
  try {
    for (let i = 0; i < script.length / BIOS_LINKER_LOADER_ENTRY; i++) {
      const o = i * BIOS_LINKER_LOADER_ENTRY;
      const command = v.u32le(o);
      switch (command) {
        case BIOS_LINKER_LOADER_COMMAND_ALLOCATE: {
          const name = v.paddedName(o + 4, BIOS_LINKER_LOADER_FILESZ);
          const align = v.u32le(o + 60);
          const zoneCode = v.u8(o + 64);
          if (align === 0 || (align & (align - 1)) !== 0) throw new ParseError(`command ${i}: alignment ${align} of '${name}' is not a power of two`);
          if (zoneCode !== BIOS_LINKER_LOADER_ALLOC_ZONE_HIGH && zoneCode !== BIOS_LINKER_LOADER_ALLOC_ZONE_FSEG) {
            throw new ParseError(`command ${i}: unknown allocation zone ${zoneCode} for '${name}'`);
          }
          if (placed.has(name)) throw new ParseError(`command ${i}: '${name}' is allocated twice`);
          const data = env.readFile(name);
          if (!data.ok) throw new ParseError(`command ${i}: ${data.error}`);
          const zone: AllocZone = zoneCode === BIOS_LINKER_LOADER_ALLOC_ZONE_FSEG ? 'fseg' : 'high';
          const addr = env.alloc(data.value.length, align, zone);
          if (addr === undefined) throw new ParseError(`command ${i}: no guest RAM for '${name}' (${data.value.length} bytes, ${zone})`);
          placed.set(name, { name, addr, size: data.value.length, zone, data: Uint8Array.from(data.value) });
          counts.allocate++;
          break;
        }
        case BIOS_LINKER_LOADER_COMMAND_ADD_POINTER: {
          const dest = file(v.paddedName(o + 4, BIOS_LINKER_LOADER_FILESZ), i);
          const src = file(v.paddedName(o + 60, BIOS_LINKER_LOADER_FILESZ), i);
          const offset = v.u32le(o + 116);
          const size = v.u8(o + 120);
          sizeOk(size, i);
          if (offset + size > dest.size) throw new ParseError(`command ${i}: pointer at ${offset} (+${size}) is outside '${dest.name}' (${dest.size} bytes)`);
          patchLe(dest.data, offset, size, BigInt(src.addr));
          counts.addPointer++;
          break;
        }
        case BIOS_LINKER_LOADER_COMMAND_ADD_CHECKSUM: {
          const f = file(v.paddedName(o + 4, BIOS_LINKER_LOADER_FILESZ), i);
          const offset = v.u32le(o + 60);
          const start = v.u32le(o + 64);
          const length = v.u32le(o + 68);
          if (offset >= f.size || start + length > f.size) {
            throw new ParseError(`command ${i}: checksum at ${offset} over [${start}, +${length}) is outside '${f.name}' (${f.size} bytes)`);
          }
          let sum = 0;
          for (let k = start; k < start + length; k++) sum = (sum + f.data[k]!) & 0xff;
          f.data[offset] = (f.data[offset]! - sum) & 0xff;
          counts.addChecksum++;
          break;
        }
        case BIOS_LINKER_LOADER_COMMAND_WRITE_POINTER: {
          const destName = v.paddedName(o + 4, BIOS_LINKER_LOADER_FILESZ);
          const src = file(v.paddedName(o + 60, BIOS_LINKER_LOADER_FILESZ), i);
          const dstOffset = v.u32le(o + 116);
          const srcOffset = v.u32le(o + 120);
          const size = v.u8(o + 124);
          sizeOk(size, i);
          if (srcOffset >= src.size) throw new ParseError(`command ${i}: source offset ${srcOffset} is outside '${src.name}'`);
          if (!env.writeFwCfg) throw new ParseError(`command ${i}: WRITE_POINTER to '${destName}' needs fw_cfg writes`);
          const bytes = new Uint8Array(size);
          patchLe(bytes, 0, size, BigInt(src.addr + srcOffset));
          const w = env.writeFwCfg(destName, dstOffset, bytes);
          if (!w.ok) throw new ParseError(`command ${i}: ${w.error}`);
          counts.writePointer++;
          break;
        }
        default:
          // bios-linker-loader.c: firmware skips commands it does not know (and the zero padding).
          if (command !== 0) counts.skipped++;
      }
    }
  } catch (e) {
    if (e instanceof ParseError) return fail(`table-loader: ${e.message}`);
    throw e;
  }
  for (const f of placed.values()) env.writeMem(f.addr, f.data);
  const files = new Map<string, LoadedFile>();
  for (const f of placed.values()) files.set(f.name, { name: f.name, addr: f.addr, size: f.size, zone: f.zone });
  return ok({ files, commands: counts });
}
