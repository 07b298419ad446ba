import { ByteView } from '../../util/bytes.js';
import { parseWith, ParseError, type Result } from '../../util/result.js';
import { SDT_HEADER_SIZE, type AcpiTable } from './sdt.js';

/**
 * MADT (ACPI 6.5 section 5.2.12): Local Interrupt Controller Address (u32 at
 * 36), Flags (u32 at 40), then interrupt controller structures {u8 type, u8
 * length, ...} from offset 44. Decoded here: Processor Local APIC (0), I/O
 * APIC (1), GICD (0xC), GIC MSI Frame (0xD), GIC ITS (0xF); others are kept
 * as type and length.
 */
export const MADT_LAPIC = 0x0;
export const MADT_IOAPIC = 0x1;
export const MADT_GICD = 0xc;
export const MADT_GIC_MSI_FRAME = 0xd;
export const MADT_GIC_ITS = 0xf;

export type MadtEntry =
  | { readonly type: typeof MADT_LAPIC; readonly length: number; readonly uid: number; readonly apicId: number; readonly enabled: boolean }
  | { readonly type: typeof MADT_IOAPIC; readonly length: number; readonly id: number; readonly address: number; readonly gsiBase: number }
  | { readonly type: typeof MADT_GICD; readonly length: number; readonly base: number; readonly version: number }
  | { readonly type: typeof MADT_GIC_MSI_FRAME; readonly length: number; readonly id: number; readonly base: number; readonly spiCount: number; readonly spiBase: number }
  | { readonly type: typeof MADT_GIC_ITS; readonly length: number; readonly id: number; readonly base: number }
  | { readonly type: number; readonly length: number; readonly raw: true };

export interface Madt {
  readonly localApicAddress: number;
  readonly flags: number;
  readonly entries: readonly MadtEntry[];
}

const MIN_LEN: Record<number, number> = { [MADT_LAPIC]: 8, [MADT_IOAPIC]: 12, [MADT_GICD]: 24, [MADT_GIC_MSI_FRAME]: 24, [MADT_GIC_ITS]: 20 };

export function parseMadt(t: AcpiTable): Result<Madt> {
  return parseWith('APIC', () => {
    const v = new ByteView(t.bytes, 'MADT');
    const localApicAddress = v.u32le(SDT_HEADER_SIZE);
    const flags = v.u32le(SDT_HEADER_SIZE + 4);
    const entries: MadtEntry[] = [];
    for (let o = SDT_HEADER_SIZE + 8; o < t.length;) {
      const type = v.u8(o);
      const length = v.u8(o + 1);
      if (length < 2 || o + length > t.length) throw new ParseError(`structure at ${o} (type ${type}) has length ${length} past the table end`);
      if (length < (MIN_LEN[type] ?? 2)) throw new ParseError(`structure at ${o} (type ${type}) is ${length} bytes, too short for its type`);
      switch (type) {
        case MADT_LAPIC:
          entries.push({ type, length, uid: v.u8(o + 2), apicId: v.u8(o + 3), enabled: (v.u32le(o + 4) & 1) !== 0 });
          break;
        case MADT_IOAPIC:
          entries.push({ type, length, id: v.u8(o + 2), address: v.u32le(o + 4), gsiBase: v.u32le(o + 8) });
          break;
        case MADT_GICD:
          entries.push({ type, length, base: v.u64le(o + 8), version: v.u8(o + 20) });
          break;
        case MADT_GIC_MSI_FRAME:
          entries.push({ type, length, id: v.u32le(o + 4), base: v.u64le(o + 8), spiCount: v.u16le(o + 20), spiBase: v.u16le(o + 22) });
          break;
        case MADT_GIC_ITS:
          entries.push({ type, length, id: v.u32le(o + 4), base: v.u64le(o + 8) });
          break;
        default:
          entries.push({ type, length, raw: true });
      }
      o += length;
    }
    return { localApicAddress, flags, entries };
  });
}
