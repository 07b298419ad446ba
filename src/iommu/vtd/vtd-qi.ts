import type { IntelIommu } from './intel-iommu.js';
import { VTD_TRACK } from './vtd-trace.js';
import {
  vtdContextDeviceInvalidate, vtdContextGlobalInvalidate, vtdDeviceIotlbInvalidate, vtdIotlbDomainInvalidate,
  vtdIotlbGlobalInvalidate, vtdIotlbPageInvalidate,
} from './vtd-invalidate.js';
import {
  DMAR_FSTS_REG, DMAR_GSTS_REG, DMAR_IQA_REG, DMAR_IQH_REG, DMAR_IQT_REG, VTD_FSTS_IQE, VTD_GSTS_QIES, VTD_IQA_QS,
  VTD_INV_DEVICE, VTD_INV_DOMAIN, VTD_INV_GLOBAL, VTD_IOTLB_PAGE,
} from './vtd-regs.js';

/** Invalidation descriptor types (spec 6.5.2; type = lo [3:0] | lo [11:9] << 4). */
/** A 128-bit descriptor's 64-bit half for traces, exact (two u32 halves, no 2^53 rounding). */
function qword(hi: number, lo: number): string {
  return `0x${(hi >>> 0).toString(16)}${(lo >>> 0).toString(16).padStart(8, '0')}`;
}

/** Trace names of the descriptors (the wait descriptor is the completion of what precedes it). */
const QI_TRACE_NAMES: Readonly<Record<number, string>> = {
  1: 'context-cache invalidation', 2: 'IOTLB invalidation', 3: 'device-TLB invalidation', 4: 'IEC invalidation', 5: 'invalidation wait (completion)',
};

export const VTD_INV_DESC_NONE = 0;
export const VTD_INV_DESC_CC = 1;
export const VTD_INV_DESC_IOTLB = 2;
export const VTD_INV_DESC_DEVICE = 3;
export const VTD_INV_DESC_IEC = 4;
export const VTD_INV_DESC_WAIT = 5;

/** IOTLB invalidation address mask limit (CAP.MAMV). */
const VTD_MAMV = 18;
const TWO32 = 0x1_0000_0000;

/** One 128-bit descriptor as four u32 halves: quadword 0 (lo, hi), quadword 1 (lo, hi). */
interface Desc {
  q0lo: number;
  q0hi: number;
  q1lo: number;
  q1hi: number;
}

/**
 * The queued invalidation interface (spec 6.5.2, 10.4.22-10.4.24; QEMU
 * vtd_handle_gcmd_qie, vtd_handle_iqt_write, vtd_fetch_inv_desc,
 * vtd_process_inv_desc). 128-bit descriptors only (no scalable mode). A
 * tail beyond the queue, a descriptor with reserved bits set, an unknown
 * or unsupported type, or a failed fetch or status write sets FSTS.IQE
 * (with the fault event) and stops with IQH on that descriptor; nothing
 * is processed while IQE is set.
 */
export class VtdQueue {
  /** The base latched when QIE was set (IQA reads return it, as QEMU). */
  base = 0;
  size = 0;
  head = 0;
  tail = 0;
  enabled = false;
  lastType = VTD_INV_DESC_NONE;
  private readonly d: Desc = { q0lo: 0, q0hi: 0, q1lo: 0, q1hi: 0 };

  constructor(private readonly s: IntelIommu) {}

  reset(): void {
    this.base = this.size = this.head = this.tail = 0;
    this.enabled = false;
    this.lastType = VTD_INV_DESC_NONE;
  }

  /** GCMD.QIE changed. Disabling is refused (QIES stays 1) unless the queue is empty and its last descriptor was a wait. */
  setEnabled(on: boolean): void {
    const s = this.s;
    if (on) {
      const awHi = (1 << (s.cfg.awBits - 32)) - 1;
      this.base = (s.csr.raw(DMAR_IQA_REG + 4) & awHi) * TWO32 + ((s.csr.raw(DMAR_IQA_REG) & 0xfffff000) >>> 0);
      this.size = 1 << ((s.csr.raw(DMAR_IQA_REG) & VTD_IQA_QS) + 8);
      this.enabled = true;
      s.csr.update(DMAR_GSTS_REG, 0, VTD_GSTS_QIES);
      // Windows programs the tail before enabling; QEMU processes it at once.
      if (this.tail !== 0 && !(s.csr.raw(DMAR_FSTS_REG) & VTD_FSTS_IQE)) this.fetch();
    } else if (this.enabled && this.tail === this.head && this.lastType === VTD_INV_DESC_WAIT) {
      s.csr.setRaw(DMAR_IQH_REG, 0);
      this.head = 0;
      this.enabled = false;
      s.csr.update(DMAR_GSTS_REG, VTD_GSTS_QIES, 0);
    } else {
      s.log?.warn('intel-iommu', `improper state when disabling QI (head=0x${this.head.toString(16)}, tail=0x${this.tail.toString(16)}, last type ${this.lastType})`);
    }
  }

  /** IQT written: the new tail; process if QI is on and no queue error is pending. */
  tailWritten(): void {
    this.tail = (this.s.csr.raw(DMAR_IQT_REG) >>> 4) & 0x7fff;
    if (this.enabled && !(this.s.csr.raw(DMAR_FSTS_REG) & VTD_FSTS_IQE)) this.fetch();
  }

  private error(why: string): void {
    const s = this.s;
    s.inv.queueErrors++;
    s.log?.warn('intel-iommu', `invalidation queue error at head 0x${this.head.toString(16)}: ${why}`);
    s.faults.queueError();
  }

  private fetch(): void {
    if (this.tail >= this.size) {
      this.error(`tail 0x${this.tail.toString(16)} beyond the queue (0x${this.size.toString(16)} entries)`);
      return;
    }
    while (this.head !== this.tail) {
      const why = this.process();
      if (why) {
        this.error(why);
        return;
      }
      this.s.csr.setRaw(DMAR_IQH_REG, this.head << 4);
      this.s.csr.setRaw(DMAR_IQH_REG + 4, 0);
    }
  }

  /** Processes the descriptor at the head; '' on success, else why it is an error. */
  private process(): string {
    const mem = this.s.opts.memory;
    const d = this.d;
    const at = this.base + this.head * 16;
    const a = mem.read(at, 8);
    if (a.result !== 0) return this.fail('descriptor fetch failed');
    d.q0lo = a.lo;
    d.q0hi = a.hi;
    const b = mem.read(at + 8, 8);
    if (b.result !== 0) return this.fail('descriptor fetch failed');
    d.q1lo = b.lo;
    d.q1hi = b.hi;
    const type = (d.q0lo & 0xf) | (((d.q0lo >>> 9) & 7) << 4);
    this.lastType = type;
    const tracer = this.s.opts.sys.tracer;
    const name = tracer.on ? (QI_TRACE_NAMES[type] ?? `descriptor 0x${type.toString(16)}`) : '';
    if (tracer.on) tracer.begin(VTD_TRACK, 'inv', name, { head: this.head, q0: qword(d.q0hi, d.q0lo), q1: qword(d.q1hi, d.q1lo) });
    let why: string;
    switch (type) {
      case VTD_INV_DESC_CC: why = this.contextCache(d); break;
      case VTD_INV_DESC_IOTLB: why = this.iotlb(d); break;
      case VTD_INV_DESC_DEVICE: why = this.deviceTlb(d); break;
      case VTD_INV_DESC_IEC: why = this.iec(d); break;
      case VTD_INV_DESC_WAIT: why = this.wait(d); break;
      default: why = `unknown or unsupported descriptor type 0x${type.toString(16)}`;
    }
    if (tracer.on) tracer.end(VTD_TRACK, 'inv', name, why ? { error: why } : undefined);
    if (why) return why;
    this.head = (this.head + 1) % this.size;
    return '';
  }

  private fail(why: string): string {
    this.lastType = VTD_INV_DESC_NONE;
    return why;
  }

  /** Context-cache invalidate (spec 6.5.2.1): G [5:4], DID [31:16], SID [47:32], FM [49:48]; reserved 0xFFFC00000000F1C0, hi 0. */
  private contextCache(d: Desc): string {
    if ((d.q0lo & 0xf1c0) || (d.q0hi & 0xfffc0000) || d.q1lo || d.q1hi) return 'context-cache descriptor with reserved bits set';
    const g = (d.q0lo >>> 4) & 3;
    if (g === VTD_INV_GLOBAL || g === VTD_INV_DOMAIN) vtdContextGlobalInvalidate(this.s);
    else if (g === VTD_INV_DEVICE) vtdContextDeviceInvalidate(this.s, d.q0hi & 0xffff, (d.q0hi >>> 16) & 3);
    else return 'context-cache descriptor with granularity 0';
    return '';
  }

  /**
   * IOTLB invalidate (spec 6.5.2.3): G [5:4], DR 7, DW 6, DID [31:16]; hi
   * ADDR [63:12], IH 6, AM [5:0]. Reserved lo 0xFFFFFFFF0000F100, hi 0xF80;
   * AM above MAMV is an error.
   */
  private iotlb(d: Desc): string {
    if ((d.q0lo & 0xf100) || d.q0hi || (d.q1lo & 0xf80)) return 'IOTLB descriptor with reserved bits set';
    const g = (d.q0lo >>> 4) & 3;
    const did = d.q0lo >>> 16;
    if (g === VTD_INV_GLOBAL) vtdIotlbGlobalInvalidate(this.s);
    else if (g === VTD_INV_DOMAIN) vtdIotlbDomainInvalidate(this.s, did);
    else if (g === VTD_IOTLB_PAGE) {
      const am = d.q1lo & 0x3f;
      if (am > VTD_MAMV) return `IOTLB descriptor with AM ${am} > MAMV ${VTD_MAMV}`;
      vtdIotlbPageInvalidate(this.s, did, d.q1hi * TWO32 + ((d.q1lo & 0xfffff000) >>> 0), am);
    } else return 'IOTLB descriptor with granularity 0';
    return '';
  }

  /** Device-TLB invalidate (spec 6.5.2.5): SID [47:32]; hi ADDR [63:12], S bit 0. Reserved lo 0xFFFF0000FFE0F1F0, hi 0xFFE. */
  private deviceTlb(d: Desc): string {
    if ((d.q0lo & 0xffe0f1f0) || (d.q0hi & 0xffff0000) || (d.q1lo & 0xffe)) return 'device-TLB descriptor with reserved bits set';
    const addr = (BigInt(d.q1hi >>> 0) << 32n) | BigInt((d.q1lo & 0xfffff000) >>> 0);
    vtdDeviceIotlbInvalidate(this.s, d.q0hi & 0xffff, addr, (d.q1lo & 1) !== 0);
    return '';
  }

  /**
   * Interrupt entry cache invalidate (spec 6.5.2.7): G bit 4 (0 global, 1
   * index-selective), IM [31:27], IIDX [47:32]. Reserved lo
   * 0xFFFF000007FFF1E0 and the whole high quadword (later QEMU's
   * VTD_INV_DESC_IEC_RSVD; QEMU 7.2 accepts them, checked with Debian's
   * 7.2.22). Interrupt remapping caches nothing here, so a valid
   * descriptor only counts.
   */
  private iec(d: Desc): string {
    if ((d.q0lo & 0x07fff1e0) || (d.q0hi & 0xffff0000) || d.q1lo || d.q1hi) return 'IEC descriptor with reserved bits set';
    this.s.inv.iec++;
    return '';
  }

  /**
   * Invalidation wait (spec 6.5.2.8): IF bit 4, SW bit 5, FN bit 6, PD bit
   * 7 (reserved without ECAP.PDS), status data [63:32], status address hi
   * [63:2]. Everything queued before it is complete first: the caches
   * were invalidated in order, and coherence.quiesceSync() waits until no
   * translation worker can still use a removed entry. Then SW writes the
   * status dword and IF raises the completion event. Following the
   * specification, SW and IF together do both and neither is a valid
   * fence; QEMU 7.2 aborts on SW+IF and raises IQE for FN alone or none
   * (later QEMU accepts them).
   */
  private wait(d: Desc): string {
    if ((d.q0lo & 0xfffff180) || (d.q1lo & 3)) return 'wait descriptor with reserved bits set';
    const s = this.s;
    s.inv.wait++;
    s.coherence.quiesceSync();
    if (d.q0lo & 0x20) {
      const addr = d.q1hi * TWO32 + (d.q1lo >>> 0);
      if (s.opts.memory.write(addr, 4, d.q0hi >>> 0) !== 0) return `wait descriptor status write to 0x${addr.toString(16)} failed`;
    }
    if (d.q0lo & 0x10) s.faults.completionEvent();
    return '';
  }
}
