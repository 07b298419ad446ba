/**
 * Memory transaction results and attributes (QEMU include/exec/memattrs.h).
 * Results are bit flags so that the results of a split access can be ORed,
 * as QEMU does.
 */
export type MemTxResult = number;
export const MEMTX_OK = 0;
/** The target answered with an error (device error, write to ROM). */
export const MEMTX_ERROR = 1 << 0;
/** Nothing decodes this address, or the access shape is not valid there. */
export const MEMTX_DECODE_ERROR = 1 << 1;
/** The access was refused by a permission check (IOMMU fault, BME clear). */
export const MEMTX_ACCESS_ERROR = 1 << 2;

/** PCIe address type of a request (PCIe 6.0 section 10.2.1, AT field). */
export type AddressType = 'untranslated' | 'translation-request' | 'translated';

/** Attributes that travel with a transaction (MemTxAttrs). */
export interface MemTxAttrs {
  /** Requester ID (bus << 8 | devfn) of the initiating PCI function. */
  readonly requesterId?: number;
  /** PASID of the request, when the function sent a PASID TLP prefix. */
  readonly pasid?: number;
  readonly addressType?: AddressType;
  readonly unspecified?: boolean;
}

export const MEMTXATTRS_UNSPECIFIED: MemTxAttrs = Object.freeze({ unspecified: true });

export function memTxResultName(r: MemTxResult): string {
  if (r === MEMTX_OK) return 'ok';
  const parts: string[] = [];
  if (r & MEMTX_ERROR) parts.push('error');
  if (r & MEMTX_DECODE_ERROR) parts.push('decode-error');
  if (r & MEMTX_ACCESS_ERROR) parts.push('access-error');
  return parts.join('|');
}
