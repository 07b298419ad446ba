import { EventLog, VirtualClock } from '../../src/base/index.js';
import { MemorySystem, type AddressSpace, type MemoryRegion } from '../../src/memory/index.js';
import { PCIBus, PCIHostConfig, type PCIBusContext, type PCIDevice } from '../../src/pci/index.js';

/** A bare PCI world: system memory with 16 MiB of RAM at 0, a PCIe root bus, and ECAM-style config access. */
export interface Rig {
  readonly ctx: PCIBusContext;
  readonly mem: MemorySystem;
  readonly sys: AddressSpace;
  readonly io: AddressSpace;
  readonly pciMem: MemoryRegion;
  readonly bus: PCIBus;
  readonly host: PCIHostConfig;
  readonly clock: VirtualClock;
  readonly log: EventLog;
  /** Config read/write of (bus, devfn, offset), as mechanism #1 does it. */
  cfgRead(bus: number, devfn: number, off: number, len: number): number;
  cfgWrite(bus: number, devfn: number, off: number, val: number, len: number): void;
  plug(dev: PCIDevice, devfn?: number): PCIDevice;
}

export function makeRig(opts: { express?: boolean; allowZeroBar?: boolean; bigEndian?: boolean } = {}): Rig {
  const mem = new MemorySystem();
  const clock = new VirtualClock();
  const log = new EventLog(clock);
  const system = mem.container('system', 1n << 64n);
  const ram = mem.ram('ram', 16 << 20);
  system.addSubregion(ram, 0);
  const pciMem = mem.container('pci', 1n << 64n);
  system.addSubregion(pciMem, 0, -1);
  const ioRoot = mem.container('io', 0x10000);
  const sys = mem.addressSpace(system, 'memory');
  const io = mem.addressSpace(ioRoot, 'I/O');
  const chassis = new Set<string>();
  const busIds = new Map<string, number>();
  const ctx: PCIBusContext = {
    mem, clock, log, systemMemory: sys, console: () => undefined, allowZeroBar: opts.allowZeroBar ?? false, targetBigEndian: opts.bigEndian ?? false,
    claimChassisSlot: (c, s) => (chassis.has(`${c}/${s}`) ? false : (chassis.add(`${c}/${s}`), true)),
    releaseChassisSlot: (c, s) => void chassis.delete(`${c}/${s}`),
    autoBusName: (k) => {
      const n = busIds.get(k) ?? 0;
      busIds.set(k, n + 1);
      return `${k}.${n}`;
    },
  };
  const bus = new PCIBus('pcie.0', ctx, opts.express ?? true, pciMem, ioRoot);
  const host = new PCIHostConfig(bus);
  const addr = (b: number, devfn: number, off: number) => (0x80000000 | (b << 16) | (devfn << 8) | (off & 0xfc)) >>> 0;
  return {
    ctx, mem, sys, io, pciMem, bus, host, clock, log,
    cfgRead: (b, devfn, off, len) => host.dataRead(addr(b, devfn, off) | (off & 3), len),
    cfgWrite: (b, devfn, off, val, len) => host.dataWrite(addr(b, devfn, off) | (off & 3), val, len),
    plug(dev, devfn) {
      bus.plug(dev, devfn);
      dev.reset();
      return dev;
    },
  };
}
