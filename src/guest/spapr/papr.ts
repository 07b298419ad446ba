/**
 * What Linux's pseries platform code knows about the hypervisor's DMA
 * interface, written from LoPAPR (chapter 14 hypercalls, 7.3.10 DDW) and
 * Linux arch/powerpc (include/asm/hvcall.h, iommu.h, tce.h,
 * platforms/pseries/iommu.c). The guest keeps its own copy: it never
 * imports the device model.
 */

// Hypercall opcodes and return codes (asm/hvcall.h).
export const H_GET_TCE = 0x1c;
export const H_PUT_TCE = 0x20;
export const H_STUFF_TCE = 0x138;
export const H_PUT_TCE_INDIRECT = 0x13c;
export const H_SUCCESS = 0n;
export const H_PARAMETER = -4n;
export const H_NOT_ENOUGH_RESOURCES = -44n;

/** TCE permission bits (asm/tce.h): the device may read memory, may write it. */
export const TCE_PCI_READ = 0x1n;
export const TCE_PCI_WRITE = 0x2n;
/** A TCE list for H_PUT_TCE_INDIRECT is one 4 KiB page: 512 entries. */
export const TCE_LIST_ENTRIES = 512;
export const TCE_SHIFT = 12;

/** "ibm,hypertas-functions" sets that enable the multi-TCE hypercalls (FW_FEATURE_PUT_TCE_IND | FW_FEATURE_STUFF_TCE). */
export const HCALL_MULTI_TCE = 'hcall-multi-tce';

// DDW: "ibm,ddw-applicable" is <query create remove>; "ibm,ddw-extensions" is <count reset-token query-out-size>.
export const DDW_QUERY_PE_DMA_WIN = 0;
export const DDW_CREATE_PE_DMA_WIN = 1;
export const DDW_REMOVE_PE_DMA_WIN = 2;
export const DDW_EXT_SIZE = 0;
export const DDW_EXT_RESET_DMA_WIN = 1;
export const DDW_EXT_QUERY_OUT_SIZE = 2;

/** Page-size bits of ibm,query-pe-dma-window, in LoPAPR bit order (2M last, added later): iommu_get_page_shift. */
export const QUERY_PAGE_SHIFTS: readonly number[] = [12, 16, 24, 25, 26, 27, 28, 34, 21];

/** iommu_get_page_shift: the largest page the hypervisor offers (larger pages map more with the same TCEs). */
export function iommuGetPageShift(querySizes: number): number {
  let ret = 0;
  QUERY_PAGE_SHIFTS.forEach((shift, i) => {
    if (querySizes & (1 << i)) ret = Math.max(ret, shift);
  });
  return ret;
}

/** The page sizes of a query mask as a list of shifts (iommu_table_group pgsizes). */
export function queryPageShifts(querySizes: number): number[] {
  return QUERY_PAGE_SHIFTS.filter((_, i) => querySizes & (1 << i)).sort((a, b) => a - b);
}

/** Device-tree property names the pseries code reads and writes. */
export const DMA_WINDOW_PROP = 'ibm,dma-window';
export const DMA_WINDOW_SAVED_PROP = 'ibm,dma-window-saved';
export const DIRECT64_PROP = 'linux,direct64-ddr-window-info';
export const DMA64_PROP = 'linux,dma64-ddr-window-info';
