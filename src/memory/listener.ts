import type { AddressSpace } from './address-space.js';
import type { MemoryRegion } from './region.js';

/** MemoryRegionSection: a flat range as listeners see it (exact, bigint). */
export interface MemoryRegionSection {
  readonly as: AddressSpace;
  readonly mr: MemoryRegion;
  readonly offsetWithinRegion: bigint;
  readonly offsetWithinAddressSpace: bigint;
  readonly size: bigint;
  readonly readonly: boolean;
  readonly nonvolatile: boolean;
}

/**
 * MemoryListener (include/exec/memory.h). On each topology change: begin on
 * every listener (priority order), then per address space region_del for
 * removed or changed ranges (reverse order), region_nop / region_add
 * (forward order), then commit on every listener.
 */
export interface MemoryListener {
  readonly name?: string;
  /** Lower runs first (QEMU MEMORY_LISTENER_PRIORITY_*); ties keep registration order. */
  readonly priority?: number;
  begin?(): void;
  commit?(): void;
  regionAdd?(section: MemoryRegionSection): void;
  regionDel?(section: MemoryRegionSection): void;
  regionNop?(section: MemoryRegionSection): void;
}

export const MEMORY_LISTENER_PRIORITY_MIN = 0;
export const MEMORY_LISTENER_PRIORITY_ACCEL = 10;
export const MEMORY_LISTENER_PRIORITY_DEV_BACKEND = 10;
