import type { EventLog } from '../../base/event-log.js';
import { sizeBars } from './bars.js';
import { readCapabilities } from './caps.js';
import type { PciConfigAccess } from './config-access.js';
import { PciBus, PciFunction } from './device.js';
import {
  devfn, PCI_CLASS_PROG, PCI_COMMAND, PCI_COMMAND_IO, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY, PCI_DEVICE_ID,
  PCI_HEADER_TYPE, PCI_HEADER_TYPE_MULTIFUNCTION, PCI_PRIMARY_BUS, PCI_REVISION_ID, PCI_SECONDARY_BUS,
  PCI_SUBORDINATE_BUS, PCI_SUBSYSTEM_ID, PCI_SUBSYSTEM_VENDOR_ID, PCI_VENDOR_ID,
} from './regs.js';

export interface PciTopology {
  readonly access: PciConfigAccess;
  readonly root: PciBus;
  /** Every function, depth first (a bridge before the functions behind it); hot-plug adds and removes. */
  readonly functions: PciFunction[];
  readonly buses: readonly PciBus[];
}

export interface EnumerateOptions {
  /** Assign secondary/subordinate bus numbers depth first (firmware); otherwise read what firmware set. */
  readonly assignBuses: boolean;
  readonly rootBus?: number;
  /** Highest bus number the host bridge decodes (MCFG end bus; 255). */
  readonly maxBus?: number;
  readonly log?: EventLog;
}

function probe(cfg: PciConfigAccess, busNr: number, df: number): boolean {
  const v = cfg.read(busNr, df, PCI_VENDOR_ID, 2);
  return v !== 0xffff && v !== 0x0000;
}

/**
 * Scans PCI the way firmware and Linux do (pci_scan_child_bus /
 * pci_scan_bridge): every slot's function 0, the other functions only when
 * function 0 is multi-function, then each bridge's secondary bus depth
 * first. With `assignBuses`, bridges get primary = this bus, secondary =
 * the next free number and, once the walk below returns, subordinate = the
 * highest number used below (PCI-to-PCI Bridge Architecture 1.2 section
 * 3.2.5.2-3.2.5.4).
 */
export function enumeratePci(cfg: PciConfigAccess, opts: EnumerateOptions): PciTopology {
  const rootNr = opts.rootBus ?? 0;
  const maxBus = opts.maxBus ?? 255;
  const root = new PciBus(rootNr, undefined, undefined);
  const functions: PciFunction[] = [];
  const buses: PciBus[] = [root];
  let last = rootNr;

  const scanBus = (bus: PciBus, depth: number): number => {
    let max = bus.number;
    const bridges: PciFunction[] = [];
    for (let slot = 0; slot < 32; slot++) {
      for (const fn of scanSlot(cfg, bus, slot, opts.log, !opts.assignBuses)) {
        functions.push(fn);
        if (fn.isBridge) bridges.push(fn);
      }
    }
    for (const br of bridges) {
      let secondary: number;
      if (opts.assignBuses) {
        if (last >= maxBus) {
          opts.log?.warn(`pci ${br.name}`, `no bus number left for the bridge (max ${maxBus})`);
          continue;
        }
        secondary = ++last;
        br.write(PCI_PRIMARY_BUS, 1, bus.number);
        br.write(PCI_SECONDARY_BUS, 1, secondary);
        br.write(PCI_SUBORDINATE_BUS, 1, maxBus);
      } else {
        secondary = br.read(PCI_SECONDARY_BUS, 1);
        if (secondary <= bus.number || secondary > maxBus || buses.some((b) => b.number === secondary)) {
          opts.log?.warn(`pci ${br.name}`, `bridge has secondary bus ${secondary}; not scanned`);
          continue;
        }
      }
      const child = new PciBus(secondary, bus, br);
      br.subordinate = child;
      bus.children.push(child);
      buses.push(child);
      const sub = depth < 32 ? scanBus(child, depth + 1) : secondary;
      if (opts.assignBuses) br.write(PCI_SUBORDINATE_BUS, 1, sub);
      else last = Math.max(last, br.read(PCI_SUBORDINATE_BUS, 1));
      opts.log?.info(`pci ${br.name}`, `PCI bridge to [bus ${hex2(secondary)}-${hex2(sub)}]`);
      max = Math.max(max, sub);
    }
    return Math.max(max, opts.assignBuses ? last : max);
  };
  scanBus(root, 0);
  return { access: cfg, root, functions, buses };
}

/** One function as pci_setup_device reads it: identity, header type, capabilities, BAR sizes; added to its bus. */
function scanFunction(cfg: PciConfigAccess, bus: PciBus, df: number, mf: boolean, log: EventLog | undefined, logBars: boolean): PciFunction {
  const fn = new PciFunction(cfg, bus, df);
  fn.vendor = fn.read(PCI_VENDOR_ID, 2);
  fn.device = fn.read(PCI_DEVICE_ID, 2);
  fn.revision = fn.read(PCI_REVISION_ID, 1);
  fn.classCode = (fn.read(PCI_CLASS_PROG, 1) | (fn.read(PCI_CLASS_PROG + 1, 2) << 8)) >>> 0;
  fn.headerType = fn.read(PCI_HEADER_TYPE, 1) & 0x7f;
  fn.multifunction = mf;
  if (fn.headerType === 0) {
    fn.subsystemVendor = fn.read(PCI_SUBSYSTEM_VENDOR_ID, 2);
    fn.subsystemId = fn.read(PCI_SUBSYSTEM_ID, 2);
  }
  readCapabilities(fn);
  sizeBars(fn);
  bus.devices.push(fn);
  log?.info(`pci ${fn.name}`, `[${fn.idString}] type ${fn.headerType.toString(16).padStart(2, '0')} class 0x${fn.classCode.toString(16).padStart(6, '0')}${fn.isPcie ? ' PCIe' : ''}`);
  if (logBars) {
    for (const b of fn.bars) {
      log?.info(`pci ${fn.name}`, `reg 0x${(0x10 + b.index * 4).toString(16)}: [${b.kind === 'io' ? 'io ' : 'mem '}0x${b.busAddress.toString(16)}-0x${(b.busAddress + b.size - 1).toString(16)}${b.kind === 'mem64' ? ' 64bit' : ''}${b.prefetchable ? ' pref' : ''}]`);
    }
  }
  return fn;
}

/**
 * pci_scan_slot: function 0 of `slot` on `bus`, and functions 1-7 when
 * function 0 is multi-function. New functions are added to the bus and
 * returned (empty when nothing answers). Hot-plug drivers call it for the
 * slot below their port.
 */
export function scanSlot(cfg: PciConfigAccess, bus: PciBus, slot: number, log?: EventLog, logBars = true): PciFunction[] {
  const out: PciFunction[] = [];
  if (!probe(cfg, bus.number, devfn(slot, 0))) return out;
  const mf = (cfg.read(bus.number, devfn(slot, 0), PCI_HEADER_TYPE, 1) & PCI_HEADER_TYPE_MULTIFUNCTION) !== 0;
  for (let f = 0; f < (mf ? 8 : 1); f++) {
    const df = devfn(slot, f);
    if (f > 0 && !probe(cfg, bus.number, df)) continue;
    out.push(scanFunction(cfg, bus, df, mf, log, logBars));
  }
  return out;
}

/**
 * pci_scan_single_device: the one function at `df` (a DLPAR connector
 * names a single function), added to the bus and returned; undefined when
 * nothing answers there or the bus already has it.
 */
export function scanSingle(cfg: PciConfigAccess, bus: PciBus, df: number, log?: EventLog): PciFunction | undefined {
  if (bus.devices.some((f) => f.devfn === df) || !probe(cfg, bus.number, df)) return undefined;
  const mf = (cfg.read(bus.number, df & ~7, PCI_HEADER_TYPE, 1) & PCI_HEADER_TYPE_MULTIFUNCTION) !== 0 || (df & 7) !== 0;
  return scanFunction(cfg, bus, df, mf, log, true);
}

function hex2(v: number): string {
  return v.toString(16).padStart(2, '0');
}

/** pci_enable_device: turn on the decode the function's BARs need. */
export function pciEnableDevice(fn: PciFunction): void {
  let set = 0;
  for (const b of fn.bars) set |= b.kind === 'io' ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
  if (fn.isBridge) set |= PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
  fn.setCommand(set);
}

/** Command register snapshot, for tests and reports. */
export function pciCommand(fn: PciFunction): number {
  return fn.read(PCI_COMMAND, 2);
}
