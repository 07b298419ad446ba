/**
 * The guest's own SMMUv3 definitions, written from Arm IHI 0070 (the SMMU
 * architecture specification) and Linux drivers/iommu/arm/arm-smmu-v3/
 * arm-smmu-v3.h; never imported from the device model (DESIGN section 1).
 */
export const ARM_SMMU_IDR0 = 0x0;
export const ARM_SMMU_IDR1 = 0x4;
export const ARM_SMMU_IDR3 = 0xc;
export const ARM_SMMU_IDR5 = 0x14;
export const ARM_SMMU_CR0 = 0x20;
export const ARM_SMMU_CR0ACK = 0x24;
export const ARM_SMMU_CR1 = 0x28;
export const ARM_SMMU_CR2 = 0x2c;
export const ARM_SMMU_GBPA = 0x44;
export const ARM_SMMU_IRQ_CTRL = 0x50;
export const ARM_SMMU_IRQ_CTRLACK = 0x54;
export const ARM_SMMU_GERROR = 0x60;
export const ARM_SMMU_GERRORN = 0x64;
export const ARM_SMMU_STRTAB_BASE = 0x80;
export const ARM_SMMU_STRTAB_BASE_CFG = 0x88;
export const ARM_SMMU_CMDQ_BASE = 0x90;
export const ARM_SMMU_CMDQ_PROD = 0x98;
export const ARM_SMMU_CMDQ_CONS = 0x9c;
export const ARM_SMMU_EVTQ_BASE = 0xa0;
/** The event queue's PROD and CONS live in page 1 (IHI 0070 6.2). */
export const ARM_SMMU_EVTQ_PROD = 0x100a8;
export const ARM_SMMU_EVTQ_CONS = 0x100ac;

// IDR0 (6.3.1)
export const IDR0_ST_LVL_2LVL = 1 << 27;
export const IDR0_CD2L = 1 << 19;
export const IDR0_ATS = 1 << 10;
export const IDR0_ASID16 = 1 << 12;
export const IDR0_S1P = 1 << 1;
export const IDR0_S2P = 1 << 0;
export const IDR0_TTF_AARCH64 = 2 << 2;
export const IDR0_MSI = 1 << 13;
// IDR1 (6.3.2)
export const idr1Sidsize = (v: number): number => v & 0x3f;
export const idr1Ssidsize = (v: number): number => (v >>> 6) & 0x1f;
export const idr1Evtqs = (v: number): number => (v >>> 16) & 0x1f;
export const idr1Cmdqs = (v: number): number => (v >>> 21) & 0x1f;
// IDR3 (6.3.4)
export const IDR3_RIL = 1 << 10;
// IDR5 (6.3.6)
export const IDR5_GRAN4K = 1 << 4;
export const IDR5_GRAN16K = 1 << 5;
export const IDR5_GRAN64K = 1 << 6;
export const OAS_BITS = [32, 36, 40, 42, 44, 48, 52, 52];

// CR0 (6.3.9), CR1 (6.3.11), CR2 (6.3.12)
export const CR0_SMMUEN = 1 << 0;
export const CR0_EVTQEN = 1 << 2;
export const CR0_CMDQEN = 1 << 3;
export const CR0_ATSCHK = 1 << 4;
/** CR1: queue and table walks inner/outer write-back, inner shareable (Linux CR1_*). */
export const CR1_VALUE = (3 << 10) | (1 << 8) | (1 << 6) | (3 << 4) | (1 << 2) | 1;
export const CR2_PTM = 1 << 2;
export const CR2_RECINVSID = 1 << 1;
export const GBPA_UPDATE = 1 << 31;
export const GBPA_ABORT = 1 << 20;
export const IRQ_CTRL_GERROR_IRQEN = 1 << 0;
export const IRQ_CTRL_EVTQ_IRQEN = 1 << 2;
export const GERROR_CMDQ_ERR = 1 << 0;
export const GERROR_EVTQ_ABT_ERR = 1 << 2;
export const CMDQ_CONS_ERR_SHIFT = 24;
export const CMDQ_ERR_CERROR_ILL = 1;
export const CMDQ_ERR_CERROR_ABT = 2;
/** Q_BASE: RA hint bit 62, address [51:5], LOG2SIZE [4:0]. */
export const Q_BASE_RWA_HI = 1 << 30;
export const STRTAB_BASE_CFG_FMT_2LVL = 1 << 16;

// Stream table (5.1, 5.2)
export const STRTAB_SPLIT = 8;
export const STRTAB_L1_DESC_SPAN = STRTAB_SPLIT + 1;
export const STRTAB_STE_DWORDS = 8;
export const STE_V = 1;
export const STE_CFG_ABORT = 0 << 1;
export const STE_CFG_BYPASS = 4 << 1;
export const STE_CFG_S1_TRANS = 5 << 1;
export const STE_S1FMT_LINEAR = 0 << 4;
export const STE_S1FMT_64K_L2 = 2 << 4;
/** Word 1: S1CDMax [31:27]; word 2: S1DSS [1:0] (2 = SSID0), EATS [29:28] (1 = full ATS). */
export const STE_S1CDMAX_SHIFT = 27;
export const STE_S1DSS_SSID0 = 2;
export const STE_EATS_TRANS = 1 << 28;
/** Word 3: SHCFG [109:108] = 1, use the incoming shareability (Linux STRTAB_STE_1_SHCFG_INCOMING, bypass STEs). */
export const STE_W3_SHCFG_INCOMING = 1 << 12;

// Context descriptor (5.4)
export const CTXDESC_CD_DWORDS = 8;
export const CD_T0SZ_SHIFT = 0;
export const CD_TG0_4K = 0 << 6;
export const CD_IRGN0_WBWA = 1 << 8;
export const CD_ORGN0_WBWA = 1 << 10;
export const CD_SH0_ISH = 3 << 12;
export const CD_EPD1 = 1 << 30;
export const CD_V = 1 << 31;
export const CD_AA64 = 1 << 9;
export const CD_R = 1 << 13;
export const CD_A = 1 << 14;
export const CD_ASET = 1 << 15;
export const CD_ASID_SHIFT = 16;
/** L1 CD descriptor: V [0], L2Ptr [51:12]; 2-level CD tables of 1024 CDs (64 KiB leaves, S1Fmt 2). */
export const CTXDESC_L2_ENTRIES = 1024;
export const CTXDESC_L1_DESC_V = 1;

// Commands (4.1-4.7)
export const CMDQ_OP_PREFETCH_CFG = 0x1;
export const CMDQ_OP_CFGI_STE = 0x3;
export const CMDQ_OP_CFGI_ALL = 0x4;
export const CMDQ_OP_CFGI_CD = 0x5;
export const CMDQ_OP_CFGI_CD_ALL = 0x6;
export const CMDQ_OP_TLBI_NH_ASID = 0x11;
export const CMDQ_OP_TLBI_NH_VA = 0x12;
export const CMDQ_OP_TLBI_NSNH_ALL = 0x30;
export const CMDQ_OP_ATC_INV = 0x40;
export const CMDQ_OP_CMD_SYNC = 0x46;
export const CMDQ_TLBI_RANGE_NUM_MAX = 31;
export const CMDQ_ATC_INV_SIZE_ALL = 52;

/** Event record types Linux names (arm-smmu-v3.h EVT_ID_*). */
export const EVT_NAMES: Readonly<Record<number, string>> = {
  0x01: 'F_UUT', 0x02: 'C_BAD_STREAMID', 0x03: 'F_STE_FETCH', 0x04: 'C_BAD_STE', 0x05: 'F_BAD_ATS_TREQ',
  0x06: 'F_STREAM_DISABLED', 0x07: 'F_TRANSL_FORBIDDEN', 0x08: 'C_BAD_SUBSTREAMID', 0x09: 'F_CD_FETCH', 0x0a: 'C_BAD_CD',
  0x0b: 'F_WALK_EABT', 0x10: 'F_TRANSLATION', 0x11: 'F_ADDR_SIZE', 0x12: 'F_ACCESS', 0x13: 'F_PERMISSION',
};
