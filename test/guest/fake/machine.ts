import { VirtualClock } from '../../../src/base/clock.js';
import { EventLog } from '../../../src/base/event-log.js';
import { MEMTX_OK, MemorySystem, type AddressSpace, type ContainerRegion, type MemoryRegion } from '../../../src/memory/index.js';
import type { GuestPort } from '../../../src/guest/port.js';

export interface IoHandler {
  readonly base: number;
  readonly size: number;
  in(port: number, size: number): number;
  out(port: number, size: number, value: number): void;
}

/**
 * A small fake machine for guest tests: RAM at 0, a system address space,
 * port I/O handlers, a virtual clock and an event log, exposed as a
 * GuestPort. Devices are test fakes (fw_cfg, PCI config space, edu, a test
 * IOMMU); the real boards come with src/machine.
 */
export class FakeMachine {
  readonly clock = new VirtualClock();
  readonly log = new EventLog(this.clock);
  readonly mem = new MemorySystem();
  readonly root: ContainerRegion;
  readonly memory: AddressSpace;
  readonly io: IoHandler[] = [];
  fdt: Uint8Array | undefined;
  rtas: ((token: number, args: readonly number[], nret: number) => number[]) | undefined;
  readonly msis: { address: bigint; data: number }[] = [];

  constructor(readonly board: string, readonly ramSize = 64 << 20, readonly ramBase = 0) {
    this.root = this.mem.container('system', 1n << 64n);
    this.memory = this.mem.addressSpace(this.root, 'memory');
    this.root.addSubregion(this.mem.ram('ram', ramSize), ramBase);
  }

  addMmio(addr: number, region: MemoryRegion, priority = 0): void {
    this.root.addSubregion(region, addr, priority);
  }

  /** An address space for a device's DMA: system memory seen through an alias, so its observer sees only that device. */
  busMasterSpace(name: string, translatedRoot?: MemoryRegion): AddressSpace {
    const c = this.mem.container(`${name}-bm`, 1n << 64n);
    c.addSubregion(this.mem.alias(`${name}-dma`, translatedRoot ?? this.root, 0, 1n << 64n), 0);
    return this.mem.addressSpace(c, `${name} bus master`);
  }

  port(): GuestPort {
    const m = this;
    const ioFor = (p: number): IoHandler | undefined => m.io.find((h) => p >= h.base && p < h.base + h.size);
    return {
      board: m.board,
      read(addr, size) {
        const r = m.memory.read(addr, size);
        return { ok: r.result === MEMTX_OK, lo: r.lo, hi: r.hi };
      },
      write: (addr, size, lo, hi = 0) => m.memory.write(addr, size, lo, hi) === MEMTX_OK,
      readBytes: (addr, dst) => m.memory.readBytes(addr, dst) === MEMTX_OK,
      writeBytes: (addr, src) => m.memory.writeBytes(addr, src) === MEMTX_OK,
      io: {
        in: (p, size) => ioFor(p)?.in(p, size) ?? (size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff),
        out: (p, size, v) => ioFor(p)?.out(p, size, v),
      },
      ...(m.rtas ? { rtas: (token: number, args: readonly number[], nret: number) => m.rtas!(token, args, nret) } : {}),
      ...(m.fdt ? { fdt: () => m.fdt! } : {}),
      onMsi: () => {},
      onIrqLine: () => {},
      now: () => m.clock.now,
      advance: (ns) => {
        m.clock.step(ns);
      },
      log: m.log,
      ramRanges: [{ base: m.ramBase, size: m.ramSize }],
    };
  }
}
