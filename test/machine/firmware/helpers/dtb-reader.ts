/**
 * A DTB decoder for tests (Devicetree Specification v0.4 chapter 5),
 * written separately from the builder: checks the header and block
 * offsets, walks the structure block and returns nodes with properties in
 * blob order.
 */
export interface DtbNode {
  readonly name: string;
  readonly path: string;
  readonly props: Map<string, Buffer>;
  readonly children: DtbNode[];
}

export interface Dtb {
  readonly version: number;
  readonly lastCompVersion: number;
  readonly bootCpuid: number;
  readonly memReserve: [bigint, bigint][];
  readonly root: DtbNode;
  readonly strings: Buffer;
}

export function readDtb(bytes: Uint8Array): Dtb {
  const b = Buffer.from(bytes);
  if (b.readUInt32BE(0) !== 0xd00dfeed) throw new Error('bad FDT magic');
  const total = b.readUInt32BE(4);
  const offStruct = b.readUInt32BE(8);
  const offStrings = b.readUInt32BE(12);
  const offRsv = b.readUInt32BE(16);
  const sizeStrings = b.readUInt32BE(32);
  const sizeStruct = b.readUInt32BE(36);
  if (total > b.length || offStrings + sizeStrings > total || offStruct + sizeStruct > total) throw new Error('blocks outside the blob');
  if (offRsv % 8 !== 0 || offStruct % 4 !== 0) throw new Error('misaligned block');
  const memReserve: [bigint, bigint][] = [];
  for (let o = offRsv; ; o += 16) {
    const a = b.readBigUInt64BE(o);
    const s = b.readBigUInt64BE(o + 8);
    if (a === 0n && s === 0n) break;
    memReserve.push([a, s]);
  }
  const strings = b.subarray(offStrings, offStrings + sizeStrings);
  const str = (o: number): string => strings.toString('latin1', o, strings.indexOf(0, o));
  let p = offStruct;
  const end = offStruct + sizeStruct;
  const stack: DtbNode[] = [];
  let root: DtbNode | undefined;
  for (;;) {
    if (p >= end) throw new Error('structure block ends without FDT_END');
    const tag = b.readUInt32BE(p);
    p += 4;
    if (tag === 1) {
      const z = b.indexOf(0, p);
      const name = b.toString('latin1', p, z);
      p = (z + 1 + 3) & ~3;
      const parent = stack[stack.length - 1];
      const path = parent ? `${parent.path === '/' ? '' : parent.path}/${name}` : '/';
      const n: DtbNode = { name, path, props: new Map(), children: [] };
      if (parent) parent.children.push(n);
      else if (root) throw new Error('two roots');
      else root = n;
      stack.push(n);
    } else if (tag === 3) {
      const len = b.readUInt32BE(p);
      const nameoff = b.readUInt32BE(p + 4);
      const node = stack[stack.length - 1];
      if (!node) throw new Error('property outside a node');
      node.props.set(str(nameoff), b.subarray(p + 8, p + 8 + len));
      p = (p + 8 + len + 3) & ~3;
    } else if (tag === 2) {
      if (!stack.pop()) throw new Error('unbalanced FDT_END_NODE');
    } else if (tag === 4) {
      // FDT_NOP
    } else if (tag === 9) {
      if (stack.length !== 0) throw new Error('FDT_END inside a node');
      break;
    } else {
      throw new Error(`bad tag ${tag} at ${p - 4}`);
    }
  }
  return { version: b.readUInt32BE(20), lastCompVersion: b.readUInt32BE(24), bootCpuid: b.readUInt32BE(28), memReserve, root: root!, strings };
}

export function findNode(root: DtbNode, path: string): DtbNode | undefined {
  let n: DtbNode | undefined = root;
  for (const part of path.split('/').filter((x) => x)) n = n?.children.find((c) => c.name === part);
  return n;
}

export function allNodes(n: DtbNode): DtbNode[] {
  return [n, ...n.children.flatMap(allNodes)];
}

export function u32s(v: Buffer | undefined): number[] {
  if (!v) return [];
  return Array.from({ length: v.length / 4 }, (_, i) => v.readUInt32BE(i * 4));
}

export function strs(v: Buffer | undefined): string[] {
  if (!v) return [];
  return v.toString('latin1').split('\0').slice(0, -1);
}
