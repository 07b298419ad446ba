import type { FuzzTarget } from '../types.js';
import { firmwareTarget } from './firmware.js';
import { mmioTarget } from './mmio.js';
import { qmpTarget } from './qmp.js';
import { qtestTarget } from './qtest.js';
import { smmuv3Target } from './smmuv3.js';
import { spaprTarget } from './spapr.js';
import { virtioTarget } from './virtio.js';
import { vhostTarget } from './vhost.js';
import { vtdTarget } from './vtd.js';

/** Every fuzz target, by name, in the order `--target all` runs them (each made fresh: targets keep caches). */
export const FUZZ_TARGETS: Readonly<Record<string, () => FuzzTarget>> = {
  mmio: mmioTarget,
  vtd: vtdTarget,
  smmuv3: smmuv3Target,
  spapr: spaprTarget,
  virtio: virtioTarget,
  firmware: firmwareTarget,
  qmp: qmpTarget,
  qtest: qtestTarget,
  vhost: vhostTarget,
};
