import { ConfigError, EventLog, VirtualClock, Xorshift32 } from '../../base/index.js';
import { IOMMU_RO, MemorySystem } from '../../memory/index.js';
import { DATA_BASE_PAGE, IOVA_BASE_PAGE, workloadMapping, workloadStream, type WorkloadParams } from '../bench/iotlb-workload.js';
import type { IotlbOptions } from '../iotlb/iotlb.js';
import { EndpointRegion } from './endpoint-region.js';
import { VIRTIO_IOMMU_DEFAULTS } from './options.js';
import { VIRTIO_IOMMU_MAP_F_READ, VIRTIO_IOMMU_MAP_F_WRITE, VIRTIO_IOMMU_S_OK } from './regs.js';
import { VirtioIommu } from './virtio-iommu.js';

/** The bench endpoint: 00:03.0, domain 1 (as the VT-d bench). */
const BENCH_EP = 0x18;
const BENCH_DOMAIN = 1;
/** Translations per batch (as the engine's). */
const CHUNK = 4096;

function request(type: number, size: number, fill: (v: DataView) => void): Uint8Array {
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  v.setUint8(0, type);
  fill(v);
  return b;
}

/** Sends one request through the device's request handler; throws if it is refused (the set-up is ours). */
function send(dev: VirtioIommu, req: Uint8Array): void {
  const r = dev.handleRequest(req, req.length, 4);
  if (r.kind !== 'reply' || r.status !== VIRTIO_IOMMU_S_OK) throw new Error(`bench set-up request ${req[0]} failed: ${JSON.stringify(r)}`);
}

/**
 * The standard IOTLB workload on the virtio-iommu model: guest RAM, the
 * device logic with one endpoint region, an ATTACH and one MAP request per
 * page of the workload's mapping (through the device's request handler,
 * as a driver sends them), then the stream translated through the device's
 * hot path (IOTLB in front of the domain's mapping tree). Translation
 * workers are not offered: the mappings live in the device model, not in
 * guest memory where workers walk tables.
 */
export function viommuBenchMachine(o: WorkloadParams & { readonly workers: number; readonly iotlb: IotlbOptions }) {
  if (o.workers !== 0) {
    throw new ConfigError('--workers', 'virtio-iommu keeps its mappings in the device model, which translation workers cannot walk; use --workers 0');
  }
  const sys = new MemorySystem();
  const system = sys.container('system', 1n << 64n);
  const memory = sys.addressSpace(system, 'memory');
  system.addSubregion(sys.ram('pc.ram', (DATA_BASE_PAGE + o.pages) * 4096), 0);
  const regions: EndpointRegion[] = [];
  const dev = new VirtioIommu({ ...VIRTIO_IOMMU_DEFAULTS, iotlb: o.iotlb, maxMappings: Math.max(o.pages, VIRTIO_IOMMU_DEFAULTS.maxMappings) }, {
    endpointRegion: (id) => (id === BENCH_EP ? regions[0] : undefined),
    regions: () => regions,
    systemAs: memory,
    reportFault: () => undefined,
    log: new EventLog(new VirtualClock()),
  });
  regions.push(new EndpointRegion(sys, 'virtio-iommu-memory-region-0-24', () => BENCH_EP, system, memory, dev));
  const rng = new Xorshift32(o.seed);
  const perm = workloadMapping(o.pages, rng);
  send(dev, request(1, 20, (v) => {
    v.setUint32(4, BENCH_DOMAIN, true);
    v.setUint32(8, BENCH_EP, true);
  }));
  for (let i = 0; i < o.pages; i++) {
    const iova = BigInt((IOVA_BASE_PAGE + i) * 4096);
    send(dev, request(3, 36, (v) => {
      v.setUint32(4, BENCH_DOMAIN, true);
      v.setBigUint64(8, iova, true);
      v.setBigUint64(16, iova + 4095n, true);
      v.setBigUint64(24, BigInt((DATA_BASE_PAGE + perm[i]!) * 4096), true);
      v.setUint32(32, VIRTIO_IOMMU_MAP_F_READ | VIRTIO_IOMMU_MAP_F_WRITE, true);
    }));
  }
  const stream = workloadStream(o, rng);
  const region = regions[0]!;
  return {
    dev, stream,
    /** The timed part: the stream in chunks; returns the faults. */
    run(out: Float64Array): number {
      let f = 0;
      for (let k = 0; k < o.ops; k += CHUNK) f += dev.translateBatch(region, IOMMU_RO, stream, k, Math.min(o.ops, k + CHUNK), out);
      return f;
    },
  };
}
