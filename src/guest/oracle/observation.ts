import { MEMTX_ACCESS_ERROR, MEMTX_OK, type MemTxResult } from '../../memory/attrs.js';
import type { AccessObserver } from '../../memory/address-space.js';

/** Which machine path performed a DMA. */
export type DmaPath = 'emulated' | 'vhost' | 'vfio';

/**
 * One DMA access as the machine saw it, fed to the oracle (DESIGN section
 * 4). `iova` is the address the device put on the bus; `gpa` the
 * guest-physical address the access reached when it succeeded.
 */
export interface DmaObservation {
  readonly requesterId: number;
  /** PASID of the request, when it carried one. */
  readonly pasid?: number;
  readonly iova: number;
  readonly length: number;
  readonly write: boolean;
  /** ok: reached memory; fault: refused by translation (MEMTX_ACCESS_ERROR); error: any other failure (decode error). */
  readonly outcome: 'ok' | 'fault' | 'error';
  readonly gpa?: number;
  readonly path: DmaPath;
  /** Device name for reports (e.g. "0000:00:02.0 edu"). */
  readonly device?: string;
  /**
   * Virtual time at which the translation started, for paths that report
   * after the fact (worker threads); absent means "now", in program order.
   */
  readonly time?: number;
}

/** What the machine calls for each DMA access (DmaOracle implements it). */
export interface DmaObserver {
  observe(o: DmaObservation): void;
}

export function outcomeOf(result: MemTxResult): DmaObservation['outcome'] {
  if (result === MEMTX_OK) return 'ok';
  return result & MEMTX_ACCESS_ERROR ? 'fault' : 'error';
}

/**
 * An AccessObserver for a device's bus-master address space (src/memory's
 * AddressSpace.observer) that reports every terminating piece of the
 * device's DMA to `sink`, tagged with the device's requester ID. The
 * machine installs one per emulated PCI function.
 */
export function dmaAccessObserver(sink: DmaObserver, who: { requesterId: number; device?: string; path?: DmaPath; pasid?: number }): AccessObserver {
  return (addr, len, isWrite, result, target, targetAddr) => {
    sink.observe({
      requesterId: who.requesterId,
      ...(who.pasid !== undefined ? { pasid: who.pasid } : {}),
      iova: Number(addr),
      length: len,
      write: isWrite,
      outcome: outcomeOf(result),
      ...(result === MEMTX_OK && target ? { gpa: targetAddr } : {}),
      path: who.path ?? 'emulated',
      ...(who.device !== undefined ? { device: who.device } : {}),
    });
  };
}
