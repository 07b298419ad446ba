import t from 'tap';
import { IOMMU_RO } from '../../../src/memory/index.js';
import { TranslationPool } from '../../../src/iommu/index.js';
import { vtdMachine } from './helpers.js';

// DESIGN "Shared IOTLB" coherence rule for VT-d: once the wait descriptor
// after an invalidation has completed (its status written), no translation
// that starts afterwards, on any thread, uses the removed entry.

function shared(values: number[]): Float64Array {
  const a = new Float64Array(new SharedArrayBuffer(values.length * 8));
  a.set(values);
  return a;
}

t.test('a translation worker stops using an entry once the PSI\'s wait descriptor has completed', async (t) => {
  for (const invalidate of [true, false]) {
    const v = vtdMachine();
    const s = v.bringUp({ did: 1 });
    v.qiOn();
    v.map(s, 3, 0x1000, 0x300000);
    t.equal(v.vtd.lookupContext(v.das()), 0);
    const pool = await TranslationPool.start({ workers: 1, ram: v.vtd.ram, coherence: v.vtd.coherence });
    const iovas = shared([0x1000, 0x1008]);
    const out = shared([0, 0]);
    t.same(await pool.translate(v.das().ctx, IOMMU_RO, iovas, out), { faults: 0 });
    t.same([...out], [0x300000, 0x300008], 'the worker caches the translation');
    v.map(s, 3, 0x1000, 0, 0);
    if (invalidate) v.submit(v.psi(1, 0x1000, 0), v.waitDesc(7));
    else v.submit(v.waitDesc(7));
    t.equal(v.ld32(0x103000), 7, 'the wait descriptor completed');
    const after = await pool.translate(v.das().ctx, IOMMU_RO, iovas, out);
    if (invalidate) t.same(after, { faults: 2 }, 'with the PSI: the worker faults (the walk finds no entry)');
    else t.same([...out], [0x300000, 0x300008], 'without an invalidation the worker still uses its cached entry');
    await pool.close();
  }
});
