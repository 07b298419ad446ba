import type { EventLog } from '../../base/event-log.js';
import { writeBar } from './bars.js';
import { readBridgeWindows } from './bridge-windows.js';
import type { PciBar, PciBus, PciFunction } from './device.js';
import type { HostWindow, HostWindows } from './resources.js';

const TWO32 = 0x1_0000_0000;

interface Span {
  readonly start: number;
  readonly end: number;
}

/** Bus-address ranges already claimed on `bus` by functions other than `except`: their BARs and bridge windows. */
function usedSpans(bus: PciBus, except: readonly PciFunction[]): Span[] {
  const out: Span[] = [];
  for (const fn of bus.devices) {
    if (except.includes(fn)) continue;
    for (const b of fn.bars) if (b.busAddress !== 0) out.push({ start: b.busAddress, end: b.busAddress + b.size });
    if (fn.isBridge) {
      const w = readBridgeWindows(fn);
      for (const x of [w.io, w.mem, w.pref]) if (x) out.push({ start: x.base, end: x.limit + 1 });
    }
  }
  return out;
}

/** First naturally aligned place for `size` bytes inside `w` that overlaps no span. */
function firstFit(w: HostWindow, size: number, used: readonly Span[], below4g: boolean): number | undefined {
  const limit = below4g ? Math.min(w.pciBase + w.size, TWO32) : w.pciBase + w.size;
  let at = Math.ceil(w.pciBase / size) * size;
  for (;;) {
    if (at + size > limit) return undefined;
    const hit = used.find((s) => s.start < at + size && at < s.end);
    if (!hit) return at;
    at = Math.ceil(hit.end / size) * size;
  }
}

/**
 * Assigns the BARs of functions that appeared on a bus without a bridge
 * of their own (a DLPAR-added function on a PHB's root bus), from the
 * host bridge's windows, avoiding every range already assigned on that
 * bus (pci_assign_unassigned_bus_resources for the new devices: each BAR
 * is claimed from the bus resources, first fit, largest first). The pools
 * are the ones boot uses (assignResources): I/O from the I/O window,
 * non-prefetchable memory from the 32-bit window, prefetchable 64-bit
 * memory from the 64-bit window (else the 32-bit one). Decode stays off;
 * the driver enables it. Returns what did not fit.
 */
export function assignBusBars(bus: PciBus, fns: readonly PciFunction[], windows: HostWindows, log?: EventLog): string[] {
  const used = usedSpans(bus, fns);
  const bars = fns.flatMap((fn) => fn.bars.map((bar) => ({ fn, bar }))).sort((a, b) => b.bar.size - a.bar.size);
  const failed: string[] = [];
  for (const { fn, bar } of bars) {
    const tries: (HostWindow | undefined)[] = bar.kind === 'io' ? [windows.io]
      : bar.prefetchable && bar.kind === 'mem64' ? [windows.mem64, windows.mem32] : [windows.mem32];
    let placed: { at: number; w: HostWindow } | undefined;
    for (const w of tries) {
      if (!w) continue;
      const at = firstFit(w, bar.size, used, bar.kind === 'mem32');
      if (at !== undefined) {
        placed = { at, w };
        break;
      }
    }
    const what = `[${bar.kind === 'io' ? 'io' : 'mem'} size 0x${bar.size.toString(16)}${bar.kind === 'mem64' ? ' 64bit' : ''}${bar.prefetchable ? ' pref' : ''}]`;
    if (!placed) {
      failed.push(`${fn.name} BAR ${bar.index}: no space for ${what}`);
      log?.err(`pci ${fn.name}`, `BAR ${bar.index}: no space for ${what}`);
      continue;
    }
    place(fn, bar, placed.at, placed.w, log);
    used.push({ start: placed.at, end: placed.at + bar.size });
  }
  return failed;
}

function place(fn: PciFunction, bar: PciBar, at: number, w: HostWindow, log: EventLog | undefined): void {
  writeBar(fn, bar, at);
  bar.cpuAddress = at + w.cpuBase - w.pciBase;
  log?.info(`pci ${fn.name}`, `BAR ${bar.index}: assigned [${bar.kind === 'io' ? 'io ' : 'mem '}0x${bar.cpuAddress.toString(16)}-0x${(bar.cpuAddress + bar.size - 1).toString(16)}${bar.kind === 'mem64' ? ' 64bit' : ''}${bar.prefetchable ? ' pref' : ''}]`);
}
