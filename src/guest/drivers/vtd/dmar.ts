import type { AcpiTable } from '../../fw/acpi/sdt.js';
import { SDT_HEADER_SIZE } from '../../fw/acpi/sdt.js';
import { ByteView } from '../../util/bytes.js';
import { ParseError, parseWith, type Result } from '../../util/result.js';

/**
 * The DMA Remapping Reporting table (Intel VT-d specification 3.4, chapter
 * 8): after the header, Host Address Width (u8, width - 1), Flags (u8:
 * INTR_REMAP bit 0, X2APIC_OPT_OUT bit 1, DMA_CTRL_PLATFORM_OPT_IN bit 2),
 * 10 reserved bytes, then remapping structures {u16 type, u16 length}.
 */
export const DMAR_STRUCTS = SDT_HEADER_SIZE + 12;
export const DMAR_INTR_REMAP = 1 << 0;
export const DMAR_X2APIC_OPT_OUT = 1 << 1;

/** Remapping structure types (spec 8.2): DRHD, RMRR, ATSR, RHSA, ANDD, SATC. */
export const ACPI_DMAR_TYPE_DRHD = 0;
export const ACPI_DMAR_TYPE_RMRR = 1;
export const ACPI_DMAR_TYPE_ATSR = 2;
/** DRHD flags: INCLUDE_PCI_ALL (bit 0). ATSR flags: ALL_PORTS (bit 0). */
export const DRHD_INCLUDE_PCI_ALL = 1;
export const ATSR_ALL_PORTS = 1;

/** Device scope types (spec 8.3.1). */
export const SCOPE_ENDPOINT = 1;
export const SCOPE_BRIDGE = 2;
export const SCOPE_IOAPIC = 3;
export const SCOPE_HPET = 4;
export const SCOPE_NAMESPACE = 5;

/** A device scope: type, enumeration ID, start bus, and the (device, function) path from that bus. */
export interface DmarScope {
  readonly type: number;
  readonly enumId: number;
  readonly startBus: number;
  readonly path: readonly { readonly dev: number; readonly fn: number }[];
}

export interface Drhd {
  readonly flags: number;
  readonly segment: number;
  readonly base: number;
  readonly includeAll: boolean;
  readonly scopes: readonly DmarScope[];
}

export interface Rmrr {
  readonly segment: number;
  readonly base: number;
  readonly limit: number;
  readonly scopes: readonly DmarScope[];
}

export interface Atsr {
  readonly flags: number;
  readonly segment: number;
  readonly allPorts: boolean;
  readonly scopes: readonly DmarScope[];
}

export interface Dmar {
  /** Host address width in bits (the field is width - 1). */
  readonly haw: number;
  readonly flags: number;
  readonly drhds: readonly Drhd[];
  readonly rmrrs: readonly Rmrr[];
  readonly atsrs: readonly Atsr[];
}

function scopesAt(v: ByteView, start: number, end: number, where: string): DmarScope[] {
  const out: DmarScope[] = [];
  for (let o = start; o < end;) {
    const type = v.u8(o);
    const len = v.u8(o + 1);
    if (len < 6 || (len - 6) % 2 !== 0 || o + len > end) throw new ParseError(`${where}: device scope at ${o} has length ${len}`);
    if (type < SCOPE_ENDPOINT || type > SCOPE_NAMESPACE) throw new ParseError(`${where}: device scope at ${o} has unknown type ${type}`);
    const path: { dev: number; fn: number }[] = [];
    for (let p = o + 6; p < o + len; p += 2) path.push({ dev: v.u8(p), fn: v.u8(p + 1) });
    if (path.length === 0 || path.some((x) => x.dev > 31 || x.fn > 7)) throw new ParseError(`${where}: device scope at ${o} has a bad path`);
    out.push({ type, enumId: v.u8(o + 4), startBus: v.u8(o + 5), path });
    o += len;
  }
  return out;
}

/** Parses DMAR: every structure is length-checked; unknown types are skipped, as Linux skips them. */
export function parseDmar(t: AcpiTable): Result<Dmar> {
  return parseWith('DMAR', () => {
    const v = new ByteView(t.bytes, 'DMAR');
    if (t.length < DMAR_STRUCTS) throw new ParseError(`length ${t.length} is shorter than the DMAR header`);
    const haw = v.u8(SDT_HEADER_SIZE) + 1;
    if (haw < 32 || haw > 64) throw new ParseError(`host address width ${haw} is implausible`);
    const drhds: Drhd[] = [];
    const rmrrs: Rmrr[] = [];
    const atsrs: Atsr[] = [];
    for (let o = DMAR_STRUCTS; o < t.length;) {
      const type = v.u16le(o);
      const len = v.u16le(o + 2);
      if (len < 4 || o + len > t.length) throw new ParseError(`structure at ${o} (type ${type}) has length ${len}`);
      const where = `structure at ${o}`;
      if (type === ACPI_DMAR_TYPE_DRHD) {
        if (len < 16) throw new ParseError(`${where}: DRHD shorter than 16 bytes`);
        const flags = v.u8(o + 4);
        drhds.push({ flags, segment: v.u16le(o + 6), base: v.u64le(o + 8), includeAll: (flags & DRHD_INCLUDE_PCI_ALL) !== 0, scopes: scopesAt(v, o + 16, o + len, where) });
      } else if (type === ACPI_DMAR_TYPE_RMRR) {
        if (len < 24) throw new ParseError(`${where}: RMRR shorter than 24 bytes`);
        const base = v.u64le(o + 8);
        const limit = v.u64le(o + 16);
        if (limit < base) throw new ParseError(`${where}: RMRR limit below its base`);
        rmrrs.push({ segment: v.u16le(o + 6), base, limit, scopes: scopesAt(v, o + 24, o + len, where) });
      } else if (type === ACPI_DMAR_TYPE_ATSR) {
        if (len < 8) throw new ParseError(`${where}: ATSR shorter than 8 bytes`);
        const flags = v.u8(o + 4);
        atsrs.push({ flags, segment: v.u16le(o + 6), allPorts: (flags & ATSR_ALL_PORTS) !== 0, scopes: scopesAt(v, o + 8, o + len, where) });
      }
      o += len;
    }
    if (drhds.length === 0) throw new ParseError('no DRHD structure');
    return { haw, flags: v.u8(SDT_HEADER_SIZE + 1), drhds, rmrrs, atsrs };
  });
}
