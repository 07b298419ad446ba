import { EventLog, VirtualClock, Xorshift32 } from '../../base/index.js';
import { MemorySystem } from '../../memory/index.js';
import type { IotlbPolicy } from '../iotlb/iotlb.js';
import { Smmuv3 } from '../smmuv3/smmuv3.js';
import { DATA_BASE_PAGE, IOVA_BASE_PAGE, workloadMapping, workloadStream, type WorkloadParams } from './iotlb-workload.js';
import { LpaeGuestTables } from './lpae-guest-tables.js';
import { SmmuGuest } from './smmu-guest.js';

/** Where the bench puts things (as the VT-d bench does): SMMU structures at 1 MiB, page tables after, data from DATA_BASE_PAGE. */
const SMMU_AREA = 0x100000;
const SMMU_BASE = 0x09050000;
/** The bench device: 00:03.0, ASID 1. */
const BENCH_SID = 0x18;
const BENCH_ASID = 1;

/**
 * The IOTLB workload's machine for `--iommu smmuv3`: guest RAM, the SMMUv3
 * model with its register window at virt's 0x09050000, and what a guest
 * driver programs through that window and guest memory: command and event
 * queues, a linear stream table, the device's STE (stage 1) and CD (ASID 1,
 * 4K granule, 48-bit input), and 4-level stage-1 tables mapping the
 * workload's pages; then CFGI_ALL + CMD_SYNC and SMMUEN. The timed part
 * translates through the context the model decoded for the StreamID.
 */
export function smmuBenchMachine(o: WorkloadParams & { readonly capacity: number; readonly ways: number; readonly policy: IotlbPolicy }) {
  const sys = new MemorySystem();
  const system = sys.container('system', 1n << 64n);
  const memory = sys.addressSpace(system, 'memory');
  const ramSize = (DATA_BASE_PAGE + o.pages) * 4096;
  system.addSubregion(sys.ram('mach-virt.ram', ramSize), 0);
  const iotlbOpts = { capacity: o.capacity, ways: o.ways, policy: o.policy };
  const smmu = new Smmuv3(sys, memory, new EventLog(new VirtualClock()), { iotlb: iotlbOpts });
  system.addSubregion(smmu.mmio, SMMU_BASE);
  smmu.reset();
  const guest = new SmmuGuest(memory, SMMU_BASE, SMMU_AREA);
  const cdAddr = SMMU_AREA + guest.size;
  const tables = new LpaeGuestTables(memory, cdAddr + 64, DATA_BASE_PAGE * 4096, 12, 16);
  const rng = new Xorshift32(o.seed);
  const perm = workloadMapping(o.pages, rng);
  for (let i = 0; i < o.pages; i++) tables.map((IOVA_BASE_PAGE + i) * 4096, (DATA_BASE_PAGE + perm[i]!) * 4096);
  guest.cd(cdAddr, { asid: BENCH_ASID, ttb0: tables.root, tsz: 16, granule: 12 });
  guest.ste(BENCH_SID, 's1', { cd: cdAddr });
  guest.enable(0xc);
  guest.cmd(SmmuGuest.cfgiAll(), SmmuGuest.SYNC);
  guest.w32(0x20, 0xd);
  const ctx = smmu.translator.contextFor(BENCH_SID);
  if (ctx < 0) throw new Error(`bench context set-up failed: SMMUv3 event 0x${(-ctx).toString(16)}`);
  const stream = workloadStream(o, rng);
  return { sys, memory, smmu, engine: smmu.coherence.engine, coherence: smmu.coherence, ram: smmu.coherence.engine.ram, ctx, stream, iotlbOpts };
}
