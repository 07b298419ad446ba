/**
 * A small AML encoder (ACPI 6.4 section 20, "ACPI Machine Language
 * Specification"; QEMU hw/acpi/aml-build.c) for the objects viommu's DSDTs
 * use: Scope, Device, Name, integers, strings, EISA IDs, packages and
 * resource templates. AML values are byte arrays; composites nest them.
 */
export type Aml = readonly number[];

/** PkgLength (20.2.4): the encoded length counts itself. */
function pkgLength(len: number): number[] {
  if (len + 1 <= 0x3f) return [len + 1];
  for (let n = 2; n <= 4; n++) {
    const total = len + n;
    if (total < 1 << (4 + 8 * (n - 1))) {
      const out = [((n - 1) << 6) | (total & 0xf)];
      for (let i = 1; i < n; i++) out.push((total >> (4 + 8 * (i - 1))) & 0xff);
      return out;
    }
  }
  throw new RangeError(`AML package too long: ${len}`);
}

function seg(s: string): number[] {
  if (!/^[A-Z_][A-Z0-9_]{0,3}$/.test(s)) throw new RangeError(`bad AML name segment '${s}'`);
  return [...s.padEnd(4, '_')].map((c) => c.charCodeAt(0));
}

/** NameString (20.2.2): optional root prefix, then one, two (DualNamePrefix) or more segments. */
export function amlName(path: string): Aml {
  const out: number[] = [];
  let p = path;
  if (p.startsWith('\\')) {
    out.push(0x5c);
    p = p.slice(1);
  }
  const segs = p.split('.');
  if (segs.length === 2) out.push(0x2e);
  else if (segs.length > 2) out.push(0x2f, segs.length);
  for (const s of segs) out.push(...seg(s));
  return out;
}

/** Integer constants (ZeroOp, OneOp, Byte/Word/DWord/QWordPrefix), as aml_int. */
export function amlInt(v: number | bigint): Aml {
  const n = BigInt(v);
  if (n === 0n) return [0x00];
  if (n === 1n) return [0x01];
  const [prefix, size] = n <= 0xffn ? [0x0a, 1] : n <= 0xffffn ? [0x0b, 2] : n <= 0xffff_ffffn ? [0x0c, 4] : [0x0e, 8];
  const out = [prefix];
  for (let i = 0; i < size; i++) out.push(Number((n >> BigInt(8 * i)) & 0xffn));
  return out;
}

export function amlString(s: string): Aml {
  return [0x0d, ...[...s].map((c) => c.charCodeAt(0) & 0x7f), 0x00];
}

/** EISAID("PNP0A08"): compressed vendor letters and product number, byte-swapped (aml_eisaid). */
export function amlEisaId(id: string): Aml {
  const c = (i: number): number => (id.charCodeAt(i) - 0x40) & 0x1f;
  const v = ((c(0) << 26) | (c(1) << 21) | (c(2) << 16) | parseInt(id.slice(3, 7), 16)) >>> 0;
  return [0x0c, (v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

/** DefName := NameOp NameString DataRefObject. */
export function amlNameDecl(name: string, value: Aml): Aml {
  return [0x08, ...amlName(name), ...value];
}

/** DefScope := ScopeOp PkgLength NameString TermList. */
export function amlScope(name: string, ...terms: Aml[]): Aml {
  const body = [...amlName(name), ...terms.flat()];
  return [0x10, ...pkgLength(body.length), ...body];
}

/** DefDevice := ExtOpPrefix DeviceOp PkgLength NameString TermList. */
export function amlDevice(name: string, ...terms: Aml[]): Aml {
  const body = [...amlName(name), ...terms.flat()];
  return [0x5b, 0x82, ...pkgLength(body.length), ...body];
}

/** DefPackage := PackageOp PkgLength NumElements PackageElementList. */
export function amlPackage(...elements: Aml[]): Aml {
  const body = [elements.length, ...elements.flat()];
  return [0x12, ...pkgLength(body.length), ...body];
}

/** DefBuffer := BufferOp PkgLength BufferSize ByteList. */
export function amlBuffer(bytes: Aml): Aml {
  const body = [...amlInt(bytes.length), ...bytes];
  return [0x11, ...pkgLength(body.length), ...body];
}

// ---- Resource descriptors (ACPI 6.4 section 6.4) ----

function le(v: number | bigint, size: number): number[] {
  const n = BigInt.asUintN(size * 8, BigInt(v));
  return Array.from({ length: size }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));
}

/** ResourceTemplate: the descriptors plus an End Tag (checksum 0) in a Buffer. */
export function amlResourceTemplate(...descriptors: Aml[]): Aml {
  return amlBuffer([...descriptors.flat(), 0x79, 0x00]);
}

/** I/O Port Descriptor (6.4.2.5), 16-bit decode. */
export function amlIo(min: number, max: number, align: number, length: number): Aml {
  return [0x47, 0x01, ...le(min, 2), ...le(max, 2), align & 0xff, length & 0xff];
}

/** 32-bit Fixed Memory Range Descriptor (6.4.3.4), read/write. */
export function amlMemory32Fixed(base: number, length: number): Aml {
  return [0x86, 0x09, 0x00, 0x01, ...le(base, 4), ...le(length, 4)];
}

/** Resource type of an Address Space Descriptor (6.4.3.5). */
export type AddressSpaceType = 'memory' | 'io' | 'bus';
const TYPE_CODE: Record<AddressSpaceType, number> = { memory: 0, io: 1, bus: 2 };

/**
 * Word/DWord/QWord Address Space Descriptor (6.4.3.5.1-3), as QEMU's
 * aml_word_bus_number / aml_dword_memory / aml_qword_memory ... with
 * ResourceProducer, PosDecode, MinFixed, MaxFixed: general flags 0x0c.
 * Type-specific flags: memory (cacheable << 1 | read-write), I/O 3 (entire range).
 */
export function amlAddressSpace(size: 2 | 4 | 8, type: AddressSpaceType, min: number | bigint, max: number | bigint,
  translation: number | bigint, length: number | bigint, typeFlags?: number): Aml {
  const tag = size === 2 ? 0x88 : size === 4 ? 0x87 : 0x8a;
  const flags = typeFlags ?? (type === 'memory' ? 0x01 : type === 'io' ? 0x03 : 0x00);
  const body = [TYPE_CODE[type], 0x0c, flags, ...le(0, size), ...le(min, size), ...le(max, size), ...le(translation, size), ...le(length, size)];
  return [tag, ...le(body.length, 2), ...body];
}
