import type { EventLog } from '../../base/event-log.js';
import type { PageAllocator } from '../page-alloc.js';
import type { GuestPort } from '../port.js';
import {
  H_GET_TCE, H_PUT_TCE, H_PUT_TCE_INDIRECT, H_STUFF_TCE, H_SUCCESS, TCE_LIST_ENTRIES, TCE_PCI_READ, TCE_PCI_WRITE,
} from './papr.js';

/** The hypervisor as the pseries platform code calls it (plpar_tce_* and rtas_call), with the CPU's TCE list page. */
export class PseriesHv {
  /** The per-CPU page of TCEs handed to H_PUT_TCE_INDIRECT (tce_page); 0 until first needed. */
  private tcePage = 0;
  readonly stats = { hcalls: 0, failed: 0, rtasCalls: 0 };

  constructor(private readonly port: GuestPort, private readonly mem: PageAllocator, readonly log: EventLog,
    /** FW_FEATURE_PUT_TCE_IND | FW_FEATURE_STUFF_TCE, from "hcall-multi-tce". */
    readonly multiTce: boolean) {}

  private hcall(op: number, args: bigint[]): { ret: bigint; out: bigint[] } {
    this.stats.hcalls++;
    const r = this.port.hcall ? this.port.hcall(op, args) : { ret: -2n, out: [] };
    if (r.ret !== H_SUCCESS) this.stats.failed++;
    return r;
  }

  putTce(liobn: number, ioba: bigint, tce: bigint): bigint {
    return this.hcall(H_PUT_TCE, [BigInt(liobn), ioba, tce]).ret;
  }
  getTce(liobn: number, ioba: bigint): { ret: bigint; tce: bigint } {
    const r = this.hcall(H_GET_TCE, [BigInt(liobn), ioba]);
    return { ret: r.ret, tce: r.out[0] ?? 0n };
  }
  stuffTce(liobn: number, ioba: bigint, value: bigint, npages: number): bigint {
    return this.hcall(H_STUFF_TCE, [BigInt(liobn), ioba, value, BigInt(npages)]).ret;
  }

  /** RTAS call; the status comes first. */
  rtas(token: number, args: readonly number[], nret: number): number[] {
    this.stats.rtasCalls++;
    return this.port.rtas ? this.port.rtas(token, args, nret) : [-1];
  }

  /**
   * tce_buildmulti_pSeriesLP: TCEs for `npages` pages of `pageShift` from
   * physical `paddr` at entry `tcenum` (a bus address of tcenum << shift):
   * READ always, WRITE unless the DMA goes only to the device. One
   * H_PUT_TCE per page, or a page of big-endian TCEs per
   * H_PUT_TCE_INDIRECT when the hypervisor has the multi-TCE set.
   */
  build(liobn: number, tcenum: bigint, pageShift: number, npages: number, paddr: number, write: boolean): bigint {
    const proto = TCE_PCI_READ | (write ? TCE_PCI_WRITE : 0n);
    const shift = BigInt(pageShift);
    let rpn = BigInt(Math.floor(paddr / 2 ** pageShift));
    if (npages === 1 || !this.multiTce) {
      for (let i = 0; i < npages; i++) {
        const rc = this.putTce(liobn, (tcenum + BigInt(i)) << shift, proto | ((rpn + BigInt(i)) << shift));
        if (rc !== H_SUCCESS) return rc;
      }
      return H_SUCCESS;
    }
    if (!this.tcePage) this.tcePage = this.mem.alloc(4096, 4096) ?? 0;
    let left = npages;
    let num = tcenum;
    const buf = new Uint8Array(4096);
    const dv = new DataView(buf.buffer);
    while (left > 0) {
      const limit = Math.min(left, TCE_LIST_ENTRIES);
      for (let l = 0; l < limit; l++, rpn++) dv.setBigUint64(l * 8, proto | (rpn << shift), false);
      this.port.writeBytes(this.tcePage, buf.subarray(0, limit * 8));
      const rc = this.hcall(H_PUT_TCE_INDIRECT, [BigInt(liobn), num << shift, BigInt(this.tcePage), BigInt(limit)]).ret;
      if (rc !== H_SUCCESS) {
        this.log.err('pseries-iommu', `tce_buildmulti_pSeriesLP: plpar_tce_put failed. rc=${rc}`);
        return rc;
      }
      left -= limit;
      num += BigInt(limit);
    }
    return H_SUCCESS;
  }

  /** tce_freemulti_pSeriesLP: H_STUFF_TCE of 0 over the range, or H_PUT_TCE 0 page by page. */
  clear(liobn: number, tcenum: bigint, pageShift: number, npages: number): bigint {
    const shift = BigInt(pageShift);
    if (!this.multiTce) {
      for (let i = 0; i < npages; i++) {
        const rc = this.putTce(liobn, (tcenum + BigInt(i)) << shift, 0n);
        if (rc !== H_SUCCESS) return rc;
      }
      return H_SUCCESS;
    }
    const rc = this.stuffTce(liobn, tcenum << shift, 0n, npages);
    if (rc !== H_SUCCESS) this.log.err('pseries-iommu', `tce_freemulti_pSeriesLP: plpar_tce_stuff failed (LIOBN 0x${liobn.toString(16)}, rc=${rc})`);
    return rc;
  }
}
