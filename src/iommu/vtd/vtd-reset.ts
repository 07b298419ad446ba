import type { IntelIommu } from './intel-iommu.js';
import {
  DMAR_CAP_REG, DMAR_CCMD_REG, DMAR_ECAP_REG, DMAR_FEADDR_REG, DMAR_FECTL_REG, DMAR_FEDATA_REG, DMAR_FEUADDR_REG,
  DMAR_FRCD_REG, DMAR_FSTS_REG, DMAR_GCMD_REG, DMAR_GSTS_REG, DMAR_ICS_REG, DMAR_IEADDR_REG, DMAR_IECTL_REG,
  DMAR_IEDATA_REG, DMAR_IEUADDR_REG, DMAR_IOTLB_REG, DMAR_IQA_REG, DMAR_IQH_REG, DMAR_IQT_REG, DMAR_IRTA_REG,
  DMAR_IVA_REG, DMAR_PMEN_REG, DMAR_RTADDR_REG, DMAR_VER_REG, VTD_VERSION,
} from './vtd-regs.js';

/**
 * vtd_init: every register to its reset value with QEMU 7.2's masks
 * (value, writable bits, RW1C bits; write-only bits read as 0), and the
 * unit's state to "off": no root table, DMAR and IR disabled, no queue,
 * caches empty.
 */
export function vtdInitRegisters(s: IntelIommu): void {
  const c = s.csr;
  const cfg = s.cfg;
  c.clear();
  s.root = 0;
  s.dmarEnabled = false;
  s.ir.enabled = false;
  s.ir.root = 0;
  s.ir.size = 0;
  s.ir.eime = false;
  s.queue.reset();
  s.faults.reset();
  s.resetCaches();
  c.defineLong(DMAR_VER_REG, VTD_VERSION, 0, 0);
  c.defineQuad(DMAR_CAP_REG, cfg.capLo, cfg.capHi, 0, 0);
  c.defineQuad(DMAR_ECAP_REG, cfg.ecapLo, cfg.ecapHi, 0, 0);
  c.defineLong(DMAR_GCMD_REG, 0, 0xff800000, 0);
  c.defineWo(DMAR_GCMD_REG, 0xff800000);
  c.defineLong(DMAR_GSTS_REG, 0, 0, 0);
  c.defineQuad(DMAR_RTADDR_REG, 0, 0, 0xfffffc00, 0xffffffff);
  c.defineQuad(DMAR_CCMD_REG, 0, 0, 0xffffffff, 0xe0000003);
  c.defineWo(DMAR_CCMD_REG, 0xffff0000);
  c.defineWo(DMAR_CCMD_REG + 4, 0x3);
  // Advanced fault logging is not supported; PFO and IQE are RW1C.
  c.defineLong(DMAR_FSTS_REG, 0, 0, 0x11);
  c.defineLong(DMAR_FECTL_REG, 0x80000000, 0x80000000, 0);
  c.defineLong(DMAR_FEDATA_REG, 0, 0xffff, 0);
  c.defineLong(DMAR_FEADDR_REG, 0, 0xfffffffc, 0);
  // RsvdZ without ECAP.EIM; PMEN read-only 0 without CAP.PLMR/PHMR.
  c.defineLong(DMAR_FEUADDR_REG, 0, 0, 0);
  c.defineLong(DMAR_PMEN_REG, 0, 0, 0);
  c.defineQuad(DMAR_IQH_REG, 0, 0, 0, 0);
  c.defineQuad(DMAR_IQT_REG, 0, 0, 0x7fff0, 0);
  c.defineQuad(DMAR_IQA_REG, 0, 0, 0xfffff807, 0xffffffff);
  c.defineLong(DMAR_ICS_REG, 0, 0, 0x1);
  c.defineLong(DMAR_IECTL_REG, 0x80000000, 0x80000000, 0);
  c.defineLong(DMAR_IEDATA_REG, 0, 0xffffffff, 0);
  c.defineLong(DMAR_IEADDR_REG, 0, 0xfffffffc, 0);
  c.defineLong(DMAR_IEUADDR_REG, 0, 0, 0);
  c.defineQuad(DMAR_IOTLB_REG, 0, 0, 0, 0xb003ffff);
  c.defineQuad(DMAR_IVA_REG, 0, 0, 0xfffff07f, 0xffffffff);
  c.defineWo(DMAR_IVA_REG, 0xfffff07f);
  c.defineWo(DMAR_IVA_REG + 4, 0xffffffff);
  c.defineQuad(DMAR_FRCD_REG, 0, 0, 0, 0);
  c.defineQuad(DMAR_FRCD_REG + 8, 0, 0, 0, 0, 0, 0x80000000);
  c.defineQuad(DMAR_IRTA_REG, 0, 0, 0xfffff80f, 0xffffffff);
}
