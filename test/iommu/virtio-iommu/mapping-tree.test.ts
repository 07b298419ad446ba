import t from 'tap';
import { Xorshift32 } from '../../../src/base/prng.js';
import { MappingTree } from '../../../src/iommu/virtio-iommu/mapping-tree.js';

// The per-domain interval structure: an AVL tree whose lookups, inserts
// and removals are O(log n), exact over the whole u64 space.

t.test('random inserts and removals agree with a sorted list; the height stays logarithmic', async (t) => {
  const rng = new Xorshift32(7);
  const tree = new MappingTree();
  const ref = new Map<number, [number, number]>();
  const overlaps = (s: number, e: number) => [...ref.values()].some(([a, b]) => s <= b && e >= a);
  for (let op = 0; op < 6000; op++) {
    const s = (rng.next() % 50000) * 16;
    const e = s + (rng.next() % 64) + 1;
    if (rng.next() % 3 !== 0) {
      if (!overlaps(s, e)) {
        tree.insert(BigInt(s), BigInt(e), BigInt(s * 2), 3);
        ref.set(s, [s, e]);
      }
    } else {
      const keys = [...ref.keys()];
      if (keys.length) {
        const k = keys[rng.next() % keys.length]!;
        t.equal(tree.remove(BigInt(k)), true);
        ref.delete(k);
      }
    }
  }
  t.equal(tree.size, ref.size, `${ref.size} mappings`);
  t.same(tree.all().map((m) => Number(m.start)), [...ref.keys()].sort((a, b) => a - b), 'in-order walk is sorted');
  t.ok(tree.depth <= 1.45 * Math.log2(tree.size + 2), `height ${tree.depth} for ${tree.size} nodes`);
  let wrong = 0;
  for (let i = 0; i < 20000; i++) {
    const a = rng.next() % 800100;
    const hit = [...ref.values()].find(([s, e]) => a >= s && a <= e);
    const n = tree.findNumber(a);
    if (hit ? n < 0 || tree.startOf(n) !== hit[0] || tree.physOf(n) !== hit[0] * 2 : n >= 0) wrong++;
  }
  t.equal(wrong, 0, 'lookups of random addresses');
  const q = tree.overlapping(100000n, 120000n).map((m) => Number(m.start));
  t.same(q, [...ref.values()].filter(([s, e]) => s <= 120000 && e >= 100000).map(([s]) => s).sort((a, b) => a - b), 'range query');
  t.equal(tree.remove(1n), false, 'removing an absent start');
});

t.test('exact at the top of the 64-bit space', async (t) => {
  const tree = new MappingTree();
  const top = (1n << 64n) - 1n;
  tree.insert(top - 0xfffn, top, 0x1000n, 1);
  tree.insert((1n << 53n) + 1n, (1n << 53n) + 2n, 0x2000n, 1);
  tree.insert(0n, 0xfffn, 0x3000n, 1);
  t.same(tree.overlapping(top, top).map((m) => m.start), [top - 0xfffn]);
  t.same(tree.overlapping((1n << 53n) + 2n, (1n << 53n) + 2n).map((m) => m.end), [(1n << 53n) + 2n], 'a key past 2^53 stays exact');
  t.same(tree.overlapping((1n << 53n) + 3n, top - 0x1000n), []);
  t.equal(tree.findNumber(0x800), tree.findNumber(0), 'numeric lookup below 2^53');
  t.equal(tree.findNumber(2 ** 52), -1, 'no false hit from a mapping above 2^53');
  t.equal(tree.find(0xffffffff, 0xffffffff) >= 0, true, 'the last byte of the space');
  t.equal(tree.remove(top - 0xfffn), true);
  t.equal(tree.find(0xffffffff, 0xffffffff), -1);
});
