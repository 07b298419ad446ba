import { SMMU_CMDQ_BASE, SMMU_CMDQ_CONS, SMMU_CMDQ_PROD, SMMU_GERROR, SMMU_STRTAB_BASE, SMMU_STRTAB_BASE_CFG } from '../../../iommu/smmuv3/regs.js';
import type { MachineContext } from '../harness.js';
import { findRegion } from '../layout.js';
import { big, hex64, type FuzzRng } from '../rng.js';
import type { FuzzTarget, Op, Variant } from '../types.js';
import { machineTarget } from './machine-target.js';
import { collectTablePages, execTableOp, mutateTableOp, randomTableOp, type TablePages } from './tables.js';

const EDU = ['-device', 'edu', '-device', 'pcie-root-port,id=rp1,chassis=1', '-device', 'edu,bus=rp1'];
const VARIANTS: readonly Variant[] = [
  { name: 'virt-smmuv3', args: ['-M', 'virt,iommu=smmuv3', ...EDU] },
  { name: 'virt-smmuv3-acpi', args: ['-M', 'virt,iommu=smmuv3,acpi=on', ...EDU] },
];

/**
 * Command opcodes (SMMUv3 4.1): PREFETCH_CONFIG 0x01, PREFETCH_ADDR 0x02, CFGI_STE 0x03, CFGI_STE_RANGE 0x04,
 * CFGI_CD 0x05, CFGI_CD_ALL 0x06, TLBI_NH_ALL 0x10, TLBI_NH_ASID 0x11, TLBI_NH_VA 0x12, TLBI_NH_VAA 0x13,
 * TLBI_EL3_ALL 0x18, TLBI_EL3_VA 0x1a, TLBI_EL2_ALL 0x20, TLBI_S12_VMALL 0x28, TLBI_S2_IPA 0x2a, TLBI_NSNH_ALL 0x30,
 * ATC_INV 0x40, PRI_RESP 0x41, RESUME 0x44, STALL_TERM 0x45, CMD_SYNC 0x46.
 */
const OPCODES = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x10, 0x11, 0x12, 0x13, 0x18, 0x1a, 0x20, 0x28, 0x2a, 0x30, 0x40, 0x41, 0x44, 0x45, 0x46, 0x00, 0x7f, 0xff];

interface SmmuState {
  readonly tables: TablePages;
}

function read64(ctx: MachineContext, a: number): bigint {
  const r = ctx.machine.systemAs.read(a, 8);
  return (BigInt(r.hi >>> 0) << 32n) | BigInt(r.lo >>> 0);
}

function randomCommand(rng: FuzzRng): Op {
  const opcode = rng.pick(OPCODES);
  const d0 = (rng.value64() & ~0xffn) | BigInt(opcode);
  // CMD_SYNC with CS=SIG_IRQ/SEV and an MSI address in d1; TLBI_*_VA with addresses, ranges (TG/NUM/SCALE) in d1.
  const d1 = opcode === 0x46 && rng.chance(0.5) ? rng.pick([0x1000n, 0x0800_0000n, 1n << 50n, 0xffff_ffff_ffff_fffcn]) : rng.value64();
  return { k: 'cmd', d0: hex64(d0), d1: hex64(d1), n: rng.chance(0.1) ? 1 + rng.below(300) : 1 };
}

/**
 * Writes a command at CMDQ_PROD and moves it (SMMUv3 6.3.26-28: CMDQ_BASE
 * addr [51:5], LOG2SIZE [4:0]; PROD/CONS index [log2size-1:0], wrap bit
 * [log2size]). `n` > 1 posts it n times, wrapping the queue.
 */
function execCmd(ctx: MachineContext, op: Op): void {
  const r = findRegion(ctx.machine.systemAs.view, 'arm-smmuv3');
  if (!r) return;
  const base = read64(ctx, r.base + SMMU_CMDQ_BASE);
  const log2 = Math.min(Number(base & 0x1fn), 19);
  const q = Number(base & 0x000f_ffff_ffff_ffe0n);
  const n = Math.min(Math.max(1, Number(op['n'] ?? 1)), 512);
  const d0 = big(op['d0']);
  const d1 = big(op['d1']);
  for (let i = 0; i < n; i++) {
    const prod = ctx.machine.systemAs.read(r.base + SMMU_CMDQ_PROD, 4).lo >>> 0;
    const idx = prod & ((1 << log2) - 1);
    const a = q + idx * 16;
    ctx.port.write(a, 8, Number(d0 & 0xffff_ffffn), Number(d0 >> 32n));
    ctx.port.write(a + 8, 8, Number(d1 & 0xffff_ffffn), Number(d1 >> 32n));
    const next = ((prod & ((2 << log2) - 1)) + 1) & ((2 << log2) - 1);
    ctx.machine.systemAs.write(r.base + SMMU_CMDQ_PROD, 4, next);
  }
  const cons = ctx.machine.systemAs.read(r.base + SMMU_CMDQ_CONS, 4).lo >>> 0;
  ctx.feature(`cmd:${Number(d0 & 0xffn)}:err=${(cons >>> 24) & 0x7f}:gerror=${ctx.machine.systemAs.read(r.base + SMMU_GERROR, 4).lo & 0x1fd}`);
}

/** SMMUv3: commands, STEs, CDs and stage-1 page tables (loops, pointers outside RAM), registers, edu DMA through them. */
export function smmuv3Target(): FuzzTarget {
  return machineTarget<SmmuState>({
    name: 'smmuv3',
    summary: 'Arm SMMUv3: command queue, STEs, CDs, stage-1 tables, registers, DMA through corrupted tables',
    variants: VARIANTS,
    preferRegion: (n) => n === 'arm-smmuv3' || n.startsWith('edu-mmio'),
    randomOp: (rng) => (rng.chance(0.5) ? randomTableOp(rng, 24) : rng.chance(0.6) ? randomCommand(rng) : undefined),
    mutateOp: (rng, op) => (op.k === 'cmd' ? { ...op, d1: hex64(rng.value64(big(op['d1']))) } : mutateTableOp(rng, op, 24)),
    setup: (ctx) => {
      const r = findRegion(ctx.machine.systemAs.view, 'arm-smmuv3');
      if (!r) return { tables: { pages: [], ram: [] } };
      const strtab = Number(read64(ctx, r.base + SMMU_STRTAB_BASE) & 0x000f_ffff_ffff_ffc0n);
      const cfg = ctx.machine.systemAs.read(r.base + SMMU_STRTAB_BASE_CFG, 4).lo;
      const cmdq = Number(read64(ctx, r.base + SMMU_CMDQ_BASE) & 0x000f_ffff_ffff_ffe0n);
      return { tables: collectTablePages(ctx, [{ addr: strtab, bytes: 64 << Math.min(cfg & 0x3f, 12) }, { addr: cmdq, bytes: 4096 }]) };
    },
    exec: (ctx, s, op) => {
      if (op.k === 'cmd') {
        execCmd(ctx, op);
        return true;
      }
      return execTableOp(ctx, s.tables, op);
    },
  });
}
