import t from 'tap';
import { CTX_FMT_LPAE_S1, LPAE_AFFD, LPAE_FAULT_ACCESS, LPAE_FAULT_ADDR_SIZE, LPAE_FAULT_PERMISSION, LPAE_FAULT_TRANSLATION, LpaeGuestTables } from '../../../src/iommu/index.js';
import { IOMMU_RO, IOMMU_WO } from '../../../src/memory/index.js';
import { machine } from '../../helpers/iommu-machine.js';

/**
 * The batch path's LPAE fast miss pass (xlate/lpae-miss-pass.ts) must give
 * what the walker gives, fault for fault: mapped, read-only, AF = 0 (with
 * and without AFFD), output beyond the OAS, unmapped.
 */
function setup(flags = 0) {
  const m = machine({ capacity: 64 });
  const pt = new LpaeGuestTables(m.memory, 0x10_0000, 0x80_0000, 12, 16);
  const base = 0x2_0000_0000;
  for (let i = 0; i < 64; i++) {
    const iova = base + i * 4096;
    if (i % 8 === 1) pt.map(iova, 0x90_0000 + i * 4096, { write: false });
    else if (i % 8 === 2) pt.map(iova, 0x90_0000 + i * 4096, { af: false });
    else if (i % 8 === 3) pt.map(iova, 0x1000_0000_0000 + i * 4096);
    else if (i % 8 !== 4) pt.map(iova, 0x90_0000 + i * 4096);
  }
  m.coherence.setContext(1, { format: CTX_FMT_LPAE_S1, root: pt.root, params: [12, 16, 44, flags] });
  return { m, base };
}

for (const flags of [0, LPAE_AFFD]) {
  for (const access of [IOMMU_RO, IOMMU_WO]) {
    t.test(`batch == single walks (access ${access === IOMMU_RO ? 'read' : 'write'}${flags ? ', AFFD' : ''})`, async (t) => {
      const single = setup(flags);
      const want = Array.from({ length: 64 }, (_, i) => single.m.engine.translate(1, single.base + i * 4096 + 8, access));
      const batch = setup(flags);
      // Warm the walk cache with one access per 2 MiB region, then translate everything in one batch.
      batch.m.engine.translate(1, batch.base, IOMMU_RO);
      const iovas = new Float64Array(64).map((_, i) => batch.base + i * 4096 + 8);
      const out = new Float64Array(64);
      const faults = batch.m.engine.translateBatch(1, access, iovas, 0, 64, out);
      t.same([...out], want);
      t.equal(faults, want.filter((x) => x < 0).length);
      const kinds = new Set(want.filter((x) => x < 0).map((x) => -x));
      const expect = [LPAE_FAULT_TRANSLATION, LPAE_FAULT_ADDR_SIZE, ...(flags ? [] : [LPAE_FAULT_ACCESS]), ...(access === IOMMU_WO ? [LPAE_FAULT_PERMISSION] : [])];
      t.same([...kinds].sort(), expect.sort(), 'the faults the table holds');
    });
  }
}
