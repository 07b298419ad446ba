import type { Test } from 'tap';
import { allNodes, findNode, type DtbNode } from './dtb-reader.js';

/** Every property we emit exists on QEMU's node at the same path with the same bytes, in QEMU's order. */
export function compareWithQemu(t: Test, ours: DtbNode, qemuRoot: DtbNode, skip: ReadonlySet<string> = new Set()): void {
  for (const n of allNodes(ours)) {
    const q = findNode(qemuRoot, n.path);
    if (!t.ok(q, `QEMU has ${n.path}`) || !q) continue;
    const qOrder = [...q.props.keys()].filter((k) => n.props.has(k));
    t.same([...n.props.keys()], qOrder, `${n.path}: our properties are QEMU's, in its order`);
    for (const [k, v] of n.props) {
      if (skip.has(`${n.path}:${k}`)) continue;
      t.equal(v.toString('hex'), q.props.get(k)?.toString('hex'), `${n.path}:${k}`);
    }
    const qKids = q.children.map((c) => c.name).filter((x) => n.children.some((c) => c.name === x));
    t.same(n.children.map((c) => c.name), qKids, `${n.path}: children in QEMU's order`);
  }
}
