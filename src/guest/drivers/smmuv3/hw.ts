import { ENODEV, ETIMEDOUT } from '../../errno.js';
import type { GuestKernel } from '../../kernel.js';
import type { ArmSmmuV3Options } from './arm-smmu-v3.js';
import { cmdCfgiAll, cmdTlbiNsnhAll, GuestCmdq } from './cmdq.js';
import { GuestEvtq } from './evtq.js';
import {
  ARM_SMMU_CMDQ_BASE, ARM_SMMU_CMDQ_CONS, ARM_SMMU_CMDQ_PROD, ARM_SMMU_CR0, ARM_SMMU_CR0ACK, ARM_SMMU_CR1, ARM_SMMU_CR2,
  ARM_SMMU_EVTQ_BASE, ARM_SMMU_EVTQ_CONS, ARM_SMMU_EVTQ_PROD, ARM_SMMU_IDR0, ARM_SMMU_IDR1, ARM_SMMU_IDR3, ARM_SMMU_IDR5,
  ARM_SMMU_IRQ_CTRL, ARM_SMMU_IRQ_CTRLACK, ARM_SMMU_STRTAB_BASE, ARM_SMMU_STRTAB_BASE_CFG, CR0_ATSCHK, CR0_CMDQEN,
  CR0_EVTQEN, CR0_SMMUEN, CR1_VALUE, CR2_PTM, CR2_RECINVSID, IDR0_ATS, IDR0_CD2L, IDR0_S1P, IDR0_TTF_AARCH64, IDR3_RIL,
  IDR5_GRAN4K, idr1Cmdqs, idr1Evtqs, idr1Sidsize, idr1Ssidsize, IRQ_CTRL_EVTQ_IRQEN, IRQ_CTRL_GERROR_IRQEN, OAS_BITS,
  Q_BASE_RWA_HI,
} from './regs.js';
import { GuestStreamTable } from './strtab.js';

const TWO32 = 0x1_0000_0000;
/** Linux's queue sizes are the hardware maximum capped by a page budget; here 4 KiB for each queue. */
const CMDQ_LOG2 = 8;
const EVTQ_LOG2 = 7;

/** What bring-up found and set up. */
export interface SmmuHwInfo {
  readonly sidBits: number;
  readonly ssidBits: number;
  readonly oas: number;
  /** CD.IPS encoding of the OAS. */
  readonly ips: number;
  readonly ril: boolean;
  readonly ats: boolean;
  readonly cd2l: boolean;
  readonly cmdq: GuestCmdq;
  readonly evtq: GuestEvtq;
  readonly strtab: GuestStreamTable;
}

/**
 * arm_smmu_device_hw_probe + arm_smmu_device_reset: read the ID registers
 * (stage 1, AArch64 tables and the 4 KiB granule are required), disable a
 * running SMMU, program CR1/CR2, the stream table, the command queue
 * (enable, then CFGI_ALL + TLBI_NSNH_ALL + CMD_SYNC), the event queue, the
 * interrupts (GERROR, EVTQ), and finally SMMUEN (with ATSCHK when ATS is
 * used). Every CR0 / IRQ_CTRL write waits for its acknowledgement.
 */
export function bringUp(k: GuestKernel, o: ArmSmmuV3Options, who: string, deviceName: (sid: number) => string): SmmuHwInfo | number {
  const port = k.port;
  const r32 = (off: number) => port.read(o.base + off, 4).lo >>> 0;
  const w32 = (off: number, v: number) => port.write(o.base + off, 4, v >>> 0);
  const w64 = (off: number, v: number, hiBits = 0) => port.write(o.base + off, 8, v % TWO32, (Math.floor(v / TWO32) | hiBits) >>> 0);
  const idr0 = r32(ARM_SMMU_IDR0);
  if (!(idr0 & IDR0_S1P)) {
    k.log.err(who, 'no stage-1 translation support!');
    return -ENODEV;
  }
  if ((idr0 & (3 << 2)) !== IDR0_TTF_AARCH64 && ((idr0 >>> 2) & 3) !== 3) {
    k.log.err(who, 'AArch64 table format not supported!');
    return -ENODEV;
  }
  const idr1 = r32(ARM_SMMU_IDR1);
  const idr5 = r32(ARM_SMMU_IDR5);
  if (!(idr5 & IDR5_GRAN4K)) {
    k.log.err(who, 'no 4K granule support');
    return -ENODEV;
  }
  const sidBits = idr1Sidsize(idr1);
  const ssidBits = idr1Ssidsize(idr1);
  const ips = idr5 & 7;
  const oas = OAS_BITS[ips]!;
  const ats = (idr0 & IDR0_ATS) !== 0 && o.rcAts;
  const info = { sidBits, ssidBits, oas, ips, ril: (r32(ARM_SMMU_IDR3) & IDR3_RIL) !== 0, ats, cd2l: (idr0 & IDR0_CD2L) !== 0 };
  k.log.info(who, `ias ${oas}-bit, oas ${oas}-bit (features 0x${idr0.toString(16).padStart(8, '0')}), `
    + `${sidBits}-bit SIDs, ${ssidBits}-bit SSIDs${info.ril ? ', range invalidation' : ''}${ats ? ', ATS' : ''}`);
  const ack = (reg: number, ackReg: number, v: number, what: string): boolean => {
    w32(reg, v);
    for (let i = 0; i < 100; i++) if (r32(ackReg) === v) return true;
    k.log.err(who, `failed to ${what}`);
    return false;
  };
  if (r32(ARM_SMMU_CR0) & CR0_SMMUEN) k.log.warn(who, 'SMMU currently enabled! Resetting...');
  if (!ack(ARM_SMMU_CR0, ARM_SMMU_CR0ACK, 0, 'clear CR0')) return -ETIMEDOUT;
  w32(ARM_SMMU_CR1, CR1_VALUE);
  w32(ARM_SMMU_CR2, CR2_PTM | CR2_RECINVSID);
  const strtab = new GuestStreamTable(port, k.mem, sidBits);
  w64(ARM_SMMU_STRTAB_BASE, strtab.base, Q_BASE_RWA_HI);
  w32(ARM_SMMU_STRTAB_BASE_CFG, strtab.cfg);
  const cmdqLog2 = Math.min(CMDQ_LOG2, idr1Cmdqs(idr1));
  const evtqLog2 = Math.min(EVTQ_LOG2, idr1Evtqs(idr1));
  const cq = k.mem.alloc(16 * 2 ** cmdqLog2);
  const eq = k.mem.alloc(32 * 2 ** evtqLog2);
  if (cq === undefined || eq === undefined) return -ENODEV;
  w64(ARM_SMMU_CMDQ_BASE, cq + cmdqLog2, Q_BASE_RWA_HI);
  w32(ARM_SMMU_CMDQ_PROD, 0);
  w32(ARM_SMMU_CMDQ_CONS, 0);
  let enables = CR0_CMDQEN;
  if (!ack(ARM_SMMU_CR0, ARM_SMMU_CR0ACK, enables, 'enable command queue')) return -ETIMEDOUT;
  const cmdq = new GuestCmdq(port, o.base, cq, cmdqLog2, k.log, who);
  if (!cmdq.issue([cmdCfgiAll(), cmdTlbiNsnhAll()])) return -ETIMEDOUT;
  w64(ARM_SMMU_EVTQ_BASE, eq + evtqLog2, Q_BASE_RWA_HI);
  w32(ARM_SMMU_EVTQ_PROD, 0);
  w32(ARM_SMMU_EVTQ_CONS, 0);
  enables |= CR0_EVTQEN;
  if (!ack(ARM_SMMU_CR0, ARM_SMMU_CR0ACK, enables, 'enable event queue')) return -ETIMEDOUT;
  const evtq = new GuestEvtq(port, o.base, eq, evtqLog2, k.log, who, deviceName);
  if (!ack(ARM_SMMU_IRQ_CTRL, ARM_SMMU_IRQ_CTRLACK, IRQ_CTRL_GERROR_IRQEN | IRQ_CTRL_EVTQ_IRQEN, 'enable irqs')) return -ETIMEDOUT;
  enables |= CR0_SMMUEN | (ats ? CR0_ATSCHK : 0);
  if (!ack(ARM_SMMU_CR0, ARM_SMMU_CR0ACK, enables, 'enable SMMU interface')) return -ETIMEDOUT;
  k.log.info(who, `${strtab.twoLevel ? '2-level' : 'linear'} stream table at 0x${strtab.base.toString(16)}, cmdq 2^${cmdqLog2}, evtq 2^${evtqLog2}`);
  return { ...info, cmdq, evtq, strtab };
}
