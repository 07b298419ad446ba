import type { SpaprPhbDma } from './phb-dma.js';
import {
  RTAS_IBM_CREATE_PE_DMA_WINDOW, RTAS_IBM_QUERY_PE_DMA_WINDOW, RTAS_IBM_REMOVE_PE_DMA_WINDOW, RTAS_IBM_RESET_PE_DMA_WINDOW,
  RTAS_OUT_PARAM_ERROR, RTAS_OUT_SUCCESS, type SpaprRtasCall, type SpaprRtasRegistry,
} from './papr.js';
import type { SpaprTceTable } from './tce-table.js';

export interface DdwRtasHost {
  /** spapr_pci_find_phb. */
  findPhb(buid: bigint): SpaprPhbDma | undefined;
  /** spapr_tce_find_by_liobn, with the PHB that owns the table. */
  findTable(liobn: number): { table: SpaprTceTable; phb: SpaprPhbDma } | undefined;
}

function buidOf(c: SpaprRtasCall): bigint {
  return (BigInt(c.arg(1) >>> 0) << 32n) | BigInt(c.arg(2) >>> 0);
}

/**
 * The DDW RTAS calls (LoPAPR 7.3.10.5; QEMU hw/ppc/spapr_rtas_ddw.c; ref
 * A6, conformance behaviours 4-6), tokens 0x2026..0x2029. Every call
 * answers -3 for a wrong nargs/nret, an unknown PHB or a PHB without DDW.
 * query (cfg_addr, BUID hi, lo) -> status, windows available, largest
 * block (one word, or hi/lo with 6 outputs), page-size mask, migration;
 * create (cfg_addr, BUID hi, lo, page shift, window shift) -> status,
 * LIOBN, start hi, lo; remove (LIOBN) -> status; reset (cfg_addr, BUID hi,
 * lo) -> status.
 */
export function registerDdwRtas(reg: SpaprRtasRegistry, host: DdwRtasHost): void {
  const phbOf = (c: SpaprRtasCall): SpaprPhbDma | undefined => {
    const phb = host.findPhb(buidOf(c));
    return phb && phb.opts.ddw ? phb : undefined;
  };

  reg.register(RTAS_IBM_QUERY_PE_DMA_WINDOW, 'ibm,query-pe-dma-window', (c) => {
    if (c.nargs !== 3 || (c.nret !== 5 && c.nret !== 6)) return c.ret(0, RTAS_OUT_PARAM_ERROR);
    const phb = phbOf(c);
    if (!phb) return c.ret(0, RTAS_OUT_PARAM_ERROR);
    const r = phb.query(c.nret);
    c.ret(0, r.status);
    r.out.forEach((v, i) => c.ret(i + 1, v));
  });

  reg.register(RTAS_IBM_CREATE_PE_DMA_WINDOW, 'ibm,create-pe-dma-window', (c) => {
    if (c.nargs !== 5 || c.nret !== 4) return c.ret(0, RTAS_OUT_PARAM_ERROR);
    const phb = phbOf(c);
    if (!phb) return c.ret(0, RTAS_OUT_PARAM_ERROR);
    const r = phb.create(c.arg(3) >>> 0, c.arg(4) >>> 0);
    c.ret(0, r.status);
    if (r.status !== RTAS_OUT_SUCCESS) return;
    c.ret(1, r.liobn!);
    c.ret(2, Number(r.start! >> 32n));
    c.ret(3, Number(r.start! & 0xffff_ffffn));
  });

  reg.register(RTAS_IBM_REMOVE_PE_DMA_WINDOW, 'ibm,remove-pe-dma-window', (c) => {
    if (c.nargs !== 1 || c.nret !== 1) return c.ret(0, RTAS_OUT_PARAM_ERROR);
    const found = host.findTable(c.arg(0) >>> 0);
    if (!found || !found.phb.opts.ddw) return c.ret(0, RTAS_OUT_PARAM_ERROR);
    c.ret(0, found.phb.remove(found.table));
  });

  reg.register(RTAS_IBM_RESET_PE_DMA_WINDOW, 'ibm,reset-pe-dma-window', (c) => {
    if (c.nargs !== 3 || c.nret !== 1) return c.ret(0, RTAS_OUT_PARAM_ERROR);
    const phb = phbOf(c);
    if (!phb) return c.ret(0, RTAS_OUT_PARAM_ERROR);
    phb.dmaReset();
    c.ret(0, RTAS_OUT_SUCCESS);
  });
}
