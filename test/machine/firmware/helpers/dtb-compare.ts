import type { Test } from 'tap';
import { allNodes, findNode, strs, u32s, type DtbNode } from './dtb-reader.js';

const DRC_PROPS = new Set(['ibm,drc-types', 'ibm,drc-names', 'ibm,drc-power-domains', 'ibm,drc-indexes']);

/** A node's DRCs as sorted "index name type power-domain" lines (spapr_dt_drc's four parallel, count-prefixed lists). */
export function drcTuples(n: DtbNode): string[] {
  const idx = u32s(n.props.get('ibm,drc-indexes')).slice(1);
  const names = strs(n.props.get('ibm,drc-names')!.subarray(4));
  const types = strs(n.props.get('ibm,drc-types')!.subarray(4));
  const dom = u32s(n.props.get('ibm,drc-power-domains')).slice(1);
  return idx.map((x, i) => `${x.toString(16)} ${names[i]} ${types[i]} ${dom[i]}`).sort();
}

/**
 * Every property we emit exists on QEMU's node at the same path with the
 * same bytes, in QEMU's order. DRC lists are compared as sets: QEMU orders
 * them by its QOM hash table, viommu by index.
 */
export function compareWithQemu(t: Test, ours: DtbNode, qemuRoot: DtbNode, skip: ReadonlySet<string> = new Set()): void {
  for (const n of allNodes(ours)) {
    const q = findNode(qemuRoot, n.path);
    if (!t.ok(q, `QEMU has ${n.path}`) || !q) continue;
    const qOrder = [...q.props.keys()].filter((k) => n.props.has(k));
    t.same([...n.props.keys()], qOrder, `${n.path}: our properties are QEMU's, in its order`);
    if (n.props.has('ibm,drc-indexes')) t.same(drcTuples(n), drcTuples(q), `${n.path}: the same DRCs as QEMU`);
    for (const [k, v] of n.props) {
      if (skip.has(`${n.path}:${k}`) || DRC_PROPS.has(k)) continue;
      t.equal(v.toString('hex'), q.props.get(k)?.toString('hex'), `${n.path}:${k}`);
    }
    const qKids = q.children.map((c) => c.name).filter((x) => n.children.some((c) => c.name === x));
    t.same(n.children.map((c) => c.name), qKids, `${n.path}: children in QEMU's order`);
  }
}
