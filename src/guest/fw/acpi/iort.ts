import { ByteView } from '../../util/bytes.js';
import { parseWith, ParseError, type Result } from '../../util/result.js';
import { SDT_HEADER_SIZE, type AcpiTable } from './sdt.js';

/**
 * IORT (Arm DEN 0049E): node count at 36, node array offset at 40; nodes
 * {u8 type, u16 length, u8 revision, u32 identifier, u32 mapping count, u32
 * mapping offset, data} with ID mappings {input base, ID count (number of
 * IDs minus one), output base, output reference (a node offset), flags}.
 * Decoded here: ITS groups (0), root complexes (2: segment, ATS attribute)
 * and SMMUv3 nodes (4: base, flags, the four GSIVs).
 */
export const IORT_NODE_ITS_GROUP = 0;
export const IORT_NODE_PCI_ROOT_COMPLEX = 2;
export const IORT_NODE_SMMU_V3 = 4;

export interface IortIdMapping {
  readonly inputBase: number;
  readonly idCount: number;
  readonly outputBase: number;
  readonly outputRef: number;
  readonly single: boolean;
}

export interface IortNode {
  readonly offset: number;
  readonly type: number;
  readonly mappings: readonly IortIdMapping[];
  /** Root complex: PCI segment and whether it supports ATS (ATS Attribute bit 0). */
  readonly segment?: number;
  readonly ats?: boolean;
  /** SMMUv3: register base and GSIVs. */
  readonly base?: number;
  readonly gsiv?: { readonly event: number; readonly pri: number; readonly gerr: number; readonly sync: number };
}

export interface Iort {
  readonly nodes: readonly IortNode[];
}

export function parseIort(t: AcpiTable): Result<Iort> {
  return parseWith('IORT', () => {
    const v = new ByteView(t.bytes, 'IORT');
    const count = v.u32le(SDT_HEADER_SIZE);
    let o = v.u32le(SDT_HEADER_SIZE + 4);
    const nodes: IortNode[] = [];
    for (let i = 0; i < count; i++) {
      const type = v.u8(o);
      const length = v.u16le(o + 1);
      if (length < 16 || o + length > t.length) throw new ParseError(`node ${i} at ${o}: length ${length} runs past the table`);
      const mapCount = v.u32le(o + 8);
      const mapOff = v.u32le(o + 12);
      const mappings: IortIdMapping[] = [];
      for (let m = 0; m < mapCount; m++) {
        const at = o + mapOff + m * 20;
        if (mapOff + (m + 1) * 20 > length) throw new ParseError(`node ${i} at ${o}: ID mapping ${m} lies outside the node`);
        mappings.push({
          inputBase: v.u32le(at), idCount: v.u32le(at + 4), outputBase: v.u32le(at + 8), outputRef: v.u32le(at + 12),
          single: (v.u32le(at + 16) & 1) === 1,
        });
      }
      const node: IortNode = type === IORT_NODE_PCI_ROOT_COMPLEX
        ? { offset: o, type, mappings, ats: (v.u32le(o + 24) & 1) === 1, segment: v.u32le(o + 28) }
        : type === IORT_NODE_SMMU_V3
          ? { offset: o, type, mappings, base: v.u64le(o + 16), gsiv: { event: v.u32le(o + 44), pri: v.u32le(o + 48), gerr: v.u32le(o + 52), sync: v.u32le(o + 56) } }
          : { offset: o, type, mappings };
      nodes.push(node);
      o += length;
    }
    return { nodes };
  });
}

/**
 * iort_node_map_id for a PCI requester ID: the first RC mapping whose range
 * [input base, input base + ID count] holds the RID, except that a match on
 * a range's last ID is given up for a following range that starts there
 * (Linux iort_id_map's workaround for firmware that writes the number of
 * IDs: QEMU 7.2 does). Returns the output node and ID.
 */
export function iortMapRid(iort: Iort, segment: number, rid: number): { node: IortNode; id: number } | undefined {
  const rc = iort.nodes.find((n) => n.type === IORT_NODE_PCI_ROOT_COMPLEX && n.segment === segment);
  if (!rc) return undefined;
  let found: { node: IortNode; id: number } | undefined;
  let atEnd = false;
  for (const m of rc.mappings) {
    if (rid < m.inputBase || rid > m.inputBase + m.idCount) continue;
    if (found && !(atEnd && rid === m.inputBase)) continue;
    const node = iort.nodes.find((n) => n.offset === m.outputRef);
    if (!node) continue;
    found = { node, id: m.single ? m.outputBase : m.outputBase + (rid - m.inputBase) };
    atEnd = m.idCount > 0 && rid === m.inputBase + m.idCount;
    if (!atEnd) break;
  }
  return found;
}
