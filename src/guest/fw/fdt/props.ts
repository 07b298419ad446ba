import { ParseError } from '../../util/result.js';
import type { FdtNode, FdtTree } from './fdt.js';

/** Combines `n` big-endian cells starting at `i` into one value (Devicetree spec 2.2.4.1 <prop-encoded-array>). */
export function cellsValue(cells: readonly number[], i: number, n: number): bigint {
  let v = 0n;
  for (let k = 0; k < n; k++) v = (v << 32n) | BigInt(cells[i + k]! >>> 0);
  return v;
}

export interface RegEntry {
  readonly address: bigint;
  readonly size: bigint;
}

function entries(node: FdtNode, prop: string, width: number): number[] {
  const c = node.cells(prop) ?? [];
  if (width <= 0 || c.length % width !== 0) throw new ParseError(`${node.path}: '${prop}' has ${c.length} cells, not a multiple of ${width}`);
  return c;
}

/** `reg` decoded with the parent's #address-cells and #size-cells (Devicetree spec 2.3.6). */
export function regOf(node: FdtNode): RegEntry[] {
  const ac = node.parent?.addressCells ?? 2;
  const sc = node.parent?.sizeCells ?? 1;
  const c = entries(node, 'reg', ac + sc);
  const out: RegEntry[] = [];
  for (let i = 0; i < c.length; i += ac + sc) out.push({ address: cellsValue(c, i, ac), size: cellsValue(c, i + ac, sc) });
  return out;
}

export interface RangeEntry {
  /** The child address cells as given (for PCI: phys.hi, phys.mid, phys.lo). */
  readonly childCells: readonly number[];
  /** The child address without a PCI phys.hi cell. */
  readonly childAddress: bigint;
  readonly parentAddress: bigint;
  readonly size: bigint;
}

/** `ranges` (Devicetree spec 2.3.8): child address (own #address-cells), parent address (parent's), size (own #size-cells). */
export function rangesOf(node: FdtNode): RangeEntry[] {
  const ca = node.addressCells;
  const pa = node.parent?.addressCells ?? 2;
  const sc = node.sizeCells;
  const c = entries(node, 'ranges', ca + pa + sc);
  const out: RangeEntry[] = [];
  for (let i = 0; i < c.length; i += ca + pa + sc) {
    const childCells = c.slice(i, i + ca);
    const childAddress = ca === 3 ? cellsValue(c, i + 1, 2) : cellsValue(c, i, ca);
    out.push({ childCells, childAddress, parentAddress: cellsValue(c, i + ca, pa), size: cellsValue(c, i + ca + pa, sc) });
  }
  return out;
}

/** PCI address spaces in phys.hi bits 25:24 (IEEE Std 1275 PCI bus binding, section 2.2.1.1). */
export type PciSpace = 'config' | 'io' | 'mem32' | 'mem64';
const SPACES: PciSpace[] = ['config', 'io', 'mem32', 'mem64'];

export interface PciRange {
  readonly space: PciSpace;
  readonly prefetchable: boolean;
  readonly pciAddress: bigint;
  readonly cpuAddress: bigint;
  readonly size: bigint;
}

/** A PCI host bridge's `ranges`, with phys.hi decoded (ss = bits 25:24, p = bit 30). */
export function pciRangesOf(node: FdtNode): PciRange[] {
  if (node.addressCells !== 3) throw new ParseError(`${node.path}: a PCI bus node needs #address-cells = 3`);
  return rangesOf(node).map((r) => ({
    space: SPACES[(r.childCells[0]! >>> 24) & 3]!,
    prefetchable: ((r.childCells[0]! >>> 30) & 1) === 1,
    pciAddress: r.childAddress,
    cpuAddress: r.parentAddress,
    size: r.size,
  }));
}

export interface IommuMapEntry {
  readonly ridBase: number;
  readonly iommu: FdtNode;
  /** First cell of the IOMMU specifier (the stream / endpoint ID base). */
  readonly idBase: number;
  readonly length: number;
}

/**
 * `iommu-map` (Linux Documentation/devicetree/bindings/pci/pci-iommu.txt):
 * entries <rid-base iommu-phandle iommu-specifier length>, the specifier
 * being #iommu-cells of the IOMMU node (1 for SMMUv3 and virtio-iommu).
 */
export function iommuMapOf(node: FdtNode, tree: FdtTree): IommuMapEntry[] {
  const c = node.cells('iommu-map');
  if (!c) return [];
  const out: IommuMapEntry[] = [];
  for (let i = 0; i < c.length;) {
    if (i + 2 > c.length) throw new ParseError(`${node.path}: 'iommu-map' ends inside an entry`);
    const iommu = tree.byPhandle(c[i + 1]!);
    if (!iommu) throw new ParseError(`${node.path}: 'iommu-map' refers to unknown phandle ${c[i + 1]}`);
    const cellsN = iommu.u32('#iommu-cells');
    if (cellsN === undefined || cellsN < 1) throw new ParseError(`${iommu.path}: '#iommu-cells' missing or 0, as used by ${node.path} 'iommu-map'`);
    if (i + 3 + cellsN > c.length) throw new ParseError(`${node.path}: 'iommu-map' ends inside an entry`);
    out.push({ ridBase: c[i]!, iommu, idBase: c[i + 2]!, length: c[i + 2 + cellsN]! });
    i += 3 + cellsN;
  }
  return out;
}

/** Maps a requester ID through `iommu-map` (and `iommu-map-mask`) as Linux of_map_id does: first matching entry. */
export function mapRid(node: FdtNode, map: readonly IommuMapEntry[], rid: number): { iommu: FdtNode; id: number } | undefined {
  const mask = node.u32('iommu-map-mask') ?? 0xffffffff;
  const r = (rid & mask) >>> 0;
  for (const e of map) {
    if (r >= e.ridBase && r - e.ridBase < e.length) return { iommu: e.iommu, id: e.idBase + (r - e.ridBase) };
  }
  return undefined;
}

export interface DmaWindow {
  readonly liobn: number;
  readonly busAddress: bigint;
  readonly size: bigint;
}

/**
 * `ibm,dma-window` (LoPAPR B.6.5.1; Linux of_parse_dma_window): LIOBN, then
 * the bus address in `ibm,#dma-address-cells` (default the node's
 * #address-cells) and the size in `ibm,#dma-size-cells` (default #size-cells).
 */
export function dmaWindowOf(node: FdtNode, prop = 'ibm,dma-window'): DmaWindow | undefined {
  const c = node.cells(prop);
  if (!c) return undefined;
  const ac = node.u32('ibm,#dma-address-cells') ?? node.addressCells;
  const sc = node.u32('ibm,#dma-size-cells') ?? node.sizeCells;
  if (c.length !== 1 + ac + sc) throw new ParseError(`${node.path}: '${prop}' has ${c.length} cells, expected ${1 + ac + sc}`);
  return { liobn: c[0]!, busAddress: cellsValue(c, 1, ac), size: cellsValue(c, 1 + ac, sc) };
}
