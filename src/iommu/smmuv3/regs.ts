/**
 * SMMUv3 register map (Arm IHI 0070 "SMMU architecture specification",
 * chapter 6; QEMU hw/arm/smmuv3-internal.h). Offsets are within page 0 of
 * the 128 KiB window; page 1 aliases page 0 (QEMU's CONSTRAINED
 * UNPREDICTABLE choice, ref smmuv3-vtd.md A1).
 */
export const SMMU_IDR0 = 0x00;
export const SMMU_IDR1 = 0x04;
export const SMMU_IDR2 = 0x08;
export const SMMU_IDR3 = 0x0c;
export const SMMU_IDR4 = 0x10;
export const SMMU_IDR5 = 0x14;
export const SMMU_IIDR = 0x18;
export const SMMU_AIDR = 0x1c;
export const SMMU_CR0 = 0x20;
export const SMMU_CR0ACK = 0x24;
export const SMMU_CR1 = 0x28;
export const SMMU_CR2 = 0x2c;
export const SMMU_STATUSR = 0x40;
export const SMMU_GBPA = 0x44;
export const SMMU_IRQ_CTRL = 0x50;
export const SMMU_IRQ_CTRL_ACK = 0x54;
export const SMMU_GERROR = 0x60;
export const SMMU_GERRORN = 0x64;
export const SMMU_GERROR_IRQ_CFG0 = 0x68;
export const SMMU_GERROR_IRQ_CFG1 = 0x70;
export const SMMU_GERROR_IRQ_CFG2 = 0x74;
export const SMMU_STRTAB_BASE = 0x80;
export const SMMU_STRTAB_BASE_CFG = 0x88;
export const SMMU_CMDQ_BASE = 0x90;
export const SMMU_CMDQ_PROD = 0x98;
export const SMMU_CMDQ_CONS = 0x9c;
export const SMMU_EVENTQ_BASE = 0xa0;
export const SMMU_EVENTQ_PROD = 0xa8;
export const SMMU_EVENTQ_CONS = 0xac;
export const SMMU_EVENTQ_IRQ_CFG0 = 0xb0;
export const SMMU_EVENTQ_IRQ_CFG1 = 0xb8;
export const SMMU_EVENTQ_IRQ_CFG2 = 0xbc;
/** Peripheral and component ID registers (PIDR4..7, PIDR0..3, CIDR0..3). */
export const SMMU_IDREGS = 0xfd0;

/** Size of the MMIO window: two 64 KiB pages. */
export const SMMU_WINDOW = 0x20000;
/** Bit 16 of an offset selects page 1, an alias of page 0. */
export const SMMU_PAGE1 = 0x10000;

/** IDR0 fields (6.3.1). */
export const IDR0_S2P = 1 << 0;
export const IDR0_S1P = 1 << 1;
export const IDR0_TTF_AA64 = 2 << 2;
export const IDR0_COHACC = 1 << 4;
export const IDR0_ATS = 1 << 10;
export const IDR0_ASID16 = 1 << 12;
export const IDR0_VMID16 = 1 << 18;
export const IDR0_CD2L = 1 << 19;
export const IDR0_TTENDIAN_LE = 2 << 21;
export const IDR0_STALL_MODEL_NONE = 1 << 24;
export const IDR0_TERM_MODEL = 1 << 26;
export const IDR0_STLEVEL_2LVL = 1 << 27;

/** IDR1 fields (6.3.2): SIDSIZE [5:0], SSIDSIZE [10:6], EVENTQS [20:16], CMDQS [25:21]. */
export const SMMU_SIDSIZE = 16;
export const SMMU_CMDQS = 19;
export const SMMU_EVENTQS = 19;
/** IDR3 (6.3.4): HAD bit 2, RIL bit 10, BBML [12:11] = 2. */
export const SMMU_IDR3_VALUE = 0x1404;
/** IDR5 (6.3.6): OAS [2:0] = 4 (44 bits), GRAN4K bit 4, GRAN16K bit 5, GRAN64K bit 6. */
export const SMMU_IDR5_VALUE = 0x74;
export const SMMU_OAS_BITS = 44;
/** AIDR: SMMUv3.1. */
export const SMMU_AIDR_VALUE = 1;

/**
 * QEMU 7.2's IDR0 for stage=1 (smmuv3_init_regs): S1P, TTF=AArch64,
 * COHACC, ASID16, TTENDIAN=LE, STALL_MODEL=1 (no stall), TERM_MODEL,
 * STLEVEL=2-level = 0x0D40101A. QEMU 10.2 also sets VMID16 (0x0D44101A, the
 * ref's value); we answer as 7.2 does, the release the tests compare with.
 */
export const SMMU_IDR0_QEMU72 = IDR0_S1P | IDR0_TTF_AA64 | IDR0_COHACC | IDR0_ASID16 | IDR0_TTENDIAN_LE
  | IDR0_STALL_MODEL_NONE | IDR0_TERM_MODEL | IDR0_STLEVEL_2LVL;

/** The values of IDR0 and IDR1 for the model's options (ats adds IDR0.ATS; substreams IDR1.SSIDSIZE and IDR0.CD2L). */
export function smmuIdr0(ats: boolean, ssidsize: number): number {
  return (SMMU_IDR0_QEMU72 | (ats ? IDR0_ATS : 0) | (ssidsize > 0 ? IDR0_CD2L : 0)) >>> 0;
}
export function smmuIdr1(ssidsize: number): number {
  return (SMMU_SIDSIZE | (ssidsize << 6) | (SMMU_EVENTQS << 16) | (SMMU_CMDQS << 21)) >>> 0;
}

/** CR0 (6.3.9): SMMUEN 0, PRIQEN 1, EVENTQEN 2, CMDQEN 3, ATSCHK 4, VMW [8:6]. */
export const CR0_SMMUEN = 1 << 0;
export const CR0_EVENTQEN = 1 << 2;
export const CR0_CMDQEN = 1 << 3;
export const CR0_ATSCHK = 1 << 4;
/** CR0ACK reads CR0 with these bits cleared (QEMU SMMU_CR0_RESERVED). */
export const CR0_RESERVED = 0xfffffc20;
/** CR2 (6.3.12): RECINVSID bit 1, record C_BAD_STREAMID. */
export const CR2_RECINVSID = 1 << 1;

/** GBPA (6.3.14): UPDATE bit 31, ABORT bit 20. */
export const GBPA_UPDATE = 0x8000_0000;
export const GBPA_ABORT = 1 << 20;

/** IRQ_CTRL (6.3.21). */
export const IRQ_CTRL_GERROR_IRQEN = 1 << 0;
export const IRQ_CTRL_EVENTQ_IRQEN = 1 << 2;

/** GERROR (6.3.17). */
export const GERROR_CMDQ_ERR = 1 << 0;
export const GERROR_EVENTQ_ABT_ERR = 1 << 2;

/** STRTAB_BASE_CFG (6.3.25): LOG2SIZE [5:0], SPLIT [10:6], FMT [17:16] (0 linear, 1 2-level). */
export const STRTAB_FMT_2LVL = 1;
/** Address bits [51:6] of the *_BASE registers (QEMU SMMU_BASE_ADDR_MASK). */
export const SMMU_BASE_ADDR_LO_MASK = 0xffffffc0;
export const SMMU_BASE_ADDR_HI_MASK = 0x000fffff;

/** CMDQ_CONS.ERR [30:24] (6.3.27) and the command errors (7.1, CERROR_*). */
export const CERROR_NONE = 0;
export const CERROR_ILL = 1;
export const CERROR_ABT = 2;

/** Wired interrupts, in QEMU's sysbus order (SMMUIrq): virt SPIs 74..77. */
export const SMMU_IRQ_EVTQ = 0;
export const SMMU_IRQ_PRIQ = 1;
export const SMMU_IRQ_CMD_SYNC = 2;
export const SMMU_IRQ_GERROR = 3;
export const SMMU_IRQ_NAMES = ['eventq', 'priq', 'cmdq-sync', 'gerror'] as const;

/** PIDR4..7, PIDR0..3, CIDR0..3 at 0xFD0 (QEMU smmuv3_idreg: an MMU-600-style identity). */
export const SMMU_ID_BYTES: readonly number[] = [0x04, 0, 0, 0, 0x84, 0xb4, 0xf0, 0x10, 0x0d, 0xf0, 0x05, 0xb1];
