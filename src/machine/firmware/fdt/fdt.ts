import { ByteBuffer } from '../byte-buffer.js';

/**
 * A flattened device tree under construction and its DTB encoding
 * (Devicetree Specification v0.4, chapter 5: header, memory reservation
 * block, structure block, strings block; version 17, last compatible 16).
 * Nodes and properties keep insertion order, so a generator that adds them
 * in the order QEMU's blob shows them gets the same `dtc -O dts` output.
 */
export const FDT_MAGIC = 0xd00dfeed;
export const FDT_BEGIN_NODE = 0x1;
export const FDT_END_NODE = 0x2;
export const FDT_PROP = 0x3;
export const FDT_NOP = 0x4;
export const FDT_END = 0x9;
export const FDT_VERSION = 17;
export const FDT_LAST_COMP_VERSION = 16;
const FDT_HEADER_SIZE = 40;

export interface FdtProperty {
  readonly name: string;
  value: Uint8Array;
}

const utf8 = new TextEncoder();

/** 32-bit big-endian cells. */
export function fdtCells(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => v.setUint32(i * 4, x >>> 0));
  return out;
}

/** A 64-bit value as two cells (high, low). */
export function fdtU64Cells(value: number | bigint): number[] {
  const n = BigInt.asUintN(64, BigInt(value));
  return [Number(n >> 32n), Number(n & 0xffff_ffffn)];
}

/** NUL-terminated strings back to back (a string list). */
export function fdtStringList(...list: string[]): Uint8Array {
  const parts = list.map((s) => utf8.encode(s));
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length + 1, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length + 1;
  }
  return out;
}

export class FdtNode {
  readonly props: FdtProperty[] = [];
  readonly children: FdtNode[] = [];

  constructor(readonly name: string) {}

  /** Sets a property (replacing one of the same name in place). */
  prop(name: string, value: Uint8Array): this {
    const p = this.props.find((x) => x.name === name);
    if (p) p.value = value;
    else this.props.push({ name, value });
    return this;
  }

  /** Cells: u32 values, e.g. reg, interrupts, phandle references. */
  u32(name: string, ...values: number[]): this {
    return this.prop(name, fdtCells(...values));
  }

  /** Each value as two cells (a 64-bit address or size). */
  u64(name: string, ...values: (number | bigint)[]): this {
    return this.prop(name, fdtCells(...values.flatMap(fdtU64Cells)));
  }

  string(name: string, value: string): this {
    return this.prop(name, fdtStringList(value));
  }

  strings(name: string, ...list: string[]): this {
    return this.prop(name, fdtStringList(...list));
  }

  bytes(name: string, value: Uint8Array | readonly number[]): this {
    return this.prop(name, Uint8Array.from(value));
  }

  /** A property without a value (e.g. interrupt-controller, dma-coherent). */
  empty(name: string): this {
    return this.prop(name, new Uint8Array(0));
  }

  /** Sets this node's phandle (the `phandle` property) and returns it. */
  phandle(value: number): number {
    this.u32('phandle', value);
    return value;
  }

  getProp(name: string): Uint8Array | undefined {
    return this.props.find((p) => p.name === name)?.value;
  }

  removeProp(name: string): void {
    const i = this.props.findIndex((p) => p.name === name);
    if (i >= 0) this.props.splice(i, 1);
  }

  /** Adds a child (at the end, or before the sibling named `before`); names are unique. */
  node(name: string, opts: { before?: string } = {}): FdtNode {
    if (this.child(name)) throw new Error(`FDT: node '${name}' already exists in '${this.name || '/'}'`);
    const n = new FdtNode(name);
    const i = opts.before !== undefined ? this.children.findIndex((c) => c.name === opts.before) : -1;
    if (i >= 0) this.children.splice(i, 0, n);
    else this.children.push(n);
    return n;
  }

  child(name: string): FdtNode | undefined {
    return this.children.find((c) => c.name === name);
  }
}

/** A device tree: the root node, the memory reservations and the boot CPU. */
export class Fdt {
  readonly root = new FdtNode('');
  readonly memReserve: { address: number | bigint; size: number | bigint }[] = [];
  bootCpuidPhys = 0;

  /** The node at an absolute path ("/", "/pcie@10000000", "/intc@8000000/v2m@8020000"). */
  find(path: string): FdtNode | undefined {
    let n: FdtNode | undefined = this.root;
    for (const part of path.split('/').filter((p) => p.length > 0)) n = n?.child(part);
    return n;
  }

  /** Encodes the DTB: header, reservations, structure, strings (names de-duplicated). */
  toDtb(): Uint8Array {
    const strings = new ByteBuffer();
    const nameOffsets = new Map<string, number>();
    const nameOff = (name: string): number => {
      let off = nameOffsets.get(name);
      if (off === undefined) {
        off = strings.bytes(fdtStringList(name));
        nameOffsets.set(name, off);
      }
      return off;
    };
    const st = new ByteBuffer();
    const emit = (n: FdtNode): void => {
      st.be32(FDT_BEGIN_NODE);
      st.bytes(fdtStringList(n.name));
      st.align(4);
      for (const p of n.props) {
        st.be32(FDT_PROP);
        st.be32(p.value.length);
        st.be32(nameOff(p.name));
        st.bytes(p.value);
        st.align(4);
      }
      for (const c of n.children) emit(c);
      st.be32(FDT_END_NODE);
    };
    emit(this.root);
    st.be32(FDT_END);
    const rsv = new ByteBuffer();
    for (const r of this.memReserve) {
      rsv.be64(r.address);
      rsv.be64(r.size);
    }
    rsv.be64(0);
    rsv.be64(0);
    const offRsv = FDT_HEADER_SIZE; // already 8-byte aligned
    const offStruct = offRsv + rsv.length;
    const offStrings = offStruct + st.length;
    const total = offStrings + strings.length;
    const out = new ByteBuffer();
    for (const v of [FDT_MAGIC, total, offStruct, offStrings, offRsv, FDT_VERSION, FDT_LAST_COMP_VERSION,
      this.bootCpuidPhys, strings.length, st.length]) out.be32(v);
    out.bytes(rsv.view8());
    out.bytes(st.view8());
    out.bytes(strings.view8());
    return out.toBytes();
  }
}
