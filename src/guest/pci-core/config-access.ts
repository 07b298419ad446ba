import type { GuestPort } from '../port.js';
import { ecamAddress, type McfgAllocation } from '../fw/acpi/mcfg.js';

/**
 * How the guest reaches PCI configuration space. Reads of a function that
 * is absent (or of a register the mechanism cannot reach) return all ones,
 * as a master abort does (PCI 3.0 section 6.1).
 */
export interface PciConfigAccess {
  readonly name: string;
  readonly segment: number;
  /** 256 for the legacy mechanism, 4096 where extended config space is reachable. */
  readonly size: number;
  read(bus: number, devfn: number, offset: number, size: 1 | 2 | 4): number;
  write(bus: number, devfn: number, offset: number, size: 1 | 2 | 4, value: number): void;
}

const ONES = [0, 0xff, 0xffff, 0, 0xffffffff] as const;

function checkShape(offset: number, size: number, limit: number): boolean {
  return offset >= 0 && offset + size <= limit && offset % size === 0;
}

/**
 * Configuration Mechanism #1 (PCI 3.0 section 3.2.2.3.2): CONFIG_ADDRESS at
 * 0xcf8 = enable[31] | bus[23:16] | device[15:11] | function[10:8] |
 * register[7:2], then CONFIG_DATA at 0xcfc + (offset & 3).
 */
export function cf8Access(port: GuestPort): PciConfigAccess | undefined {
  const io = port.io;
  if (!io) return undefined;
  const address = (bus: number, df: number, off: number): number => (0x8000_0000 | (bus << 16) | (df << 8) | (off & 0xfc)) >>> 0;
  return {
    name: 'cf8',
    segment: 0,
    size: 256,
    read(bus, df, off, size) {
      if (!checkShape(off, size, 256)) return ONES[size];
      io.out(0xcf8, 4, address(bus, df, off));
      return io.in(0xcfc + (off & 3), size) >>> 0;
    },
    write(bus, df, off, size, value) {
      if (!checkShape(off, size, 256)) return;
      io.out(0xcf8, 4, address(bus, df, off));
      io.out(0xcfc + (off & 3), size, value >>> 0);
    },
  };
}

/** Enhanced Configuration Access Mechanism (PCIe 4.0 section 7.2.2) over MCFG allocations or a DT ECAM window. */
export function ecamAccess(port: GuestPort, alloc: McfgAllocation): PciConfigAccess {
  const inRange = (bus: number): boolean => bus >= alloc.startBus && bus <= alloc.endBus;
  return {
    name: 'ecam',
    segment: alloc.segment,
    size: 4096,
    read(bus, df, off, size) {
      if (!inRange(bus) || !checkShape(off, size, 4096)) return ONES[size];
      const r = port.read(ecamAddress(alloc, bus, df, off), size);
      return r.ok ? r.lo >>> 0 : ONES[size];
    },
    write(bus, df, off, size, value) {
      if (!inRange(bus) || !checkShape(off, size, 4096)) return;
      port.write(ecamAddress(alloc, bus, df, off), size, value >>> 0);
    },
  };
}

/** RTAS tokens and the PHB unit ID for pseries config access (LoPAPR section 7.3.4, from the DT /rtas node and PHB reg). */
export interface RtasPciTokens {
  readonly read: number;
  readonly write: number;
  /** PHB unit ID (the PHB's reg address), as two 32-bit halves: it exceeds 2^53 on QEMU's pseries. */
  readonly buidHi: number;
  readonly buidLo: number;
}

/**
 * pseries: ibm,read-pci-config (config_addr, BUID hi, BUID lo, size) ->
 * (status, value) and ibm,write-pci-config (config_addr, BUID hi, lo, size,
 * value) -> (status). config_addr as Linux rtas_config_addr builds it:
 * register[11:8] << 28 | bus << 16 | devfn << 8 | register[7:0]. A non-zero
 * status reads as all ones.
 */
export function rtasAccess(port: GuestPort, tokens: RtasPciTokens): PciConfigAccess | undefined {
  const rtas = port.rtas?.bind(port);
  if (!rtas) return undefined;
  const cfgAddr = (bus: number, df: number, off: number): number => (((off & 0xf00) << 20) | (bus << 16) | (df << 8) | (off & 0xff)) >>> 0;
  const hi = tokens.buidHi >>> 0;
  const lo = tokens.buidLo >>> 0;
  return {
    name: 'rtas',
    segment: 0,
    size: 4096,
    read(bus, df, off, size) {
      if (!checkShape(off, size, 4096)) return ONES[size];
      const r = rtas(tokens.read, [cfgAddr(bus, df, off), hi, lo, size], 2);
      return r[0] === 0 && r.length > 1 ? (r[1]! >>> 0) : ONES[size];
    },
    write(bus, df, off, size, value) {
      if (!checkShape(off, size, 4096)) return;
      rtas(tokens.write, [cfgAddr(bus, df, off), hi, lo, size, value >>> 0], 1);
    },
  };
}
