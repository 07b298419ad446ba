import type { BootOptions } from '../guest/boot.js';
import { DmaOracle } from '../guest/oracle/oracle.js';
import { bootGuest } from '../guest/boot.js';
import type { BootReport } from '../guest/report/report.js';
import { installDmaTap } from '../machine/dma-tap.js';
import type { Machine } from '../machine/machine.js';

/**
 * Boots the synthetic guest on a machine and runs its workloads with the DMA
 * oracle checking every DMA against the guest's own mappings (what
 * `viommu boot` prints). Runs in virtual time; returns when the workloads end.
 *
 * @param machine - a machine from {@link createMachine}; boot it once.
 * @param options - DMA mode (`strict` | `lazy` | `passthrough`), workloads
 *   (default `[{name: 'edu-dma'}]`), seed, regression switches, ...
 * @returns the boot report: devices, IOMMU groups, notifiers, DMA and
 *   invalidation counters, and the oracle's verdict (`report.oracle.violations`).
 * @throws ConfigError for bad options (unknown workload, DMA mode, ...).
 */
export function runGuest(machine: Machine, options: BootOptions = {}): BootReport {
  const port = machine.guestPort();
  const oracle = options.oracle ?? new DmaOracle(() => port.now(), port.log);
  installDmaTap(machine, oracle);
  return bootGuest(port, { ...options, oracle });
}
