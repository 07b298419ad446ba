import type { MmioOps, Word64 } from '../../memory/index.js';
import type { IntelIommu } from './intel-iommu.js';
import {
  vtdContextDeviceInvalidate, vtdContextGlobalInvalidate, vtdIotlbDomainInvalidate, vtdIotlbGlobalInvalidate,
  vtdIotlbPageInvalidate, vtdRefreshAll,
} from './vtd-invalidate.js';
import {
  DMAR_CCMD_REG, DMAR_FECTL_REG, DMAR_FEADDR_REG, DMAR_FRCD_REG, DMAR_FSTS_REG, DMAR_GCMD_REG, DMAR_GSTS_REG, DMAR_ICS_REG,
  DMAR_IECTL_REG, DMAR_IOTLB_REG, DMAR_IQA_REG, DMAR_IQT_REG, DMAR_IRTA_REG, DMAR_IVA_REG, DMAR_REG_SIZE,
  DMAR_RTADDR_REG, VTD_CCMD_CAIG_MASK_HI, VTD_CCMD_CAIG_SHIFT_HI, VTD_CCMD_CIRG_SHIFT_HI, VTD_CCMD_ICC_HI, VTD_GCMD_IRE,
  VTD_GCMD_QIE, VTD_GCMD_SIRTP, VTD_GCMD_SRTP, VTD_GCMD_TE, VTD_GSTS_IRES, VTD_GSTS_IRTPS, VTD_GSTS_RTPS, VTD_GSTS_TES,
  VTD_INV_DEVICE, VTD_INV_DOMAIN, VTD_INV_GLOBAL, VTD_IOTLB_IAIG_MASK_HI, VTD_IOTLB_IAIG_SHIFT_HI, VTD_IOTLB_IIRG_SHIFT_HI,
  VTD_IOTLB_IVT_HI, VTD_IOTLB_PAGE, VTD_IQA_QS, VTD_IRTA_EIME, VTD_IRTA_S,
} from './vtd-regs.js';

const TWO32 = 0x1_0000_0000;

/** An address register's [aw-1:12] as a number. */
function addrField(s: IntelIommu, off: number): number {
  const awHi = (1 << (s.cfg.awBits - 32)) - 1;
  return (s.csr.raw(off + 4) & awHi) * TWO32 + ((s.csr.raw(off) & 0xfffff000) >>> 0);
}

/**
 * GCMD written (spec 10.4.4; QEMU vtd_handle_gcmd_write). The command acts
 * on the value written against GSTS: TE, QIE and IRE on a change, SRTP and
 * SIRTP whenever they are 1. Software must write GSTS | bit, so a write
 * without TE turns translation off.
 */
function gcmdWritten(s: IntelIommu): void {
  const status = s.csr.raw(DMAR_GSTS_REG);
  const val = s.csr.raw(DMAR_GCMD_REG);
  const changed = status ^ val;
  if (changed & VTD_GCMD_TE && s.cfg.dmaTranslation) setTranslation(s, (val & VTD_GCMD_TE) !== 0);
  if (val & VTD_GCMD_SRTP) {
    // vtd_root_table_setup: the address, TTM ignored (legacy tables only).
    s.root = addrField(s, DMAR_RTADDR_REG);
    s.csr.update(DMAR_GSTS_REG, 0, VTD_GSTS_RTPS);
    s.resetCaches();
    vtdRefreshAll(s);
  }
  if (changed & VTD_GCMD_QIE) s.queue.setEnabled((val & VTD_GCMD_QIE) !== 0);
  if (val & VTD_GCMD_SIRTP) {
    const irta = s.csr.raw(DMAR_IRTA_REG);
    s.ir.root = addrField(s, DMAR_IRTA_REG);
    s.ir.size = 2 ** ((irta & VTD_IRTA_S) + 1);
    s.ir.eime = (irta & VTD_IRTA_EIME) !== 0;
    s.csr.update(DMAR_GSTS_REG, 0, VTD_GSTS_IRTPS);
  }
  if (changed & VTD_GCMD_IRE) {
    s.ir.enabled = (val & VTD_GCMD_IRE) !== 0;
    s.csr.update(DMAR_GSTS_REG, s.ir.enabled ? 0 : VTD_GSTS_IRES, s.ir.enabled ? VTD_GSTS_IRES : 0);
  }
}

/** vtd_handle_gcmd_te: caches reset and every address space re-switched (IOMMU region or no-DMAR alias). */
function setTranslation(s: IntelIommu, on: boolean): void {
  if (s.dmarEnabled === on) return;
  s.dmarEnabled = on;
  if (!on) s.faults.resetIndex();
  s.csr.update(DMAR_GSTS_REG, on ? 0 : VTD_GSTS_TES, on ? VTD_GSTS_TES : 0);
  s.resetCaches();
  vtdRefreshAll(s);
}

/** Register-based invalidation is ignored while QI is on (the request bit stays set). */
function qiBlocks(s: IntelIommu): boolean {
  if (!s.queue.enabled) return false;
  s.inv.ignoredRegister++;
  s.log?.warn('intel-iommu', 'Queued Invalidation enabled, should not use register-based invalidation');
  return true;
}

/** CCMD written with ICC (spec 10.4.7): domain granularity is done as global; CAIG reports what was done. */
function ccmdWritten(s: IntelIommu): void {
  const hi = s.csr.raw(DMAR_CCMD_REG + 4);
  if (!(hi & VTD_CCMD_ICC_HI) || qiBlocks(s)) return;
  const lo = s.csr.raw(DMAR_CCMD_REG);
  let caig = 0;
  switch ((hi >>> VTD_CCMD_CIRG_SHIFT_HI) & 3) {
    case VTD_INV_GLOBAL:
    case VTD_INV_DOMAIN:
      caig = VTD_INV_GLOBAL;
      vtdContextGlobalInvalidate(s);
      break;
    case VTD_INV_DEVICE:
      caig = VTD_INV_DEVICE;
      vtdContextDeviceInvalidate(s, lo >>> 16, hi & 3);
      break;
    default:
      s.log?.warn('intel-iommu', 'CCMD with invalid granularity');
  }
  s.coherence.quiesceSync();
  s.csr.update(DMAR_CCMD_REG + 4, VTD_CCMD_ICC_HI | VTD_CCMD_CAIG_MASK_HI, caig << VTD_CCMD_CAIG_SHIFT_HI);
}

/** IOTLB_REG written with IVT (spec 10.4.8.1): global, domain, or page-selective from IVA; IAIG reports what was done. */
function iotlbWritten(s: IntelIommu): void {
  const hi = s.csr.raw(DMAR_IOTLB_REG + 4);
  if (!(hi & VTD_IOTLB_IVT_HI) || qiBlocks(s)) return;
  const did = hi & 0xffff;
  let iaig = 0;
  switch ((hi >>> VTD_IOTLB_IIRG_SHIFT_HI) & 3) {
    case VTD_INV_GLOBAL:
      iaig = VTD_INV_GLOBAL;
      vtdIotlbGlobalInvalidate(s);
      break;
    case VTD_INV_DOMAIN:
      iaig = VTD_INV_DOMAIN;
      vtdIotlbDomainInvalidate(s, did);
      break;
    case VTD_IOTLB_PAGE: {
      const am = s.csr.raw(DMAR_IVA_REG) & 0x3f;
      if (am > 18) break;
      iaig = VTD_IOTLB_PAGE;
      vtdIotlbPageInvalidate(s, did, s.csr.raw(DMAR_IVA_REG + 4) * TWO32 + ((s.csr.raw(DMAR_IVA_REG) & 0xfffff000) >>> 0), am);
      break;
    }
    default:
      s.log?.warn('intel-iommu', 'IOTLB_REG with invalid granularity');
  }
  s.coherence.quiesceSync();
  s.csr.update(DMAR_IOTLB_REG + 4, VTD_IOTLB_IVT_HI | VTD_IOTLB_IAIG_MASK_HI, iaig << VTD_IOTLB_IAIG_SHIFT_HI);
}

/** vtd_mem_read: 4- or 8-byte reads; IQA reads the latched queue base; beyond the block all ones. */
function read32(s: IntelIommu, off: number): number {
  if (off + 4 > DMAR_REG_SIZE) return 0xffffffff;
  if (off === DMAR_IQA_REG) return ((s.queue.base % TWO32) | (s.csr.getLong(off) & VTD_IQA_QS)) >>> 0;
  if (off === DMAR_IQA_REG + 4) return Math.floor(s.queue.base / TWO32);
  return s.csr.getLong(off);
}

/** vtd_mem_write for one 32-bit piece (`wide`: part of an 8-byte write, `last`: its high half). */
function write32(s: IntelIommu, off: number, v: number, wide: boolean, last: boolean): void {
  if (off + 4 > DMAR_REG_SIZE) return;
  s.csr.setLong(off, v);
  switch (off) {
    case DMAR_GCMD_REG: gcmdWritten(s); break;
    case DMAR_CCMD_REG + 4: if (!wide || last) ccmdWritten(s); break;
    case DMAR_IOTLB_REG + 4: if (!wide || last) iotlbWritten(s); break;
    case DMAR_FSTS_REG: s.faults.fstsWritten(); break;
    case DMAR_FECTL_REG: s.faults.fectlWritten(); break;
    case DMAR_IQT_REG: if (!wide) s.queue.tailWritten(); break;
    case DMAR_IQT_REG + 4: if (wide) s.queue.tailWritten(); break;
    case DMAR_ICS_REG: s.faults.icsWritten(); break;
    case DMAR_IECTL_REG: s.faults.iectlWritten(); break;
    case DMAR_FRCD_REG + 12: s.faults.updatePpf(); break;
  }
}

/** The register block's MMIO ops: 4- and 8-byte accesses (QEMU vtd_mem_ops), little-endian. */
export function vtdMmioOps(s: IntelIommu): MmioOps {
  return {
    read: (off) => read32(s, off),
    write: (off, _size, v) => write32(s, off, v, false, false),
    read64: (off): Word64 => ({ lo: read32(s, off), hi: off + 8 > DMAR_REG_SIZE ? 0xffffffff : read32(s, off + 4) }),
    write64: (off, lo, hi) => {
      // A 64-bit write at FEADDR (Xen does this) stores FEADDR and FEUADDR.
      if (off === DMAR_FEADDR_REG || off + 8 <= DMAR_REG_SIZE) {
        write32(s, off, lo, true, false);
        write32(s, off + 4, hi, true, true);
      }
    },
    valid: { min: 4, max: 8 },
    impl: { min: 4, max: 8 },
  };
}
