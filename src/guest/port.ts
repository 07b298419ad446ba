import type { EventLog } from '../base/event-log.js';

/**
 * GuestPort: the only way the synthetic guest reaches a machine (DESIGN
 * section 1). Everything here is something a real CPU or firmware interface
 * offers: physical memory and MMIO through the CPU's view, x86 port I/O,
 * sPAPR hypercalls and RTAS, interrupts, the firmware hand-off, and virtual
 * time. The guest keeps its own register definitions; it never imports a
 * device model.
 */
export interface GuestPort {
  /** Board name as the firmware would identify it: 'q35' | 'virt' | 'pseries'. */
  readonly board: string;
  /** Guest-physical accesses of 1, 2, 4 or 8 bytes (8 as two u32 halves, little-endian memory order). */
  read(addr: number | bigint, size: number): { ok: boolean; lo: number; hi: number };
  write(addr: number | bigint, size: number, lo: number, hi?: number): boolean;
  /** Bulk guest-physical copies (RAM or MMIO). */
  readBytes(addr: number | bigint, dst: Uint8Array): boolean;
  writeBytes(addr: number | bigint, src: Uint8Array): boolean;
  /** x86 port I/O; undefined on boards without an I/O space. */
  readonly io?: {
    in(port: number, size: number): number;
    out(port: number, size: number, value: number): void;
  };
  /** sPAPR hypercall: opcode and arguments (r4..), returning r3 and the outputs. */
  hcall?(opcode: number, args: readonly bigint[]): { ret: bigint; out: bigint[] };
  /** RTAS call by token with 32-bit arguments; returns `nret` outputs (status first). */
  rtas?(token: number, args: readonly number[], nret: number): number[];
  /** The flattened device tree handed to the guest (virt, pseries); undefined where firmware uses ACPI via fw_cfg only. */
  fdt?(): Uint8Array;
  /** Interrupt delivery: MSI writes the platform routes to a CPU, and wired lines. */
  onMsi(handler: (address: bigint, data: number) => void): void;
  onIrqLine(handler: (line: number, level: number) => void): void;
  /** Virtual time in ns; advance() lets device timers due by then fire (the guest "waits"). */
  now(): number;
  advance(ns: number): void;
  /** The machine's log, shared so guest lines and device lines interleave on one time axis. */
  readonly log: EventLog;
  /** Size of guest RAM below and above 4 GiB, as the memory map (e820 / DT memory node) reports it. */
  readonly ramRanges: readonly { base: number; size: number }[];
}
