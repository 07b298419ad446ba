import { MemorySystem } from '../../src/memory/index.js';
import {
  ContextTable, GuestRamView, Iotlb, IotlbCoherence, ShootdownBus, TranslationEngine, VtdGuestTables, type CoherenceMode,
} from '../../src/iommu/index.js';

/** A machine with 16 MiB of RAM at 0, a main-thread engine, a coherence bus and VT-d guest tables at 1 MiB. */
export function machine(opts: { mode?: CoherenceMode; capacity?: number; ramSize?: number } = {}) {
  const sys = new MemorySystem();
  const system = sys.container('system', 1n << 64n);
  const memory = sys.addressSpace(system, 'memory');
  const ramRegion = sys.ram('pc.ram', opts.ramSize ?? 0x100_0000);
  system.addSubregion(ramRegion, 0);
  const ram = GuestRamView.fromAddressSpace(memory);
  const contexts = ContextTable.create(64);
  const engine = new TranslationEngine(ram, contexts, Iotlb.create({ capacity: opts.capacity ?? 256 }));
  const coherence = new IotlbCoherence(engine, ShootdownBus.create(opts.mode ?? 'shootdown'));
  const tables = new VtdGuestTables(memory, 0x10_0000, 0x80_0000);
  return { sys, system, memory, ramRegion, ram, contexts, engine, coherence, tables };
}
