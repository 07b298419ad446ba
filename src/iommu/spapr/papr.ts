/**
 * sPAPR facts the TCE model encodes (LoPAPR 1.1 chapter 14 "hypervisor
 * calls" and 7.3.10 "dynamic DMA windows"; QEMU include/hw/ppc/spapr.h,
 * include/hw/pci-host/spapr.h, hw/ppc/spapr_iommu.c, spapr_rtas_ddw.c;
 * ref/spapr-virtio-iommu.md A1-A7). The machine's hypercall and RTAS
 * tables are reached through the small registry interfaces below, so this
 * room does not import the board.
 */

// Hypercall return codes (LoPAPR table 14.3; QEMU H_*): r3 as a signed 64-bit value.
export const H_SUCCESS = 0n;
export const H_HARDWARE = -1n;
export const H_FUNCTION = -2n;
export const H_PARAMETER = -4n;
export const H_RESOURCE = -16n;
export const H_CONSTRAINED = 4n;

// Hypercall opcodes of the TCE set ("hcall-tce", "hcall-multi-tce").
export const H_GET_TCE = 0x1c;
export const H_PUT_TCE = 0x20;
export const H_STUFF_TCE = 0x138;
export const H_PUT_TCE_INDIRECT = 0x13c;

// RTAS status codes (LoPAPR table 7-19 common status).
export const RTAS_OUT_SUCCESS = 0;
export const RTAS_OUT_HW_ERROR = -1;
export const RTAS_OUT_PARAM_ERROR = -3;

// RTAS tokens QEMU gives the DDW calls (RTAS_TOKEN_BASE 0x2000 + 0x26..0x29).
export const RTAS_IBM_QUERY_PE_DMA_WINDOW = 0x2026;
export const RTAS_IBM_CREATE_PE_DMA_WINDOW = 0x2027;
export const RTAS_IBM_REMOVE_PE_DMA_WINDOW = 0x2028;
export const RTAS_IBM_RESET_PE_DMA_WINDOW = 0x2029;

/** TCE bits 1:0 (A1; QEMU enum SpaprTceAccess): 0 fault, 1 the device may read memory, 2 write, 3 both. */
export const SPAPR_TCE_FAULT = 0;
export const SPAPR_TCE_RO = 1;
export const SPAPR_TCE_WO = 2;
export const SPAPR_TCE_RW = 3;

/** The TCE list of H_PUT_TCE_INDIRECT is one 4 KiB page of big-endian u64: at most 512 entries (SPAPR_TCE_PAGE_SIZE). */
export const SPAPR_TCE_PAGE_SHIFT = 12;
export const SPAPR_TCE_LIST_MAX = 512;

/** Windows per PE with DDW (SPAPR_PCI_DMA_MAX_WINDOWS); 1 without. */
export const SPAPR_PCI_DMA_MAX_WINDOWS = 2;

/** SPAPR_PCI_LIOBN(phb index, window#): 0x80000000 | index << 8 | window. */
export function spaprPciLiobn(index: number, window: number): number {
  return (0x8000_0000 | (index << 8) | window) >>> 0;
}
/** SPAPR_IS_PCI_LIOBN. */
export function spaprIsPciLiobn(liobn: number): boolean {
  return (liobn & 0x8000_0000) !== 0;
}

/**
 * ibm,query-pe-dma-window page-size bits (LoPAPR 7.3.10.5.1; QEMU
 * RTAS_DDW_PGSIZE_*): the page shift each bit stands for. 2M is bit 8,
 * out of order, as LoPAPR added it later.
 */
export const RTAS_DDW_PGSIZES: readonly (readonly [shift: number, bit: number])[] = [
  [12, 0x01], [16, 0x02], [21, 0x100], [24, 0x04], [25, 0x08], [26, 0x10], [27, 0x20], [28, 0x40], [34, 0x80],
];

/** spapr_page_mask_to_query_mask: the PHB's pgsz (a mask of page sizes) in LoPAPR's query format (QEMU default 0x107). */
export function pageMaskToQueryMask(pgsz: bigint): number {
  let mask = 0;
  for (const [shift, bit] of RTAS_DDW_PGSIZES) if (pgsz & (1n << BigInt(shift))) mask |= bit;
  return mask;
}

/** QEMU's PHB pgsz default: 4K | 64K | 2M | 16M (spapr_pci.c, 18944000). */
export const SPAPR_PHB_PGSZ_DEFAULT = (1n << 12n) | (1n << 16n) | (1n << 21n) | (1n << 24n);
/** dma64_win_addr default: 1 << 59. */
export const SPAPR_PCI_DMA64_WIN_ADDR = 0x0800_0000_0000_0000n;
/** The default 32-bit window: dma_win_addr 0, dma_win_size 1 GiB (4 KiB pages). */
export const SPAPR_PCI_DMA_WIN_SIZE = 0x4000_0000n;

/** A hypercall handler: args r4.. as unsigned 64-bit values; r3 and outputs from r4. */
export type SpaprHcallHandler = (args: readonly bigint[]) => { ret: bigint; out: bigint[] };

/** Where hypercalls are registered (the board's spapr_register_hypercall table). */
export interface SpaprHcallRegistry {
  register(opcode: number, name: string, fn: SpaprHcallHandler): void;
}

/** One RTAS call as the board hands it over (rtas_ld / rtas_st). */
export interface SpaprRtasCall {
  readonly nargs: number;
  readonly nret: number;
  arg(n: number): number;
  ret(n: number, value: number): void;
}

/** Where RTAS calls are registered (spapr_rtas_register). */
export interface SpaprRtasRegistry {
  register(token: number, name: string, fn: (call: SpaprRtasCall) => void): void;
}
