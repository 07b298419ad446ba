import { VirtioNetDriver } from '../../../guest/drivers/virtio-net.js';
import { trafficWorkload } from '../../../guest/workload/traffic.js';
import { Xorshift32 } from '../../../base/prng.js';
import { vhostNetOf } from '../../../vhost/api.js';
import type { VhostNet } from '../../../vhost/vhost-net.js';
import { VirtioNetPci } from '../../../virtio/net/virtio-net-pci.js';
import type { MachineContext } from '../harness.js';
import { findRegion } from '../layout.js';
import { big, num, u32, type FuzzRng } from '../rng.js';
import type { FuzzTarget, Op, Variant } from '../types.js';
import { machineTarget } from './machine-target.js';
import { collectTablePages, execTableOp, mutateTableOp, randomTableOp, type TablePages } from './tables.js';
import { pushAndNotify, randomRingOp, writeDesc } from './virtio.js';
import { execQi, randomDescriptor } from './vtd.js';

const NET = ['-device', 'pcie-root-port,id=rp0,chassis=1', '-device', 'virtio-net-pci,bus=rp0,vhost=on,iommu_platform=on,ats=on', '-device', 'edu'];
const VARIANTS: readonly Variant[] = [
  { name: 'q35-vtd-devtlb-vhost', args: ['-M', 'q35', '-device', 'intel-iommu,device-iotlb=on,caching-mode=on', ...NET] },
  { name: 'virt-smmuv3-vhost', args: ['-M', 'virt,iommu=smmuv3', ...NET] },
  { name: 'q35-virtio-iommu-vhost', args: ['-M', 'q35', '-device', 'virtio-iommu-pci', ...NET] },
];
const TRAFFIC = { name: 'traffic', params: { packets: 16, batch: 8 } } as const;

interface VhostState {
  readonly net: VirtioNetPci | undefined;
  readonly vhost: VhostNet | undefined;
  readonly driver: VirtioNetDriver | undefined;
  readonly tables: TablePages;
}

function randomVhostOp(rng: FuzzRng): Op | undefined {
  const c = rng.below(20);
  if (c < 5) return { k: 'traffic', n: 1 + rng.below(64), batch: 1 + rng.below(32), bytes: rng.pick([1, 64, 1470, 1500, 0]), seed: rng.u32() };
  if (c < 9) return { ...randomRingOp(rng), k: rng.chance(0.5) ? 'netdesc' : 'netavail', q: rng.below(2) };
  if (c < 13) return randomTableOp(rng, 24);
  if (c < 15) return randomDescriptor(rng);
  if (c < 16) return { k: 'kill' };
  if (c < 17) return { k: 'drill', after: rng.below(40) };
  return undefined;
}

function execVhostOp(ctx: MachineContext, s: VhostState, op: Op): boolean {
  switch (op.k) {
    case 'traffic': {
      if (!s.driver) return true;
      const r = trafficWorkload(s.driver).run({
        kernel: ctx.kernel, prng: new Xorshift32(u32(op['seed']) || 1),
        params: { packets: Math.min(num(op['n']), 64), batch: Math.max(1, Math.min(num(op['batch']), 128)), bytes: Math.max(1, num(op['bytes'])), pool: false },
      });
      ctx.feature(`traffic:${r.ok}:${r.errors[0]?.replace(/\d+/g, 'N').slice(0, 60) ?? ''}`);
      return true;
    }
    case 'netdesc':
    case 'netavail': {
      const q = s.net?.net.queues[num(op['q']) & 1];
      if (!q || !q.ready) return true;
      if (op.k === 'netdesc') {
        writeDesc(ctx, q, num(op['i']), big(op['addr']), u32(op['len']), u32(op['flags']), u32(op['next']));
        pushAndNotify(ctx, q, op['push'] ? num(op['i']) % q.size : undefined, op['push'] ? 1 : 0, 'virtio-net');
      } else {
        pushAndNotify(ctx, q, undefined, num(op['delta']), 'virtio-net');
      }
      ctx.feature(`${op.k}:errors=${Math.min(s.vhost?.errors.length ?? 0, 3)}`);
      return true;
    }
    case 'kill':
      s.vhost?.killWorker();
      return true;
    case 'drill':
      s.vhost?.crashDrill('throw', num(op['after']));
      return true;
    case 'qi':
      if (findRegion(ctx.machine.systemAs.view, 'intel_iommu')) execQi(ctx, op);
      return true;
    default:
      return execTableOp(ctx, s.tables, op);
  }
}

/**
 * vhost-net over a vIOMMU: guest traffic, corrupted net rings, the vIOMMU's
 * tables and invalidations changing under the device IOTLB (so MISS /
 * UPDATE / INVALIDATE streams are driven by a hostile guest), worker kills
 * and crash drills; the canary after reset is edu DMA and whole traffic.
 */
export function vhostTarget(): FuzzTarget {
  return machineTarget<VhostState>({
    name: 'vhost',
    summary: 'vhost-net: traffic, corrupted rings, vIOMMU tables and invalidations under the device IOTLB, worker kills',
    variants: VARIANTS,
    maxOps: 40,
    preferRegion: (n) => n.startsWith('virtio-pci') || n === 'intel_iommu' || n === 'arm-smmuv3',
    boot: { workloads: [{ name: 'edu-dma', params: { iterations: 1 } }, TRAFFIC] },
    canary: [{ name: 'edu-dma', params: { iterations: 2 } }, TRAFFIC],
    randomOp: (rng) => randomVhostOp(rng),
    mutateOp: (rng, op) => (op.k === 'traffic' ? { ...op, n: rng.value32(num(op['n'])) & 0xff } : mutateTableOp(rng, op, 24)),
    setup: (ctx) => {
      const net = ctx.machine.pciDevices().find((d): d is VirtioNetPci => d instanceof VirtioNetPci);
      const driver = ctx.kernel.drivers.drivers.find((d): d is VirtioNetDriver => d instanceof VirtioNetDriver);
      const vtd = findRegion(ctx.machine.systemAs.view, 'intel_iommu');
      let root = 0;
      if (vtd) {
        const r = ctx.machine.systemAs.read(vtd.base + 0x20, 8);
        root = (r.hi * 0x1_0000_0000 + (r.lo >>> 0)) - ((r.lo >>> 0) % 4096);
      }
      return { net, vhost: net ? vhostNetOf(net) : undefined, driver, tables: root ? collectTablePages(ctx, [{ addr: root, bytes: 8192 }]) : { pages: [], ram: [] } };
    },
    exec: execVhostOp,
  });
}
