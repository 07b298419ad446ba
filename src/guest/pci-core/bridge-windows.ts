import type { EventLog } from '../../base/event-log.js';
import { writeBar } from './bars.js';
import type { PciBar, PciFunction } from './device.js';
import type { HostWindow, HostWindows } from './resources.js';
import {
  PCI_IO_BASE, PCI_IO_BASE_UPPER16, PCI_IO_LIMIT, PCI_IO_LIMIT_UPPER16, PCI_IO_RANGE_TYPE_32, PCI_MEMORY_BASE,
  PCI_MEMORY_LIMIT, PCI_PREF_BASE_UPPER32, PCI_PREF_LIMIT_UPPER32, PCI_PREF_MEMORY_BASE, PCI_PREF_MEMORY_LIMIT,
  PCI_PREF_RANGE_TYPE_64,
} from './regs.js';

const TWO32 = 0x1_0000_0000;

/** A bridge window as programmed: bus addresses [base, limit]. */
export interface BridgeWindow {
  readonly base: number;
  readonly limit: number;
}

export interface BridgeWindows {
  readonly io?: BridgeWindow;
  readonly mem?: BridgeWindow;
  readonly pref?: BridgeWindow;
}

/**
 * Reads a bridge's forwarding windows (PCI-to-PCI Bridge Architecture 1.2
 * sections 3.2.5.6-3.2.5.10): I/O base/limit [15:12] (+ upper 16 bits for
 * 32-bit I/O), memory base/limit [31:20], prefetchable base/limit [31:20]
 * (+ upper 32 bits for 64-bit). Limits are inclusive, with 4 KiB (I/O) and
 * 1 MiB (memory) granularity; a base above its limit is a closed window.
 */
export function readBridgeWindows(br: PciFunction): BridgeWindows {
  const out: { io?: BridgeWindow; mem?: BridgeWindow; pref?: BridgeWindow } = {};
  const ioBase = br.read(PCI_IO_BASE, 1);
  const ioLimit = br.read(PCI_IO_LIMIT, 1);
  let iob = (ioBase & 0xf0) << 8;
  let iol = ((ioLimit & 0xf0) << 8) | 0xfff;
  if ((ioBase & 0xf) === PCI_IO_RANGE_TYPE_32) {
    iob += br.read(PCI_IO_BASE_UPPER16, 2) * 0x10000;
    iol += br.read(PCI_IO_LIMIT_UPPER16, 2) * 0x10000;
  }
  if (iob <= iol && (ioBase | ioLimit) !== 0) out.io = { base: iob, limit: iol };
  const mb = (br.read(PCI_MEMORY_BASE, 2) & 0xfff0) * 0x10000;
  const ml = (br.read(PCI_MEMORY_LIMIT, 2) & 0xfff0) * 0x10000 + 0xfffff;
  if (mb <= ml) out.mem = { base: mb, limit: ml };
  const pbReg = br.read(PCI_PREF_MEMORY_BASE, 2);
  let pb = (pbReg & 0xfff0) * 0x10000;
  let pl = (br.read(PCI_PREF_MEMORY_LIMIT, 2) & 0xfff0) * 0x10000 + 0xfffff;
  if ((pbReg & 0xf) === PCI_PREF_RANGE_TYPE_64) {
    pb += br.read(PCI_PREF_BASE_UPPER32, 4) * TWO32;
    pl += br.read(PCI_PREF_LIMIT_UPPER32, 4) * TWO32;
  }
  if (pb <= pl) out.pref = { base: pb, limit: pl };
  return out;
}

function fmt(w: BridgeWindow | undefined): string {
  return w ? `0x${w.base.toString(16)}-0x${w.limit.toString(16)}` : 'closed';
}

/** Where a bus address lands for the CPU: the host window holding it, or the same address. */
function cpuOffset(busAddr: number, windows: HostWindows): number {
  for (const w of [windows.io, windows.mem32, windows.mem64] as (HostWindow | undefined)[]) {
    if (w && busAddr >= w.pciBase && busAddr < w.pciBase + w.size) return w.cpuBase - w.pciBase;
  }
  return 0;
}

/**
 * Assigns the BARs of functions that appeared behind `bridge` (a hot-add)
 * inside the bridge's current windows, largest first, the way
 * pci_assign_unassigned_bridge_resources does when the windows are already
 * big enough (they are not resized here): I/O BARs in the I/O window,
 * prefetchable BARs in the prefetchable window (or the memory window when it
 * is closed or full), the rest in the memory window. Decode stays off; the
 * driver enables it. Returns what did not fit.
 */
export function assignBridgeResources(bridge: PciFunction, fns: readonly PciFunction[], hosts: HostWindows, log?: EventLog): string[] {
  const w = readBridgeWindows(bridge);
  log?.info(`pcieport ${bridge.name}`, `bridge windows: io ${fmt(w.io)}, mem ${fmt(w.mem)}, pref ${fmt(w.pref)}`);
  const next = new Map<BridgeWindow, number>();
  const take = (win: BridgeWindow | undefined, bar: PciBar): number | undefined => {
    if (!win) return undefined;
    const at = Math.ceil((next.get(win) ?? win.base) / bar.size) * bar.size;
    if (at + bar.size - 1 > win.limit) return undefined;
    if (bar.kind !== 'mem64' && bar.kind !== 'io' && at + bar.size > TWO32) return undefined;
    next.set(win, at + bar.size);
    return at;
  };
  const bars = fns.flatMap((fn) => fn.bars.map((bar) => ({ fn, bar }))).sort((a, b) => b.bar.size - a.bar.size);
  const failed: string[] = [];
  for (const { fn, bar } of bars) {
    let at: number | undefined;
    if (bar.kind === 'io') at = take(w.io, bar);
    else if (bar.prefetchable) at = take(w.pref, bar) ?? take(w.mem, bar);
    else at = take(w.mem, bar);
    const what = `[${bar.kind === 'io' ? 'io' : 'mem'} size 0x${bar.size.toString(16)}${bar.prefetchable ? ' pref' : ''}]`;
    if (at === undefined) {
      failed.push(`${fn.name} BAR ${bar.index}: no space for ${what}`);
      log?.err(`pci ${fn.name}`, `BAR ${bar.index}: no space for ${what}`);
      continue;
    }
    writeBar(fn, bar, at);
    bar.cpuAddress = at + cpuOffset(at, hosts);
    log?.info(`pci ${fn.name}`, `BAR ${bar.index}: assigned [${bar.kind === 'io' ? 'io ' : 'mem '}0x${bar.cpuAddress.toString(16)}-0x${(bar.cpuAddress + bar.size - 1).toString(16)}${bar.kind === 'mem64' ? ' 64bit' : ''}${bar.prefetchable ? ' pref' : ''}]`);
  }
  return failed;
}
