import type { EventLog } from '../base/event-log.js';
import type { GuestPort } from '../guest/port.js';
import { MEMTX_OK } from '../memory/attrs.js';
import { PseriesBoard } from './boards/pseries/pseries.js';
import type { Machine } from './machine.js';

/**
 * The synthetic guest's view of a machine (src/guest/port.ts): physical
 * memory and MMIO through the CPU's address space ("memory"), x86 port I/O
 * on q35, RTAS calls and hypercalls on pseries, MSI and wired-interrupt
 * delivery, virtual time, the machine's log and the RAM map. Values travel
 * in memory byte order, as the interface says; byte order is the guest's
 * business.
 */
export class MachineGuestPort implements GuestPort {
  readonly board: string;
  readonly log: EventLog;
  readonly ramRanges: readonly { base: number; size: number }[];
  readonly io?: GuestPort['io'];

  constructor(private readonly m: Machine) {
    this.board = m.boardName;
    this.log = m.log;
    this.ramRanges = m.board.ram.map((r) => ({ base: r.base, size: r.size }));
    if (m.boardName === 'q35') {
      this.io = {
        in: (port, size) => m.ioAs.read(port & 0xffff, size).lo >>> 0,
        out: (port, size, value) => void m.ioAs.write(port & 0xffff, size, value >>> 0),
      };
    }
  }

  read(addr: number | bigint, size: number): { ok: boolean; lo: number; hi: number } {
    const r = this.m.systemAs.read(addr, size);
    return { ok: r.result === MEMTX_OK, lo: r.lo >>> 0, hi: r.hi >>> 0 };
  }

  write(addr: number | bigint, size: number, lo: number, hi = 0): boolean {
    return this.m.systemAs.write(addr, size, lo >>> 0, hi >>> 0) === MEMTX_OK;
  }

  readBytes(addr: number | bigint, dst: Uint8Array): boolean {
    return this.m.systemAs.readBytes(addr, dst) === MEMTX_OK;
  }

  writeBytes(addr: number | bigint, src: Uint8Array): boolean {
    return this.m.systemAs.writeBytes(addr, src) === MEMTX_OK;
  }

  hcall(opcode: number, args: readonly bigint[]): { ret: bigint; out: bigint[] } {
    const b = this.m.board;
    if (!(b instanceof PseriesBoard)) throw new Error(`${this.board} has no hypercalls`);
    return b.hcalls.call(opcode, args);
  }

  rtas(token: number, args: readonly number[], nret: number): number[] {
    const b = this.m.board;
    if (!(b instanceof PseriesBoard)) throw new Error(`${this.board} has no RTAS`);
    return b.rtas.callWithArrays(token, args, nret);
  }

  /** The device tree the firmware room built for this machine, if any. */
  fdt(): Uint8Array {
    const blob = this.m.firmware.fdt;
    if (!blob) throw new Error(`no device tree was attached to this ${this.board} machine`);
    return blob;
  }

  onMsi(handler: (address: bigint, data: number) => void): void {
    this.m.onMsi(handler);
  }

  onIrqLine(handler: (line: number, level: number) => void): void {
    this.m.board.intc.listen(handler);
  }

  now(): number {
    return this.m.clock.now;
  }

  /** Lets virtual time pass: device timers due by then fire. */
  advance(ns: number): void {
    this.m.clock.advanceTo(this.m.clock.now + Math.max(0, ns));
  }
}
