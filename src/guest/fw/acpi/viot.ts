import { ByteView } from '../../util/bytes.js';
import { parseWith, ParseError, type Result } from '../../util/result.js';
import { SDT_HEADER_SIZE, type AcpiTable } from './sdt.js';

/**
 * VIOT, the Virtual I/O Translation table (ACPI 6.5 section 5.2.32; Linux
 * drivers/acpi/viot.c, include/acpi/actbl3.h): after the header, u16
 * node_count @36, u16 node_offset @38, reserved[8]; nodes {u8 type, u8
 * reserved, u16 length, ...}: PCI range (1: u32 endpoint_start @4, u16
 * segment_start @8, u16 segment_end @10, u16 bdf_start @12, u16 bdf_end
 * @14, u16 output_node @16), MMIO endpoint (2: u32 endpoint @4, u64
 * base_address @8, u16 output_node @16), virtio-pci IOMMU (3: u16 segment
 * @4, u16 bdf @6), virtio-mmio IOMMU (4: u64 base_address @8). Every node
 * must lie inside the table with a length of at least 4 and of its type's
 * size; outputs must name an IOMMU node; unknown types are skipped.
 */
export const VIOT_HEADER_SIZE = 48;
export const VIOT_NODE_PCI_RANGE = 1;
export const VIOT_NODE_MMIO = 2;
export const VIOT_NODE_VIRTIO_IOMMU_PCI = 3;
export const VIOT_NODE_VIRTIO_IOMMU_MMIO = 4;

export type ViotIommu =
  | { readonly offset: number; readonly kind: 'pci'; readonly segment: number; readonly bdf: number }
  | { readonly offset: number; readonly kind: 'mmio'; readonly base: number };

export interface ViotPciRange {
  readonly endpointStart: number;
  readonly segmentStart: number;
  readonly segmentEnd: number;
  readonly bdfStart: number;
  readonly bdfEnd: number;
  readonly output: ViotIommu;
}

export interface ViotMmioEndpoint {
  readonly endpoint: number;
  readonly base: number;
  readonly output: ViotIommu;
}

export interface Viot {
  readonly iommus: readonly ViotIommu[];
  readonly pciRanges: readonly ViotPciRange[];
  readonly mmioEndpoints: readonly ViotMmioEndpoint[];
  /** Node types the parser did not know (skipped, as Linux does with a warning). */
  readonly skipped: readonly number[];
}

const NODE_SIZE: Record<number, number> = { 1: 24, 2: 24, 3: 16, 4: 16 };

export function parseViot(t: AcpiTable): Result<Viot> {
  return parseWith('VIOT', () => {
    if (t.length < VIOT_HEADER_SIZE) throw new ParseError(`length ${t.length} is shorter than the VIOT header`);
    const v = new ByteView(t.bytes, 'VIOT');
    const count = v.u16le(SDT_HEADER_SIZE);
    let off = v.u16le(SDT_HEADER_SIZE + 2);
    const nodes: { off: number; type: number }[] = [];
    for (let i = 0; i < count; i++) {
      if (off + 4 > t.length) throw new ParseError(`node ${i} at ${off} runs past the table`);
      const type = v.u8(off);
      const len = v.u16le(off + 2);
      if (len < 4 || off + len > t.length) throw new ParseError(`node ${i} at ${off}: length ${len} is invalid`);
      const need = NODE_SIZE[type];
      if (need !== undefined && len < need) throw new ParseError(`node ${i} at ${off}: length ${len} is short for type ${type}`);
      nodes.push({ off, type });
      off += len;
    }
    const iommus: ViotIommu[] = [];
    for (const n of nodes) {
      if (n.type === VIOT_NODE_VIRTIO_IOMMU_PCI) iommus.push({ offset: n.off, kind: 'pci', segment: v.u16le(n.off + 4), bdf: v.u16le(n.off + 6) });
      if (n.type === VIOT_NODE_VIRTIO_IOMMU_MMIO) iommus.push({ offset: n.off, kind: 'mmio', base: v.u64le(n.off + 8) });
    }
    const output = (n: { off: number }): ViotIommu => {
      const o = v.u16le(n.off + 16);
      const io = iommus.find((x) => x.offset === o);
      if (!io) throw new ParseError(`node at ${n.off}: output node ${o} is not an IOMMU node`);
      return io;
    };
    const pciRanges: ViotPciRange[] = [];
    const mmioEndpoints: ViotMmioEndpoint[] = [];
    const skipped: number[] = [];
    for (const n of nodes) {
      if (n.type === VIOT_NODE_PCI_RANGE) {
        pciRanges.push({
          endpointStart: v.u32le(n.off + 4), segmentStart: v.u16le(n.off + 8), segmentEnd: v.u16le(n.off + 10),
          bdfStart: v.u16le(n.off + 12), bdfEnd: v.u16le(n.off + 14), output: output(n),
        });
      } else if (n.type === VIOT_NODE_MMIO) {
        mmioEndpoints.push({ endpoint: v.u32le(n.off + 4), base: v.u64le(n.off + 8), output: output(n) });
      } else if (n.type !== VIOT_NODE_VIRTIO_IOMMU_PCI && n.type !== VIOT_NODE_VIRTIO_IOMMU_MMIO) {
        skipped.push(n.type);
      }
    }
    return { iommus, pciRanges, mmioEndpoints, skipped };
  });
}

/**
 * viot_pci_dev_iommu_init: the endpoint ID of requester `bdf` in `segment`
 * through a range, ((segment - segment_start) << 16) + (bdf - bdf_start) +
 * endpoint_start, or undefined when the range does not cover it.
 */
export function viotEndpointId(r: ViotPciRange, segment: number, bdf: number): number | undefined {
  if (segment < r.segmentStart || segment > r.segmentEnd || bdf < r.bdfStart || bdf > r.bdfEnd) return undefined;
  return ((segment - r.segmentStart) * 0x10000 + (bdf - r.bdfStart) + r.endpointStart) >>> 0;
}
