import { Xorshift32 } from '../../base/index.js';
import { MemorySystem } from '../../memory/index.js';
import type { CoherenceMode } from '../coherence/shootdown-bus.js';
import type { IotlbPolicy } from '../iotlb/iotlb.js';
import {
  DATA_BASE_PAGE, IOVA_BASE_PAGE, workloadMapping, workloadStream, type WorkloadParams,
} from '../bench/iotlb-workload.js';
import {
  H_PUT_TCE_INDIRECT, H_SUCCESS, RTAS_IBM_CREATE_PE_DMA_WINDOW, SPAPR_PCI_DMA64_WIN_ADDR, SPAPR_PCI_DMA_WIN_SIZE,
  SPAPR_PHB_PGSZ_DEFAULT, SPAPR_TCE_LIST_MAX, type SpaprHcallHandler, type SpaprRtasCall,
} from './papr.js';
import { SpaprTce } from './spapr-tce.js';

export interface SpaprBenchOptions extends WorkloadParams {
  readonly capacity: number;
  readonly ways: number;
  readonly policy: IotlbPolicy;
  readonly coherence: CoherenceMode;
}

/** Where the TCE list page goes in guest RAM (below the data pages, as the other IOMMUs' tables). */
const TCE_LIST = 0x100000;
const PHB_BUID = 0x800000020000000n;

/**
 * The standard IOTLB workload on the sPAPR TCE model
 * (shared/bench/IOTLB-WORKLOAD.md, sPAPR paragraph): one PHB with its
 * default window, a dynamic DMA window made through
 * ibm,create-pe-dma-window (4 KiB pages, the smallest power of two that
 * holds `pages`), and the workload's mapping written with
 * H_PUT_TCE_INDIRECT, 512 big-endian TCEs at a time, as a guest does.
 * IOVA_BASE is the window's start: the engine sees window-relative
 * addresses (page * 4096 + off), so the stream is the standard one moved
 * down by IOVA_BASE_PAGE pages; the guest-physical side, and the
 * checksum, are unchanged.
 */
export function spaprBenchMachine(o: SpaprBenchOptions) {
  const sys = new MemorySystem();
  const system = sys.container('system', 1n << 64n);
  const memory = sys.addressSpace(system, 'memory');
  system.addSubregion(sys.ram('ppc_spapr.ram', (DATA_BASE_PAGE + o.pages) * 4096), 0);
  const hcalls = new Map<number, SpaprHcallHandler>();
  const rtas = new Map<number, (c: SpaprRtasCall) => void>();
  const iotlbOpts = { capacity: o.capacity, ways: o.ways, policy: o.policy };
  const tce = new SpaprTce({
    sys, systemAs: memory, iotlb: iotlbOpts, coherence: o.coherence,
    hcalls: { register: (op, _n, fn) => void hcalls.set(op, fn) },
    rtas: { register: (tok, _n, fn) => void rtas.set(tok, fn) },
  });
  const phb = tce.addPhb({
    index: 0, buid: PHB_BUID, ddw: true, dmaWinAddr: 0n, dmaWinSize: SPAPR_PCI_DMA_WIN_SIZE, dma64WinAddr: SPAPR_PCI_DMA64_WIN_ADDR,
    pgsz: SPAPR_PHB_PGSZ_DEFAULT, sriovVf: false, defWinQuirk: false, lopaprNpages0: false,
  }, sys.container('iommu-root', 1n << 64n));
  tce.reset();
  let windowShift = 12;
  while (2 ** windowShift < o.pages * 4096) windowShift++;
  const args = [0, Number(PHB_BUID >> 32n), Number(PHB_BUID & 0xffff_ffffn), 12, windowShift];
  const rets: number[] = [];
  rtas.get(RTAS_IBM_CREATE_PE_DMA_WINDOW)!({ nargs: 5, nret: 4, arg: (n) => args[n]!, ret: (n, v) => void (rets[n] = v | 0) });
  if (rets[0] !== 0) throw new Error(`ibm,create-pe-dma-window failed: ${rets[0]}`);
  const liobn = BigInt(rets[1]! >>> 0);
  const start = (BigInt(rets[2]! >>> 0) << 32n) | BigInt(rets[3]! >>> 0);
  const rng = new Xorshift32(o.seed);
  const perm = workloadMapping(o.pages, rng);
  const put = hcalls.get(H_PUT_TCE_INDIRECT)!;
  const list = new Uint8Array(SPAPR_TCE_LIST_MAX * 8);
  const dv = new DataView(list.buffer);
  for (let first = 0; first < o.pages; first += SPAPR_TCE_LIST_MAX) {
    const n = Math.min(SPAPR_TCE_LIST_MAX, o.pages - first);
    for (let i = 0; i < n; i++) dv.setBigUint64(i * 8, BigInt((DATA_BASE_PAGE + perm[first + i]!) * 4096) | 3n, false);
    memory.writeBytes(TCE_LIST, list.subarray(0, n * 8));
    const r = put([liobn, start + BigInt(first * 4096), BigInt(TCE_LIST), BigInt(n)]);
    if (r.ret !== H_SUCCESS) throw new Error(`H_PUT_TCE_INDIRECT failed: ${r.ret}`);
  }
  const stream = workloadStream(o, rng);
  for (let k = 0; k < stream.length; k++) stream[k]! -= IOVA_BASE_PAGE * 4096;
  const table = phb.tables.find((t) => BigInt(t.liobn) === liobn)!;
  return { sys, memory, tce, engine: tce.engine, coherence: tce.coherence, ram: tce.engine.ram, ctx: table.ctx, stream, iotlbOpts, windowStart: start };
}
