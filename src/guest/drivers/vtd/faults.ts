import type { GuestKernel } from '../../kernel.js';
import { cap, DMA_FSTS_PFO, DMA_FSTS_PPF, DMAR_FEADDR_REG, DMAR_FECTL_REG, DMAR_FEDATA_REG, DMAR_FEUADDR_REG, DMAR_FSTS_REG } from './regs.js';
import type { DmarUnit } from './unit.js';

/** Linux dma_remap_fault_reasons (drivers/iommu/intel/dmar.c), indexed by fault reason. */
const REASONS: readonly string[] = [
  'Software', 'Present bit in root entry is clear', 'Present bit in context entry is clear', 'Invalid context entry',
  'Access beyond MGAW', 'PTE Write access is not set', 'PTE Read access is not set', 'Next page table ptr is invalid',
  'Root table address invalid', 'Context table ptr is invalid', 'non-zero reserved fields in RTP',
  'non-zero reserved fields in CTP', 'non-zero reserved fields in PTE', 'PCE for translation request specifies blocking',
];

export function faultReasonText(r: number): string {
  if (r === 0xe) return 'Address in interrupt range';
  if (r >= 0x20 && r <= 0x26) return 'INTR-REMAP fault';
  return REASONS[r] ?? 'Unknown';
}

/** The fault event MSI of unit `index`: CPU 0, one vector per unit. */
export const FAULT_MSI_ADDRESS = 0xfee00000;
export function faultVector(index: number): number {
  return 0x30 + index;
}

/**
 * dmar_fault (drivers/iommu/intel/dmar.c): while PPF is set, walk the
 * fault recording registers from FRI, log each pending one as Linux does
 * and clear its F bit (RW1C), then clear PFO. Returns the faults handled.
 */
export function dmarFault(k: GuestKernel, unit: DmarUnit): number {
  const fsts = unit.r32(DMAR_FSTS_REG);
  if (fsts) k.log.err('DMAR', `DRHD: handling fault status reg ${fsts.toString(16)}`);
  let n = 0;
  if (fsts & DMA_FSTS_PPF) {
    const base = cap.fro(unit.capLo, unit.capHi);
    const nfr = cap.nfr(unit.capHi);
    let i = (fsts >>> 8) & 0xff;
    for (let seen = 0; seen < nfr; seen++) {
      const reg = base + i * 16;
      const data = unit.r32(reg + 12);
      if (!(data & 0x80000000)) break;
      const reason = data & 0xff;
      const sid = unit.r32(reg + 8) & 0xffff;
      const addr = unit.r32(reg + 4) * 0x1_0000_0000 + ((unit.r32(reg) & 0xfffff000) >>> 0);
      unit.w32(reg + 12, 0x80000000);
      const h = (v: number) => v.toString(16).padStart(2, '0');
      k.log.err('DMAR', `[${data & 0x40000000 ? 'DMA Read' : 'DMA Write'} NO_PASID] Request device [${h(sid >>> 8)}:${h((sid >>> 3) & 0x1f)}.${sid & 7}] ` +
        `fault addr 0x${addr.toString(16)} [fault reason 0x${h(reason)}] ${faultReasonText(reason)}`);
      n++;
      i = (i + 1) % nfr;
    }
  }
  unit.w32(DMAR_FSTS_REG, DMA_FSTS_PFO | DMA_FSTS_PPF);
  return n;
}

/**
 * dmar_set_interrupt: FEDATA/FEADDR programmed, faults already pending
 * handled once, then the event unmasked (FECTL.IM = 0). dmar_fault is a
 * hard interrupt handler in Linux: it runs when the MSI arrives (an MSI
 * raised while the handler runs is handled when it returns).
 */
export function setupFaultInterrupt(k: GuestKernel, unit: DmarUnit, onFault: (n: number) => void): void {
  const vector = faultVector(unit.index);
  unit.w32(DMAR_FEDATA_REG, vector);
  unit.w32(DMAR_FEADDR_REG, FAULT_MSI_ADDRESS);
  unit.w32(DMAR_FEUADDR_REG, 0);
  let running = false;
  let again = false;
  k.port.onMsi((a, d) => {
    if (Number(a) !== FAULT_MSI_ADDRESS || (d & 0xff) !== vector) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        onFault(dmarFault(k, unit));
      } while (again);
    } finally {
      running = false;
    }
  });
  onFault(dmarFault(k, unit));
  unit.w32(DMAR_FECTL_REG, 0);
}
