import type { MemTxAttrs, MmioOps } from '../../memory/index.js';
import type { GuestRamView } from '../walk/guest-ram-view.js';
import { VTD_INTERRUPT_ADDR_FIRST } from './vtd-regs.js';

/** Interrupt-remapping state latched by SIRTP and IRE (spec 10.4.29; QEMU vtd_interrupt_remap_table_setup). */
export interface VtdIrState {
  enabled: boolean;
  /** IRTA base. */
  root: number;
  /** Entries: 2^(S+1). */
  size: number;
  /** Extended interrupt mode (x2APIC destination IDs). */
  eime: boolean;
}

/** Interrupt-remapping fault reasons (spec 7.1.3): dropped requests, as QEMU drops them. */
export const VTD_FR_IR_REQ_RSVD = 0x20;
export const VTD_FR_IR_INDEX_OVER = 0x21;
export const VTD_FR_IR_ENTRY_P = 0x22;
export const VTD_FR_IR_ROOT_INVAL = 0x23;
export const VTD_FR_IR_IRTE_RSVD = 0x24;
export const VTD_FR_IR_SID_ERR = 0x26;

/** SVT=01 source-id masks by SQ (spec 9.10 table: compare all, ignore bit 2, bits 2:1, bits 2:0). */
const SQ_MASK = [0xffff, 0xfffb, 0xfff9, 0xfff8] as const;

export interface MsiMessage {
  address: number;
  data: number;
}

/**
 * vtd_interrupt_remap_msi (spec 5.1.2-5.1.4): a write into the interrupt
 * range. Compatibility-format messages, and everything while IR is off,
 * pass unchanged; remappable-format messages (address bit 4) index the
 * IRTE by handle (address [19:5], bit 2 is handle bit 15) plus the
 * subhandle when SHV (bit 3); the IRTE must be present, reserved-clean and
 * match the source-id per SVT/SQ. The result is an xAPIC message: address
 * 0xFEE with destination, RH, DM; data vector, delivery mode, trigger mode.
 * Returns the message or a fault reason.
 */
export function vtdRemapMsi(ram: GuestRamView, ir: VtdIrState, offset: number, data: number, sid: number | undefined): MsiMessage | number {
  const address = VTD_INTERRUPT_ADDR_FIRST + offset;
  if (!ir.enabled || !(address & 0x10)) return { address, data };
  let index = (((address >>> 2) & 1) << 15) | ((address >>> 5) & 0x7fff);
  if (address & 0x8) {
    if (data & 0xffff0000) return VTD_FR_IR_REQ_RSVD;
    index += data & 0xffff;
  }
  if (index >= ir.size) return VTD_FR_IR_INDEX_OVER;
  const at = ir.root + index * 16;
  if (!ram.ld64le(at)) return VTD_FR_IR_ROOT_INVAL;
  const lo = ram.lo;
  const dst = ram.hi;
  if (!ram.ld64le(at + 8)) return VTD_FR_IR_ROOT_INVAL;
  const hiLo = ram.lo;
  const hiHi = ram.hi;
  if (!(lo & 1)) return VTD_FR_IR_ENTRY_P;
  // Reserved: [14:12], [31:24] of the low dword; [127:84] of the high quadword.
  if ((lo & 0xff007000) !== 0 || (hiLo & 0xfff00000) !== 0 || hiHi !== 0) return VTD_FR_IR_IRTE_RSVD;
  const svt = (hiLo >>> 18) & 3;
  const sq = (hiLo >>> 16) & 3;
  const source = hiLo & 0xffff;
  if (sid !== undefined) {
    if (svt === 1 && (source & SQ_MASK[sq]!) !== (sid & SQ_MASK[sq]!)) return VTD_FR_IR_SID_ERR;
    if (svt === 2 && ((sid >>> 8) > (source >>> 8) || (sid >>> 8) < (source & 0xff))) return VTD_FR_IR_SID_ERR;
    if (svt === 3) return VTD_FR_IR_SID_ERR;
  }
  const dest = ir.eime ? dst : (dst >>> 8) & 0xff;
  const dm = (lo >>> 2) & 1;
  const rh = (lo >>> 3) & 1;
  const tm = (lo >>> 4) & 1;
  const dlm = (lo >>> 5) & 7;
  const vector = (lo >>> 16) & 0xff;
  return {
    address: (0xfee00000 | ((dest & 0xff) << 12) | (rh << 3) | (dm << 2) | (address & 3)) >>> 0,
    data: vector | (dlm << 8) | (1 << 14) | (tm << 15),
  };
}

/** The "vtd-ir" MMIO ops: 4-byte writes are interrupt requests; reads return 0 (QEMU vtd_mem_ir_ops). */
export function vtdIrOps(ram: GuestRamView, ir: VtdIrState, send: (m: MsiMessage) => void,
  onFault: (reason: number, sid: number | undefined) => void): MmioOps {
  return {
    read: (): number => 0,
    write: (offset: number, _size: number, value: number, attrs: MemTxAttrs): void => {
      const r = vtdRemapMsi(ram, ir, offset, value >>> 0, attrs.unspecified ? undefined : attrs.requesterId);
      if (typeof r === 'number') {
        onFault(r, attrs.requesterId);
        return;
      }
      send(r);
    },
    valid: { min: 4, max: 4 },
    impl: { min: 4, max: 4 },
  };
}
