import type { MmioOps, Word64 } from '../../memory/index.js';
import {
  CR0_RESERVED, CR0_SMMUEN, GBPA_UPDATE, SMMU_AIDR, SMMU_AIDR_VALUE, SMMU_CMDQ_BASE, SMMU_CMDQ_CONS, SMMU_CMDQ_PROD,
  SMMU_CR0, SMMU_CR0ACK, SMMU_CR1, SMMU_CR2, SMMU_EVENTQ_BASE, SMMU_EVENTQ_CONS, SMMU_EVENTQ_IRQ_CFG0, SMMU_EVENTQ_IRQ_CFG1,
  SMMU_EVENTQ_IRQ_CFG2, SMMU_EVENTQ_PROD, SMMU_GBPA, SMMU_GERROR, SMMU_GERRORN, SMMU_GERROR_IRQ_CFG0, SMMU_GERROR_IRQ_CFG1,
  SMMU_GERROR_IRQ_CFG2, SMMU_ID_BYTES, SMMU_IDR0, SMMU_IDR1, SMMU_IDR3, SMMU_IDR3_VALUE, SMMU_IDR5, SMMU_IDR5_VALUE,
  SMMU_IDREGS, SMMU_IRQ_CTRL, SMMU_IRQ_CTRL_ACK, SMMU_PAGE1, SMMU_STRTAB_BASE, SMMU_STRTAB_BASE_CFG, STRTAB_FMT_2LVL,
} from './regs.js';
import type { Smmuv3 } from './smmuv3.js';

/**
 * 32-bit register reads (QEMU smmu_readl, as 7.2 answers them): unknown
 * offsets read as zero. QEMU 7.2 reads EVENTQ_IRQ_CFG0..2 as zero although
 * writes are stored (later QEMU and the spec read them back); we answer as
 * 7.2 does. STRTAB_BASE and the queue bases read back exactly as written.
 */
function readl(s: Smmuv3, off: number): number {
  if (off >= SMMU_IDREGS && off < SMMU_IDREGS + 0x30) return off % 4 === 0 ? SMMU_ID_BYTES[(off - SMMU_IDREGS) / 4]! : 0;
  switch (off) {
    case SMMU_IDR0: return s.idr0;
    case SMMU_IDR1: return s.idr1;
    case SMMU_IDR3: return SMMU_IDR3_VALUE;
    case SMMU_IDR5: return SMMU_IDR5_VALUE;
    case SMMU_AIDR: return SMMU_AIDR_VALUE;
    case SMMU_CR0: return s.cr0;
    case SMMU_CR0ACK: return s.cr0ack;
    case SMMU_CR1: return s.cr1;
    case SMMU_CR2: return s.cr2;
    case SMMU_GBPA: return s.gbpa;
    case SMMU_IRQ_CTRL:
    case SMMU_IRQ_CTRL_ACK: return s.irqCtrl;
    case SMMU_GERROR: return s.gerror;
    case SMMU_GERRORN: return s.gerrorn;
    case SMMU_GERROR_IRQ_CFG0: return s.irqCfg[0]!;
    case SMMU_GERROR_IRQ_CFG0 + 4: return s.irqCfg[1]!;
    case SMMU_GERROR_IRQ_CFG1: return s.irqCfg[2]!;
    case SMMU_GERROR_IRQ_CFG2: return s.irqCfg[3]!;
    case SMMU_STRTAB_BASE: return s.strtabBaseLo;
    case SMMU_STRTAB_BASE + 4: return s.strtabBaseHi;
    case SMMU_STRTAB_BASE_CFG: return s.strtabBaseCfg;
    case SMMU_CMDQ_BASE: return s.cmdq.baseLo;
    case SMMU_CMDQ_BASE + 4: return s.cmdq.baseHi;
    case SMMU_CMDQ_PROD: return s.cmdq.prod;
    case SMMU_CMDQ_CONS: return s.cmdq.cons;
    case SMMU_EVENTQ_BASE: return s.eventq.baseLo;
    case SMMU_EVENTQ_BASE + 4: return s.eventq.baseHi;
    case SMMU_EVENTQ_PROD: return s.eventq.prod;
    case SMMU_EVENTQ_CONS: return s.eventq.cons;
    default: return 0;
  }
}

/** 64-bit reads (smmu_readll): only the 64-bit registers; anything else, EVENTQ_IRQ_CFG0 included (7.2), reads as zero. */
function readll(s: Smmuv3, off: number): Word64 {
  switch (off) {
    case SMMU_GERROR_IRQ_CFG0: return { lo: s.irqCfg[0]!, hi: s.irqCfg[1]! };
    case SMMU_STRTAB_BASE: return { lo: s.strtabBaseLo, hi: s.strtabBaseHi };
    case SMMU_CMDQ_BASE: return { lo: s.cmdq.baseLo, hi: s.cmdq.baseHi };
    case SMMU_EVENTQ_BASE: return { lo: s.eventq.baseLo, hi: s.eventq.baseHi };
    default: return { lo: 0, hi: 0 };
  }
}

/**
 * 32-bit register writes (smmu_writel). CR0 sets CR0ACK at once (reserved
 * bits cleared) and runs the command queue; a change of SMMUEN drops the
 * configuration cache (the architecture allows it; QEMU keeps it). GBPA
 * counts only with UPDATE = 1 and completes at once (IHI 0070 6.3.14;
 * QEMU 7.2 has no GBPA: RAZ/WI, x-qemu72). GERRORN is stored as written
 * and restarts the command queue. STRTAB_BASE(_CFG) writes drop the
 * configuration cache (QEMU keeps it); FMT = 0 returns to a linear table
 * (QEMU 7.2 keeps the 2-level format until reset). CMDQ_PROD runs the queue.
 */
function writel(s: Smmuv3, off: number, v: number): void {
  v >>>= 0;
  switch (off) {
    case SMMU_CR0: {
      const toggled = (s.cr0 ^ v) & CR0_SMMUEN;
      s.cr0 = v;
      s.cr0ack = (v & ~CR0_RESERVED) >>> 0;
      if (toggled) s.configChanged();
      s.consume();
      return;
    }
    case SMMU_CR1: s.cr1 = v; return;
    case SMMU_CR2: s.cr2 = v; return;
    case SMMU_GBPA:
      if (!s.decode.qemu72 && v & GBPA_UPDATE) s.gbpa = (v & ~GBPA_UPDATE) >>> 0;
      return;
    case SMMU_IRQ_CTRL: s.irqCtrl = v; return;
    case SMMU_GERRORN:
      s.gerrorn = v;
      s.consume();
      return;
    case SMMU_GERROR_IRQ_CFG0: s.irqCfg[0] = v; return;
    case SMMU_GERROR_IRQ_CFG0 + 4: s.irqCfg[1] = v; return;
    case SMMU_GERROR_IRQ_CFG1: s.irqCfg[2] = v; return;
    case SMMU_GERROR_IRQ_CFG2: s.irqCfg[3] = v; return;
    case SMMU_STRTAB_BASE: s.strtabBaseLo = v; s.configChanged(); return;
    case SMMU_STRTAB_BASE + 4: s.strtabBaseHi = v; s.configChanged(); return;
    case SMMU_STRTAB_BASE_CFG: {
      s.strtabBaseCfg = v;
      const fmt = (v >>> 16) & 3;
      if (fmt === STRTAB_FMT_2LVL) s.twoLevel = true;
      else if (!s.decode.qemu72) s.twoLevel = false;
      s.configChanged();
      return;
    }
    case SMMU_CMDQ_BASE: s.cmdq.setBase(v, s.cmdq.baseHi); return;
    case SMMU_CMDQ_BASE + 4: s.cmdq.setBase(s.cmdq.baseLo, v); return;
    case SMMU_CMDQ_PROD:
      s.cmdq.prod = v;
      s.consume();
      return;
    case SMMU_CMDQ_CONS: s.cmdq.cons = v; return;
    case SMMU_EVENTQ_BASE: s.eventq.setBase(v, s.eventq.baseHi); return;
    case SMMU_EVENTQ_BASE + 4: s.eventq.setBase(s.eventq.baseLo, v); return;
    case SMMU_EVENTQ_PROD: s.eventq.prod = v; return;
    case SMMU_EVENTQ_CONS: s.eventq.cons = v; return;
    case SMMU_EVENTQ_IRQ_CFG0: s.irqCfg[4] = v; return;
    case SMMU_EVENTQ_IRQ_CFG0 + 4: s.irqCfg[5] = v; return;
    case SMMU_EVENTQ_IRQ_CFG1: s.irqCfg[6] = v; return;
    case SMMU_EVENTQ_IRQ_CFG2: s.irqCfg[7] = v; return;
    default: return;
  }
}

/** 64-bit writes (smmu_writell): the 64-bit registers only, else ignored. */
function writell(s: Smmuv3, off: number, lo: number, hi: number): void {
  switch (off) {
    case SMMU_GERROR_IRQ_CFG0: s.irqCfg[0] = lo; s.irqCfg[1] = hi; return;
    case SMMU_STRTAB_BASE:
      s.strtabBaseLo = lo >>> 0;
      s.strtabBaseHi = hi >>> 0;
      s.configChanged();
      return;
    case SMMU_CMDQ_BASE: s.cmdq.setBase(lo, hi); return;
    case SMMU_EVENTQ_BASE: s.eventq.setBase(lo, hi); return;
    case SMMU_EVENTQ_IRQ_CFG0: s.irqCfg[4] = lo; s.irqCfg[5] = hi; return;
    default: return;
  }
}

/**
 * The register window's ops (QEMU smmu_mem_ops): 4- and 8-byte accesses
 * only, little-endian; page 1 (offset bit 16) aliases page 0.
 */
export function smmuMmioOps(s: Smmuv3): MmioOps {
  return {
    read: (off) => readl(s, off & ~SMMU_PAGE1) >>> 0,
    write: (off, _size, v) => writel(s, off & ~SMMU_PAGE1, v),
    read64: (off) => readll(s, off & ~SMMU_PAGE1),
    write64: (off, lo, hi) => writell(s, off & ~SMMU_PAGE1, lo, hi),
    valid: { min: 4, max: 8 },
    impl: { min: 4, max: 8 },
    endianness: 'little',
  };
}
