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
  readonly hcall?: GuestPort['hcall'];
  readonly rtas?: GuestPort['rtas'];
  readonly fdt?: GuestPort['fdt'];

  constructor(private readonly m: Machine) {
    this.board = m.boardName;
    this.log = m.log;
    this.ramRanges = m.board.ram.map((r) => ({ base: r.base, size: r.size }));
    const b = m.board;
    if (m.boardName === 'q35') {
      this.io = {
        in: (port, size) => m.ioAs.read(port & 0xffff, size).lo >>> 0,
        out: (port, size, value) => void m.ioAs.write(port & 0xffff, size, value >>> 0),
      };
    }
    if (b instanceof PseriesBoard) {
      this.hcall = (opcode, args) => b.hcalls.call(opcode, args);
      this.rtas = (token, args, nret) => b.rtas.callWithArrays(token, args, nret);
    }
    if (m.describe().firmware.dtbAddress !== undefined) {
      // The device tree the firmware room builds and attaches to machine.firmware.fdt.
      this.fdt = () => {
        const blob = m.firmware.fdt;
        if (!blob) throw new Error(`no device tree was attached to this ${m.boardName} machine`);
        return blob;
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

  onMsi(handler: (address: bigint, data: number) => void): void {
    this.m.onMsi(handler);
  }

  onIrqLine(handler: (line: number, level: number) => void): void {
    void this.m.board.intc.listen(handler);
  }

  now(): number {
    return this.m.clock.now;
  }

  /** Lets virtual time pass: device timers due by then fire. */
  advance(ns: number): void {
    this.m.settle();
    this.m.clock.advanceTo(this.m.clock.now + Math.max(0, ns));
  }
}
