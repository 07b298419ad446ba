import { ByteView } from '../../util/bytes.js';
import { parseWith, ParseError, type Result } from '../../util/result.js';
import { SDT_HEADER_SIZE, type AcpiTable } from './sdt.js';

/**
 * MCFG (PCI Firmware Specification 3.2 section 4.1.2): after the header, 8
 * reserved bytes, then 16-byte allocations {u64 base address, u16 segment,
 * u8 start bus, u8 end bus, u32 reserved} describing ECAM windows.
 */
export const MCFG_ENTRIES = SDT_HEADER_SIZE + 8;
export const MCFG_ENTRY_SIZE = 16;

export interface McfgAllocation {
  readonly base: number;
  readonly segment: number;
  readonly startBus: number;
  readonly endBus: number;
}

export function parseMcfg(t: AcpiTable): Result<McfgAllocation[]> {
  return parseWith('MCFG', () => {
    const v = new ByteView(t.bytes, 'MCFG');
    if ((t.length - MCFG_ENTRIES) % MCFG_ENTRY_SIZE !== 0 || t.length < MCFG_ENTRIES) {
      throw new ParseError(`length ${t.length} is not the header plus whole 16-byte allocations`);
    }
    const out: McfgAllocation[] = [];
    for (let o = MCFG_ENTRIES; o < t.length; o += MCFG_ENTRY_SIZE) {
      const a = { base: v.u64le(o), segment: v.u16le(o + 8), startBus: v.u8(o + 10), endBus: v.u8(o + 11) };
      if (a.endBus < a.startBus) throw new ParseError(`allocation at ${o}: end bus ${a.endBus} below start bus ${a.startBus}`);
      if (a.base % (1 << 20) !== 0) throw new ParseError(`allocation at ${o}: base 0x${a.base.toString(16)} is not 1 MiB aligned`);
      out.push(a);
    }
    return out;
  });
}

/** ECAM address of a config register (PCIe Base 6.0 section 7.2.2): base + (bus - start) << 20 | devfn << 12 | offset. */
export function ecamAddress(a: McfgAllocation, bus: number, devfn: number, offset: number): number {
  return a.base + (bus - a.startBus) * (1 << 20) + devfn * 4096 + offset;
}
