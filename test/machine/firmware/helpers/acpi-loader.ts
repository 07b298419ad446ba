/**
 * Runs an `etc/table-loader` the way a firmware does (SeaBIOS romfile_loader,
 * written here from QEMU's hw/acpi/bios-linker-loader.c comments, sharing no
 * code with the builder): allocates each file at an aligned address of a
 * flat "guest memory", adds the allocated base of the source file to each
 * pointer, fills checksums. Then decodes the tables from the RSDP.
 */
export interface LoadedFile {
  readonly name: string;
  readonly addr: number;
  readonly zone: number;
}

export interface LoadedAcpi {
  readonly memory: Buffer;
  readonly files: Map<string, LoadedFile>;
  readonly log: string[];
}

const cstr = (b: Buffer): string => b.toString('latin1').replace(/\0.*$/s, '');

export function runTableLoader(loader: Uint8Array, files: Record<string, Uint8Array>, memSize = 0x100000): LoadedAcpi {
  const memory = Buffer.alloc(memSize);
  const placed = new Map<string, LoadedFile>();
  const log: string[] = [];
  let next = 0x1000;
  const cmds = Buffer.from(loader);
  for (let at = 0; at + 128 <= cmds.length; at += 128) {
    const c = cmds.subarray(at, at + 128);
    const command = c.readUInt32LE(0);
    if (command === 0) continue;
    if (command === 1) {
      const name = cstr(c.subarray(4, 60));
      const align = c.readUInt32LE(60);
      const blob = files[name];
      if (!blob) throw new Error(`ALLOCATE of unknown file ${name}`);
      next = Math.ceil(next / align) * align;
      Buffer.from(blob).copy(memory, next);
      placed.set(name, { name, addr: next, zone: c[64]! });
      log.push(`ALLOCATE ${name} @0x${next.toString(16)}`);
      next += blob.length;
    } else if (command === 2) {
      const dest = placed.get(cstr(c.subarray(4, 60)))!;
      const src = placed.get(cstr(c.subarray(60, 116)))!;
      const off = c.readUInt32LE(116);
      const size = c[120]!;
      const a = dest.addr + off;
      const v = memory.readUIntLE(a, Math.min(size, 6)) + src.addr;
      memory.writeUIntLE(v, a, Math.min(size, 6));
      log.push(`ADD_POINTER ${dest.name}+0x${off.toString(16)} -> ${src.name}`);
    } else if (command === 3) {
      const f = placed.get(cstr(c.subarray(4, 60)))!;
      const off = c.readUInt32LE(60);
      const start = c.readUInt32LE(64);
      const length = c.readUInt32LE(68);
      let sum = 0;
      for (let i = 0; i < length; i++) sum += memory[f.addr + start + i]!;
      memory[f.addr + off] = (memory[f.addr + off]! - sum) & 0xff;
      log.push(`ADD_CHECKSUM ${f.name}+0x${off.toString(16)}`);
    } else {
      throw new Error(`unexpected loader command ${command}`);
    }
  }
  return { memory, files: placed, log };
}

export interface DecodedTable {
  readonly sig: string;
  readonly addr: number;
  readonly length: number;
  readonly revision: number;
  readonly checksumOk: boolean;
  readonly bytes: Buffer;
}

export function tableAt(mem: Buffer, addr: number): DecodedTable {
  const sig = mem.toString('latin1', addr, addr + 4);
  const length = sig === 'FACS' ? mem.readUInt32LE(addr + 4) : mem.readUInt32LE(addr + 4);
  const bytes = mem.subarray(addr, addr + length);
  let sum = 0;
  for (const b of bytes) sum += b;
  return { sig, addr, length, revision: mem[addr + 8]!, checksumOk: (sum & 0xff) === 0, bytes };
}

/** Finds the RSDP in the loaded memory and walks RSDT/XSDT and the FADT's pointers. */
export function walkAcpi(l: LoadedAcpi): { rsdp: Buffer; root: DecodedTable; tables: DecodedTable[] } {
  const r = l.files.get('etc/acpi/rsdp')!;
  const m = l.memory;
  const rev = m[r.addr + 15]!;
  const rsdp = m.subarray(r.addr, r.addr + (rev >= 2 ? 36 : 20));
  const root = rev >= 2 ? tableAt(m, Number(m.readBigUInt64LE(r.addr + 24))) : tableAt(m, m.readUInt32LE(r.addr + 16));
  const esz = root.sig === 'XSDT' ? 8 : 4;
  const tables: DecodedTable[] = [];
  for (let o = 36; o < root.length; o += esz) {
    tables.push(tableAt(m, esz === 8 ? Number(root.bytes.readBigUInt64LE(o)) : root.bytes.readUInt32LE(o)));
  }
  return { rsdp, root, tables };
}
