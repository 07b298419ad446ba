import type { VtdCsr } from './vtd-csr.js';
import {
  DMAR_FEADDR_REG, DMAR_FECTL_REG, DMAR_FEDATA_REG, DMAR_FRCD_REG, DMAR_FRCD_REG_NR, DMAR_FSTS_REG, DMAR_ICS_REG,
  DMAR_IEADDR_REG, DMAR_IECTL_REG, DMAR_IEDATA_REG, VTD_CTL_IM, VTD_CTL_IP, VTD_FRCD_F_HI, VTD_FRCD_T_HI,
  VTD_FSTS_FRI_MASK, VTD_FSTS_FRI_SHIFT, VTD_FSTS_IQE, VTD_FSTS_PFO, VTD_FSTS_PPF, VTD_ICS_IWC,
} from './vtd-regs.js';

/** Fault reasons recorded only when the context entry's FPD is 0 (spec 7.1.3 "qualified"; QEMU vtd_qualified_faults). */
const QUALIFIED: ReadonlySet<number> = new Set([0x2, 0x3, 0x4, 0x5, 0x6, 0x7, 0xc, 0xd]);

export function vtdQualifiedFault(reason: number): boolean {
  return QUALIFIED.has(reason);
}

/** Fault reason texts as Linux prints them (drivers/iommu/intel/dmar.c dma_remap_fault_reasons). */
export const VTD_FAULT_REASONS: Readonly<Record<number, string>> = {
  0x1: 'Present bit in root entry is clear', 0x2: 'Present bit in context entry is clear',
  0x3: 'Invalid context entry', 0x4: 'Access beyond MGAW', 0x5: 'PTE Write access is not set',
  0x6: 'PTE Read access is not set', 0x7: 'Next page table ptr is invalid', 0x8: 'Root table address invalid',
  0x9: 'Context table ptr is invalid', 0xa: 'non-zero reserved fields in RTP', 0xb: 'non-zero reserved fields in CTP',
  0xc: 'non-zero reserved fields in PTE', 0xd: 'PCE for translation request specifies blocking',
  0xe: 'Address in interrupt range',
};

export interface VtdFaultCounts {
  recorded: number;
  /** Qualified faults not recorded because the context entry has FPD set. */
  suppressed: number;
  /** Dropped: PFO set, collapsed with a pending fault of the same SID, or no free FRCD (PFO set then). */
  dropped: number;
  events: number;
}

/**
 * Primary fault logging and the two interrupt events (spec 7.3.1, 10.4.9-
 * 10.4.14; QEMU vtd_report_dmar_fault, vtd_generate_fault_event,
 * vtd_generate_completion_event): one fault recording register, faults
 * collapsed per source-id while one is pending, PFO when the next
 * register is still full, a fault event (MSI to FEADDR/FEDATA unless
 * FECTL.IM) when PPF goes from 0 to 1 or IQE is raised.
 */
export class VtdFaults {
  readonly counts: VtdFaultCounts = { recorded: 0, suppressed: 0, dropped: 0, events: 0 };
  private nextFrcd = 0;

  constructor(private readonly csr: VtdCsr, private readonly sendMsi: (addr: number, data: number) => void) {}

  reset(): void {
    this.nextFrcd = 0;
  }

  /** TE cleared: the fault recording index restarts (QEMU vtd_handle_gcmd_te). */
  resetIndex(): void {
    this.nextFrcd = 0;
  }

  private frcdHi(i: number): number {
    return DMAR_FRCD_REG + i * 16 + 12;
  }

  private isFrcdSet(i: number): boolean {
    return (this.csr.raw(this.frcdHi(i)) & VTD_FRCD_F_HI) !== 0;
  }

  /** vtd_update_fsts_ppf: PPF mirrors "some FRCD has F set". */
  updatePpf(): void {
    let ppf = 0;
    for (let i = 0; i < DMAR_FRCD_REG_NR; i++) if (this.isFrcdSet(i)) ppf = VTD_FSTS_PPF;
    this.csr.update(DMAR_FSTS_REG, VTD_FSTS_PPF, ppf);
  }

  /** Records a fault with QEMU's checks in order; `write` sets T = 0. */
  report(sid: number, addr: number, reason: number, write: boolean): void {
    const fsts = this.csr.raw(DMAR_FSTS_REG);
    if (fsts & VTD_FSTS_PFO) {
      this.counts.dropped++;
      return;
    }
    for (let i = 0; i < DMAR_FRCD_REG_NR; i++) {
      if (this.isFrcdSet(i) && (this.csr.raw(DMAR_FRCD_REG + i * 16 + 8) & 0xffff) === sid) {
        this.counts.dropped++;
        return;
      }
    }
    const i = this.nextFrcd;
    if (this.isFrcdSet(i)) {
      this.csr.update(DMAR_FSTS_REG, 0, VTD_FSTS_PFO);
      this.counts.dropped++;
      return;
    }
    // FRCD: lo = fault info [63:12]; hi = SID [79:64], FR [103:96], PV [123:104], T bit 126, F bit 127.
    // PP (bit 95) is 0: no PASID. The specification leaves PV undefined then; QEMU 7.2 stores the
    // low 16 bits of PCI_NO_PASID (0xffff) there, and so does viommu, so that FRCD reads match.
    const base = DMAR_FRCD_REG + i * 16;
    this.csr.setRaw(base, (addr - (addr % 4096)) % 0x1_0000_0000);
    this.csr.setRaw(base + 4, Math.floor(addr / 0x1_0000_0000));
    this.csr.setRaw(base + 8, sid & 0xffff);
    this.csr.setRaw(base + 12, (reason & 0xff) | (0xffff << 8) | (write ? 0 : VTD_FRCD_T_HI) | VTD_FRCD_F_HI);
    this.counts.recorded++;
    if (!(fsts & VTD_FSTS_PPF)) this.csr.update(DMAR_FSTS_REG, VTD_FSTS_FRI_MASK, i << VTD_FSTS_FRI_SHIFT);
    this.updatePpf();
    this.nextFrcd = (i + 1) % DMAR_FRCD_REG_NR;
    if (!(fsts & VTD_FSTS_PPF)) this.faultEvent(fsts);
  }

  /** An invalidation queue error: IQE, then the fault event. */
  queueError(): void {
    const fsts = this.csr.raw(DMAR_FSTS_REG);
    this.csr.update(DMAR_FSTS_REG, 0, VTD_FSTS_IQE);
    this.faultEvent(fsts);
  }

  /** vtd_generate_fault_event: nothing while an earlier condition is unserviced; IP, then the MSI unless IM. */
  private faultEvent(preFsts: number): void {
    if (preFsts & (VTD_FSTS_PPF | VTD_FSTS_PFO | VTD_FSTS_IQE)) return;
    this.csr.update(DMAR_FECTL_REG, 0, VTD_CTL_IP);
    if (this.csr.raw(DMAR_FECTL_REG) & VTD_CTL_IM) return;
    this.msi(DMAR_FEADDR_REG, DMAR_FEDATA_REG);
    this.csr.update(DMAR_FECTL_REG, VTD_CTL_IP, 0);
  }

  private msi(addrReg: number, dataReg: number): void {
    this.counts.events++;
    this.sendMsi(this.csr.raw(addrReg), this.csr.raw(dataReg));
  }

  /** FSTS written: IP clears once PFO, PPF and IQE are all clear. */
  fstsWritten(): void {
    const fsts = this.csr.raw(DMAR_FSTS_REG);
    if ((this.csr.raw(DMAR_FECTL_REG) & VTD_CTL_IP) && !(fsts & (VTD_FSTS_PFO | VTD_FSTS_PPF | VTD_FSTS_IQE))) {
      this.csr.update(DMAR_FECTL_REG, VTD_CTL_IP, 0);
    }
  }

  /** FECTL written: clearing IM while IP is set sends the deferred MSI. */
  fectlWritten(): void {
    const v = this.csr.raw(DMAR_FECTL_REG);
    if ((v & VTD_CTL_IP) && !(v & VTD_CTL_IM)) {
      this.msi(DMAR_FEADDR_REG, DMAR_FEDATA_REG);
      this.csr.update(DMAR_FECTL_REG, VTD_CTL_IP, 0);
    }
  }

  /** vtd_generate_completion_event (a wait descriptor with IF): none while ICS.IWC is set; IWC, IP, then the MSI unless IM. */
  completionEvent(): void {
    if (this.csr.raw(DMAR_ICS_REG) & VTD_ICS_IWC) return;
    this.csr.update(DMAR_ICS_REG, 0, VTD_ICS_IWC);
    this.csr.update(DMAR_IECTL_REG, 0, VTD_CTL_IP);
    if (this.csr.raw(DMAR_IECTL_REG) & VTD_CTL_IM) return;
    this.msi(DMAR_IEADDR_REG, DMAR_IEDATA_REG);
    this.csr.update(DMAR_IECTL_REG, VTD_CTL_IP, 0);
  }

  /** ICS written: IECTL.IP clears once IWC is clear. */
  icsWritten(): void {
    if ((this.csr.raw(DMAR_IECTL_REG) & VTD_CTL_IP) && !(this.csr.raw(DMAR_ICS_REG) & VTD_ICS_IWC)) {
      this.csr.update(DMAR_IECTL_REG, VTD_CTL_IP, 0);
    }
  }

  /** IECTL written: clearing IM while IP is set sends the deferred completion MSI. */
  iectlWritten(): void {
    const v = this.csr.raw(DMAR_IECTL_REG);
    if ((v & VTD_CTL_IP) && !(v & VTD_CTL_IM)) {
      this.msi(DMAR_IEADDR_REG, DMAR_IEDATA_REG);
      this.csr.update(DMAR_IECTL_REG, VTD_CTL_IP, 0);
    }
  }
}
