import type { MemTxAttrs } from './attrs.js';
import type { Word64 } from './word64.js';

/** Byte order of a device's registers (QEMU enum device_endian). */
export type DeviceEndian = 'little' | 'big';

/** Access sizes in bytes (QEMU MemoryRegionOps.valid / .impl). */
export interface AccessSizes {
  min: number;
  max: number;
  unaligned: boolean;
}

/**
 * Callbacks of an MMIO (or port I/O) region. `read`/`write` take accesses of
 * at most 4 bytes; a device whose registers need 8-byte accesses also
 * provides `read64`/`write64` (two u32 halves) and sets `impl.max` to 8.
 * The core splits wider accesses for devices that do not take them, low
 * half first (see mmio-dispatch.ts).
 */
export interface MmioOps {
  read(offset: number, size: number, attrs: MemTxAttrs): number;
  write(offset: number, size: number, value: number, attrs: MemTxAttrs): void;
  read64?(offset: number, attrs: MemTxAttrs): Word64;
  write64?(offset: number, lo: number, hi: number, attrs: MemTxAttrs): void;
  /** What a guest may do; anything else is a decode error (QEMU .valid). */
  valid?: Partial<AccessSizes> & { accepts?: (offset: number, size: number, isWrite: boolean) => boolean };
  /** What the callbacks implement; the core adapts other sizes (QEMU .impl). */
  impl?: Partial<AccessSizes>;
  endianness?: DeviceEndian;
}

export interface ResolvedOps {
  readonly ops: MmioOps;
  readonly valid: AccessSizes;
  readonly impl: AccessSizes;
  readonly big: boolean;
}

/** Defaults as in QEMU: valid 1..4, impl 1..4 (8 when 64-bit callbacks exist). */
export function resolveOps(ops: MmioOps): ResolvedOps {
  const has64 = ops.read64 !== undefined || ops.write64 !== undefined;
  const impl: AccessSizes = {
    min: ops.impl?.min ?? 1,
    max: ops.impl?.max ?? (has64 ? 8 : 4),
    unaligned: ops.impl?.unaligned ?? false,
  };
  const valid: AccessSizes = {
    min: ops.valid?.min ?? 1,
    max: ops.valid?.max ?? (has64 ? 8 : 4),
    unaligned: ops.valid?.unaligned ?? false,
  };
  if (impl.max === 8 && !has64) throw new Error('MMIO ops: impl.max 8 needs read64/write64');
  return { ops, valid, impl, big: ops.endianness === 'big' };
}
