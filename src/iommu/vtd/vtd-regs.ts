/**
 * Intel VT-d remapping-hardware registers (Intel VT-d specification 3.4,
 * chapter 10.4 "Register descriptions"; QEMU hw/i386/intel_iommu_internal.h;
 * ref/smmuv3-vtd.md B1). Offsets are from the register base (0xFED90000 on
 * q35). 64-bit fields are given as bit numbers or as (lo, hi) u32 masks.
 */
export const DMAR_VER_REG = 0x00;
export const DMAR_CAP_REG = 0x08;
export const DMAR_ECAP_REG = 0x10;
export const DMAR_GCMD_REG = 0x18;
export const DMAR_GSTS_REG = 0x1c;
export const DMAR_RTADDR_REG = 0x20;
export const DMAR_CCMD_REG = 0x28;
export const DMAR_FSTS_REG = 0x34;
export const DMAR_FECTL_REG = 0x38;
export const DMAR_FEDATA_REG = 0x3c;
export const DMAR_FEADDR_REG = 0x40;
export const DMAR_FEUADDR_REG = 0x44;
export const DMAR_PMEN_REG = 0x64;
export const DMAR_IQH_REG = 0x80;
export const DMAR_IQT_REG = 0x88;
export const DMAR_IQA_REG = 0x90;
export const DMAR_ICS_REG = 0x9c;
export const DMAR_IECTL_REG = 0xa0;
export const DMAR_IEDATA_REG = 0xa4;
export const DMAR_IEADDR_REG = 0xa8;
export const DMAR_IEUADDR_REG = 0xac;
export const DMAR_IRTA_REG = 0xb8;
/** IOTLB registers at ECAP.IRO * 16 = 0xF0: the invalidate-address register, then IOTLB_REG. */
export const DMAR_IVA_REG = 0xf0;
export const DMAR_IOTLB_REG = 0xf8;
/** Fault recording registers at CAP.FRO * 16 = 0x220; one 128-bit register (CAP.NFR = 0). */
export const DMAR_FRCD_REG = 0x220;
export const DMAR_FRCD_REG_NR = 1;
/** DMAR_REG_SIZE: the register block (reads beyond it return all ones). */
export const DMAR_REG_SIZE = 0x230;

/** VER_REG: major 1, minor 0. */
export const VTD_VERSION = 0x10;

/** GCMD_REG / GSTS_REG bits (spec 10.4.4, 10.4.5). */
export const VTD_GCMD_TE = 1 << 31;
export const VTD_GCMD_SRTP = 1 << 30;
export const VTD_GCMD_SFL = 1 << 29;
export const VTD_GCMD_EAFL = 1 << 28;
export const VTD_GCMD_WBF = 1 << 27;
export const VTD_GCMD_QIE = 1 << 26;
export const VTD_GCMD_IRE = 1 << 25;
export const VTD_GCMD_SIRTP = 1 << 24;
export const VTD_GCMD_CFI = 1 << 23;
export const VTD_GSTS_TES = VTD_GCMD_TE;
export const VTD_GSTS_RTPS = VTD_GCMD_SRTP;
export const VTD_GSTS_QIES = VTD_GCMD_QIE;
export const VTD_GSTS_IRES = VTD_GCMD_IRE;
export const VTD_GSTS_IRTPS = VTD_GCMD_SIRTP;

/** FSTS_REG (spec 10.4.9): PFO bit 0 and IQE bit 4 are RW1C, PPF bit 1 is derived from the FRCD F bits, FRI [15:8]. */
export const VTD_FSTS_PFO = 1 << 0;
export const VTD_FSTS_PPF = 1 << 1;
export const VTD_FSTS_IQE = 1 << 4;
export const VTD_FSTS_FRI_SHIFT = 8;
export const VTD_FSTS_FRI_MASK = 0xff00;

/** FECTL_REG / IECTL_REG: interrupt mask bit 31, interrupt pending bit 30. */
export const VTD_CTL_IM = 1 << 31;
export const VTD_CTL_IP = 1 << 30;
/** ICS_REG: invalidation wait descriptor complete. */
export const VTD_ICS_IWC = 1;

/**
 * CCMD_REG (spec 10.4.7), high half: ICC bit 63, CIRG [62:61], CAIG [60:59],
 * FM [33:32]; low half: SID [31:16], DID [15:0].
 */
export const VTD_CCMD_ICC_HI = 1 << 31;
export const VTD_CCMD_CIRG_SHIFT_HI = 29;
export const VTD_CCMD_CAIG_SHIFT_HI = 27;
export const VTD_CCMD_CAIG_MASK_HI = 3 << 27;
/** Granularities (CIRG and CAIG values). */
export const VTD_INV_GLOBAL = 1;
export const VTD_INV_DOMAIN = 2;
export const VTD_INV_DEVICE = 3;

/**
 * IOTLB_REG (spec 10.4.8.1), high half: IVT bit 63, IIRG [61:60], IAIG
 * [58:57], DR 49, DW 48, DID [47:32]. IVA_REG (10.4.8.2): ADDR [63:12], IH
 * bit 6, AM [5:0].
 */
export const VTD_IOTLB_IVT_HI = 1 << 31;
export const VTD_IOTLB_IIRG_SHIFT_HI = 28;
export const VTD_IOTLB_IAIG_SHIFT_HI = 25;
export const VTD_IOTLB_IAIG_MASK_HI = 3 << 25;
export const VTD_IOTLB_PAGE = 3;

/** FRCD (spec 10.4.14), high 64 bits: F bit 127 (RW1C), T bit 126 (1 = read), FR [103:96], SID [79:64]. */
export const VTD_FRCD_F_HI = 1 << 31;
export const VTD_FRCD_T_HI = 1 << 30;

/** IQA_REG: base [HAW-1:12], DW bit 11, QS [2:0]; IQT/IQH: index in [18:4]. */
export const VTD_IQA_QS = 7;
export const VTD_IQA_DW = 1 << 11;
/** IRTA_REG: base [HAW-1:12], EIME bit 11, S [3:0] (2^(S+1) entries). */
export const VTD_IRTA_S = 0xf;
export const VTD_IRTA_EIME = 1 << 11;

/** The interrupt address range (spec 3.14): DMA here is an interrupt request. */
export const VTD_INTERRUPT_ADDR_FIRST = 0xfee00000;
export const VTD_INTERRUPT_ADDR_SIZE = 0x100000;
