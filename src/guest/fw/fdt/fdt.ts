import { ByteView } from '../../util/bytes.js';
import { parseWith, ParseError, type Result } from '../../util/result.js';

/**
 * Flattened device tree blob (Devicetree Specification v0.4, chapter 5):
 * a big-endian header, the memory reservation block, the structure block
 * (tokens FDT_BEGIN_NODE, FDT_END_NODE, FDT_PROP, FDT_NOP, FDT_END) and the
 * strings block. Versions 16 and 17 are accepted.
 */
export const FDT_MAGIC = 0xd00dfeed;
export const FDT_BEGIN_NODE = 0x1;
export const FDT_END_NODE = 0x2;
export const FDT_PROP = 0x3;
export const FDT_NOP = 0x4;
export const FDT_END = 0x9;
export const FDT_HEADER_SIZE = 40;
/** Nesting bound, so a hostile blob cannot recurse without end. */
const MAX_DEPTH = 64;

export class FdtNode {
  readonly children: FdtNode[] = [];
  readonly props = new Map<string, Uint8Array>();

  constructor(readonly name: string, readonly parent: FdtNode | undefined) {}

  /** The name before '@'. */
  get nodeName(): string {
    const at = this.name.indexOf('@');
    return at < 0 ? this.name : this.name.slice(0, at);
  }
  /** The unit address after '@', or ''. */
  get unitAddress(): string {
    const at = this.name.indexOf('@');
    return at < 0 ? '' : this.name.slice(at + 1);
  }
  get path(): string {
    if (!this.parent) return '/';
    const p = this.parent.path;
    return (p === '/' ? '' : p) + '/' + this.name;
  }

  prop(name: string): Uint8Array | undefined {
    return this.props.get(name);
  }
  has(name: string): boolean {
    return this.props.has(name);
  }
  /** A property as big-endian u32 cells; a length that is not a multiple of 4 is a ParseError. */
  cells(name: string): number[] | undefined {
    const p = this.props.get(name);
    if (!p) return undefined;
    if (p.length % 4 !== 0) throw new ParseError(`${this.path}: property '${name}' is ${p.length} bytes, not whole cells`);
    const v = new ByteView(p, name);
    const out: number[] = [];
    for (let i = 0; i < p.length; i += 4) out.push(v.u32be(i));
    return out;
  }
  u32(name: string): number | undefined {
    const c = this.cells(name);
    if (!c) return undefined;
    if (c.length !== 1) throw new ParseError(`${this.path}: property '${name}' has ${c.length} cells, expected 1`);
    return c[0];
  }
  /** A string-list property (NUL-separated, NUL-terminated). */
  strings(name: string): string[] | undefined {
    const p = this.props.get(name);
    if (!p) return undefined;
    if (p.length === 0 || p[p.length - 1] !== 0) throw new ParseError(`${this.path}: property '${name}' is not a NUL-terminated string list`);
    return String.fromCharCode(...p.subarray(0, p.length - 1)).split('\0');
  }
  string(name: string): string | undefined {
    return this.strings(name)?.[0];
  }
  isCompatible(c: string): boolean {
    return this.strings('compatible')?.includes(c) ?? false;
  }
  get phandle(): number | undefined {
    return this.u32('phandle') ?? this.u32('linux,phandle');
  }
  /** #address-cells this node gives its children (Devicetree spec 2.3.5: default 2). */
  get addressCells(): number {
    return this.u32('#address-cells') ?? 2;
  }
  /** #size-cells this node gives its children (default 1). */
  get sizeCells(): number {
    return this.u32('#size-cells') ?? 1;
  }
  child(name: string): FdtNode | undefined {
    return this.children.find((c) => c.name === name) ?? this.children.find((c) => c.nodeName === name);
  }
}

export interface MemReserve {
  readonly address: bigint;
  readonly size: bigint;
}

export class FdtTree {
  private readonly phandles = new Map<number, FdtNode>();

  constructor(readonly root: FdtNode, readonly version: number, readonly bootCpuidPhys: number, readonly memReserve: readonly MemReserve[]) {
    const walk = (n: FdtNode): void => {
      const ph = n.phandle;
      if (ph !== undefined) {
        if (ph === 0 || ph === 0xffffffff) throw new ParseError(`${n.path}: phandle ${ph} is reserved`);
        if (this.phandles.has(ph)) throw new ParseError(`${n.path}: phandle ${ph} is also used by ${this.phandles.get(ph)!.path}`);
        this.phandles.set(ph, n);
      }
      n.children.forEach(walk);
    };
    walk(root);
  }

  byPhandle(ph: number): FdtNode | undefined {
    return this.phandles.get(ph);
  }

  /** A node by absolute path; path components match a full name or a name without unit address. */
  byPath(path: string): FdtNode | undefined {
    let n: FdtNode | undefined = this.root;
    for (const part of path.split('/').filter((p) => p.length > 0)) {
      n = n.child(part);
      if (!n) return undefined;
    }
    return n;
  }

  /** Every node, depth first in blob order. */
  *nodes(from: FdtNode = this.root): Generator<FdtNode> {
    yield from;
    for (const c of from.children) yield* this.nodes(c);
  }

  findCompatible(c: string): FdtNode[] {
    return [...this.nodes()].filter((n) => n.isCompatible(c));
  }
}

/** Parses and checks a DTB. Any structural problem fails the whole blob. */
export function parseFdt(blob: Uint8Array): Result<FdtTree> {
  return parseWith('device tree', () => {
    const v = new ByteView(blob, 'dtb');
    if (blob.length < FDT_HEADER_SIZE) throw new ParseError(`${blob.length} bytes is shorter than the header`);
    if (v.u32be(0) !== FDT_MAGIC) throw new ParseError(`bad magic 0x${v.u32be(0).toString(16)}`);
    const totalsize = v.u32be(4);
    const offStruct = v.u32be(8);
    const offStrings = v.u32be(12);
    const offRsv = v.u32be(16);
    const version = v.u32be(20);
    const lastComp = v.u32be(24);
    const bootCpuidPhys = v.u32be(28);
    const sizeStrings = v.u32be(32);
    if (version < 16 || lastComp > 17) throw new ParseError(`version ${version} (last compatible ${lastComp}) is not supported (16 or 17)`);
    if (totalsize > blob.length || totalsize < FDT_HEADER_SIZE) throw new ParseError(`totalsize ${totalsize} does not fit the ${blob.length}-byte blob`);
    const t = v.sub(0, totalsize, 'dtb');
    const sizeStruct = version >= 17 ? v.u32be(36) : totalsize - offStruct;
    t.check(offStruct, sizeStruct);
    t.check(offStrings, sizeStrings);
    const strings = t.sub(offStrings, sizeStrings, 'dtb strings block');
    const memReserve: MemReserve[] = [];
    for (let o = offRsv; ; o += 16) {
      const address = t.u64beBig(o);
      const size = t.u64beBig(o + 8);
      if (address === 0n && size === 0n) break;
      memReserve.push({ address, size });
    }
    const s = t.sub(offStruct, sizeStruct, 'dtb structure block');
    let off = 0;
    const align4 = (x: number): number => (x + 3) & ~3;
    let root: FdtNode | undefined;
    let cur: FdtNode | undefined;
    let depth = 0;
    let ended = false;
    while (!ended) {
      const token = s.u32be(off);
      off += 4;
      switch (token) {
        case FDT_BEGIN_NODE: {
          const name = s.cstring(off);
          off = align4(off + name.length + 1);
          if (!cur) {
            if (root) throw new ParseError('a second root node');
            if (name !== '') throw new ParseError(`root node is named '${name}'`);
            root = cur = new FdtNode('', undefined);
          } else {
            if (name === '') throw new ParseError(`a node under ${cur.path} has an empty name`);
            const n = new FdtNode(name, cur);
            cur.children.push(n);
            cur = n;
          }
          if (++depth > MAX_DEPTH) throw new ParseError(`nodes nest deeper than ${MAX_DEPTH}`);
          break;
        }
        case FDT_END_NODE:
          if (!cur) throw new ParseError(`FDT_END_NODE at ${off - 4} without an open node`);
          cur = cur.parent;
          depth--;
          break;
        case FDT_PROP: {
          if (!cur) throw new ParseError(`FDT_PROP at ${off - 4} outside any node`);
          const len = s.u32be(off);
          const nameoff = s.u32be(off + 4);
          off += 8;
          s.check(off, len);
          const name = strings.cstring(nameoff);
          if (cur.props.has(name)) throw new ParseError(`${cur.path}: property '${name}' appears twice`);
          cur.props.set(name, s.bytes.subarray(off, off + len));
          off = align4(off + len);
          break;
        }
        case FDT_NOP:
          break;
        case FDT_END:
          if (cur) throw new ParseError(`FDT_END inside ${cur.path}`);
          ended = true;
          break;
        default:
          throw new ParseError(`unknown token 0x${token.toString(16)} at structure offset ${off - 4}`);
      }
    }
    if (!root) throw new ParseError('no root node');
    return new FdtTree(root, version, bootCpuidPhys, memReserve);
  });
}
