import { DMAR_IQA_REG, DMAR_IQT_REG, DMAR_RTADDR_REG } from '../../../iommu/vtd/vtd-regs.js';
import type { MachineContext } from '../harness.js';
import { findRegion } from '../layout.js';
import { big, hex64, type FuzzRng } from '../rng.js';
import type { FuzzTarget, Op, Variant } from '../types.js';
import { machineTarget } from './machine-target.js';
import { collectTablePages, execTableOp, mutateTableOp, randomTableOp, type TablePages } from './tables.js';

const EDU = ['-device', 'edu', '-device', 'pcie-root-port,id=rp1,chassis=1', '-device', 'edu,bus=rp1'];
const VARIANTS: readonly Variant[] = [
  { name: 'q35-vtd', args: ['-M', 'q35', '-device', 'intel-iommu', ...EDU] },
  { name: 'q35-vtd-cm-dt', args: ['-M', 'q35', '-device', 'intel-iommu,caching-mode=on,device-iotlb=on', ...EDU] },
  { name: 'q35-vtd-strict-aw39', args: ['-M', 'q35', '-device', 'intel-iommu,aw-bits=39,intremap=off', ...EDU] },
];

/** Descriptor types (VT-d 6.5.2): context-cache 1, IOTLB 2, device-TLB 3, IEC 4, wait 5, PASID-IOTLB 6, PASID-cache 7, PASID dev-TLB 8. */
const DESC_TYPES = [1, 2, 3, 4, 5, 6, 7, 8, 0, 9, 15];

interface VtdState {
  readonly tables: TablePages;
}

function read64(ctx: MachineContext, a: number): bigint {
  const r = ctx.machine.systemAs.read(a, 8);
  return (BigInt(r.hi >>> 0) << 32n) | BigInt(r.lo >>> 0);
}

export function randomDescriptor(rng: FuzzRng): Op {
  const type = rng.pick(DESC_TYPES);
  // Granularity [5:4], domain/PASID fields above: random; wait descriptors (type 5) with SW (bit 5) write status to d1.
  const lo = (rng.value64() & ~0xfn & ~(0x7n << 9n)) | BigInt(type & 0xf) | (BigInt(type >> 4) << 9n);
  const d1 = type === 5 && rng.chance(0.5) ? rng.pick([0x1000n, 0xfee00000n, 0xfed90000n, 1n << 50n, 0xffff_ffff_ffff_fffcn]) : rng.value64();
  return { k: 'qi', d0: hex64(lo), d1: hex64(d1), n: rng.chance(0.1) ? 1 + rng.below(300) : 1 };
}

/**
 * Posts a 128-bit descriptor at the invalidation queue tail and moves IQT
 * (VT-d 6.5.2: IQA base [63:12] and QS [2:0]; IQT index [18:4]). `n` > 1
 * posts the same descriptor n times (wrapping the queue).
 */
export function execQi(ctx: MachineContext, op: Op): void {
  const r = findRegion(ctx.machine.systemAs.view, 'intel_iommu');
  if (!r) return;
  const iqa = read64(ctx, r.base + DMAR_IQA_REG);
  const base = Number(iqa & 0x000f_ffff_ffff_f000n);
  const entries = (4096 << Number(iqa & 7n)) / (iqa & (1n << 11n) ? 32 : 16);
  const n = Math.min(Math.max(1, Number(op['n'] ?? 1)), 512);
  for (let i = 0; i < n; i++) {
    const tail = Number((read64(ctx, r.base + DMAR_IQT_REG) >> 4n) & 0x7fffn) % entries;
    const d0 = big(op['d0']);
    const d1 = big(op['d1']);
    const a = base + tail * (iqa & (1n << 11n) ? 32 : 16);
    ctx.port.write(a, 8, Number(d0 & 0xffff_ffffn), Number(d0 >> 32n));
    ctx.port.write(a + 8, 8, Number(d1 & 0xffff_ffffn), Number(d1 >> 32n));
    const next = (tail + 1) % entries;
    ctx.machine.systemAs.write(r.base + DMAR_IQT_REG, 8, next << 4, 0);
  }
  ctx.feature(`qi:${Number(big(op['d0']) & 0xfn)}:fsts=${ctx.machine.systemAs.read(r.base + 0x34, 4).lo & 0x7f}`);
}

/** VT-d: invalidation descriptors, root/context/page-table entries (loops, pointers outside RAM), register writes, edu DMA through it all. */
export function vtdTarget(): FuzzTarget {
  return machineTarget<VtdState>({
    name: 'vtd',
    summary: 'Intel VT-d: invalidation queue descriptors, root/context/second-level entries, registers, DMA through corrupted tables',
    variants: VARIANTS,
    preferRegion: (n) => n === 'intel_iommu' || n.startsWith('edu-mmio'),
    randomOp: (rng) => (rng.chance(0.5) ? randomTableOp(rng, 24) : rng.chance(0.6) ? randomDescriptor(rng) : undefined),
    mutateOp: (rng, op) => (op.k === 'qi' ? { ...op, d0: hex64(rng.value64(big(op['d0']))) } : mutateTableOp(rng, op, 24)),
    setup: (ctx) => {
      const r = findRegion(ctx.machine.systemAs.view, 'intel_iommu');
      const rta = r ? Number(read64(ctx, r.base + DMAR_RTADDR_REG) & 0x000f_ffff_ffff_f000n) : 0;
      const iqa = r ? Number(read64(ctx, r.base + DMAR_IQA_REG) & 0x000f_ffff_ffff_f000n) : 0;
      return { tables: collectTablePages(ctx, [{ addr: rta, bytes: 8192 }, ...(iqa ? [{ addr: iqa, bytes: 4096 }] : [])]) };
    },
    exec: (ctx, s, op) => {
      if (op.k === 'qi') {
        execQi(ctx, op);
        return true;
      }
      return execTableOp(ctx, s.tables, op);
    },
  });
}
