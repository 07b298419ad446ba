/**
 * The guest driver's own VT-d definitions, written from the Intel VT-d
 * specification 3.4 (chapter 10 registers, chapter 9 structures, section
 * 6.5 invalidation descriptors), as Linux's drivers/iommu/intel/iommu.h
 * has them. Not shared with the device model.
 */
export const DMAR_VER_REG = 0x0;
export const DMAR_CAP_REG = 0x8;
export const DMAR_ECAP_REG = 0x10;
export const DMAR_GCMD_REG = 0x18;
export const DMAR_GSTS_REG = 0x1c;
export const DMAR_RTADDR_REG = 0x20;
export const DMAR_FSTS_REG = 0x34;
export const DMAR_FECTL_REG = 0x38;
export const DMAR_FEDATA_REG = 0x3c;
export const DMAR_FEADDR_REG = 0x40;
export const DMAR_FEUADDR_REG = 0x44;
export const DMAR_IQH_REG = 0x80;
export const DMAR_IQT_REG = 0x88;
export const DMAR_IQA_REG = 0x90;
export const DMAR_ICS_REG = 0x9c;

/** GCMD/GSTS (10.4.4-5). */
export const DMA_GCMD_TE = 0x80000000;
export const DMA_GCMD_SRTP = 0x40000000;
export const DMA_GCMD_QIE = 0x04000000;
export const DMA_GSTS_TES = 0x80000000;
export const DMA_GSTS_RTPS = 0x40000000;
export const DMA_GSTS_QIES = 0x04000000;

/** FSTS (10.4.9) and FECTL (10.4.10). */
export const DMA_FSTS_PFO = 1 << 0;
export const DMA_FSTS_PPF = 1 << 1;
export const DMA_FSTS_IQE = 1 << 4;
export const DMA_FECTL_IM = 0x80000000;

/** CAP fields (10.4.2) from the (lo, hi) halves. */
export const cap = {
  nd: (lo: number) => lo & 7,
  cachingMode: (lo: number) => (lo >>> 7) & 1,
  sagaw: (lo: number) => (lo >>> 8) & 0x1f,
  mgaw: (lo: number) => ((lo >>> 16) & 0x3f) + 1,
  fro: (lo: number, hi: number) => (((lo >>> 24) & 0xff) | ((hi & 3) << 8)) * 16,
  sslps: (hi: number) => (hi >>> 2) & 0xf,
  psi: (hi: number) => (hi >>> 7) & 1,
  nfr: (hi: number) => ((hi >>> 8) & 0xff) + 1,
  mamv: (hi: number) => (hi >>> 16) & 0x3f,
};

/** ECAP fields (10.4.3). */
export const ecap = {
  qi: (lo: number) => (lo >>> 1) & 1,
  dt: (lo: number) => (lo >>> 2) & 1,
  ir: (lo: number) => (lo >>> 3) & 1,
  pt: (lo: number) => (lo >>> 6) & 1,
  sc: (lo: number) => (lo >>> 7) & 1,
  iro: (lo: number) => ((lo >>> 8) & 0x3ff) * 16,
};

/** Second-level entries (9.8): R, W, PS (superpage), SNP. */
export const DMA_PTE_READ = 1;
export const DMA_PTE_WRITE = 2;
export const DMA_PTE_LARGE_PAGE = 1 << 7;
export const DMA_PTE_SNP = 1 << 11;

/** Context-entry translation types (9.3). */
export const CONTEXT_TT_MULTI_LEVEL = 0;
export const CONTEXT_TT_DEV_IOTLB = 1;
export const CONTEXT_TT_PASS_THROUGH = 2;

/** Invalidation descriptor types and fields (6.5.2). */
export const QI_CC_TYPE = 0x1;
export const QI_IOTLB_TYPE = 0x2;
export const QI_DIOTLB_TYPE = 0x3;
export const QI_IWD_TYPE = 0x5;
export const QI_CC_GRAN_GLOBAL = 1 << 4;
export const QI_CC_GRAN_DEVICE = 3 << 4;
export const QI_IOTLB_GRAN_GLOBAL = 1 << 4;
export const QI_IOTLB_GRAN_DOMAIN = 2 << 4;
export const QI_IOTLB_GRAN_PAGE = 3 << 4;
export const QI_IOTLB_DR = 1 << 7;
export const QI_IOTLB_DW = 1 << 6;
export const QI_IOTLB_IH = 1 << 6;
export const QI_IWD_STATUS_WRITE = 1 << 5;
export const QI_IWD_FENCE = 1 << 6;
/** Status values the driver writes through wait descriptors. */
export const QI_DONE = 1;
