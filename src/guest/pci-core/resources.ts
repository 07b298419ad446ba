import type { EventLog } from '../../base/event-log.js';
import { writeBar } from './bars.js';
import type { PciBar, PciBus, PciFunction } from './device.js';
import { pciEnableDevice } from './enumerate.js';
import {
  PCI_EXP_FLAGS, PCI_EXP_FLAGS_SLOT, PCI_EXP_SLTCAP, PCI_EXP_SLTCAP_HPC, PCI_IO_BASE, PCI_IO_BASE_UPPER16, PCI_IO_LIMIT,
  PCI_IO_LIMIT_UPPER16, PCI_MEMORY_BASE, PCI_MEMORY_LIMIT, PCI_PREF_BASE_UPPER32, PCI_PREF_LIMIT_UPPER32,
  PCI_PREF_MEMORY_BASE, PCI_PREF_MEMORY_LIMIT, PCI_PREF_RANGE_TYPE_64,
} from './regs.js';

const TWO32 = 0x1_0000_0000;
const MIB = 1 << 20;
/** Bridge window granularity (PCI-to-PCI Bridge Architecture 1.2 sections 3.2.5.6-3.2.5.10): I/O 4 KiB, memory 1 MiB. */
const GRAN = { io: 0x1000, mem: MIB, pref: MIB } as const;

/** A host-bridge aperture: PCI bus addresses [pciBase, pciBase+size) seen by the CPU at cpuBase. */
export interface HostWindow {
  readonly pciBase: number;
  readonly cpuBase: number;
  readonly size: number;
}

/** The host bridge's windows, from the DT `ranges` or the firmware's fixed layout (ACPI _CRS is not parsed). */
export interface HostWindows {
  readonly io?: HostWindow;
  readonly mem32?: HostWindow;
  readonly mem64?: HostWindow;
}

type Pool = 'io' | 'mem' | 'pref';

/**
 * Window space kept for an empty hot-plug port, per pool (bytes; 0: none),
 * so that a device hot-added later has somewhere to go.
 */
export interface HotplugReserve {
  readonly io: number;
  readonly mem: number;
  readonly pref: number;
}

/**
 * SeaBIOS (src/fw/pciinit.c pci_bios_check_devices), the firmware of QEMU's
 * x86 machines: a hot-plug capable bridge gets at least PCI_BRIDGE_MEM_MIN
 * (2 MiB) of memory and of prefetchable memory; I/O is optional behind a
 * PCI Express port and is not reserved.
 */
export const SEABIOS_HOTPLUG_RESERVE: HotplugReserve = { io: 0, mem: 2 * MIB, pref: 2 * MIB };
/**
 * Linux (drivers/pci/setup-bus.c) on boards where it assigns resources
 * itself: pci_hotplug_io_size 256 bytes (a 4 KiB window once aligned),
 * pci_hotplug_mmio_size and pci_hotplug_mmio_pref_size 2 MiB.
 */
export const LINUX_HOTPLUG_RESERVE: HotplugReserve = { io: 256, mem: 2 * MIB, pref: 2 * MIB };

/**
 * A hot-plug bridge (Linux set_pcie_hotplug_bridge, SeaBIOS
 * pci_bus_hotplug_support): a PCI Express port whose slot is implemented
 * and Hot-Plug Capable (PCIe 4.0 sections 7.5.3.2 and 7.5.3.9).
 */
export function isHotplugBridge(fn: PciFunction): boolean {
  const pos = fn.pcieCap;
  if (!fn.isBridge || pos === undefined) return false;
  if (!(fn.read(pos + PCI_EXP_FLAGS, 2) & PCI_EXP_FLAGS_SLOT)) return false;
  return (fn.read(pos + PCI_EXP_SLTCAP, 4) & PCI_EXP_SLTCAP_HPC) !== 0;
}

/** Whether a bridge implements its optional I/O or prefetchable window (pci_bridge_check_ranges: a writable base register). */
function hasWindow(br: PciFunction, pool: Pool): boolean {
  if (pool === 'mem') return true;
  const reg = pool === 'io' ? PCI_IO_BASE : PCI_PREF_MEMORY_BASE;
  const orig = br.read(reg, 2);
  if (orig !== 0) return true;
  br.write(reg, 2, 0xe0f0);
  const probe = br.read(reg, 2);
  br.write(reg, 2, orig);
  return probe !== 0;
}

interface Res {
  readonly pool: Pool;
  readonly size: number;
  readonly align: number;
  readonly is64: boolean;
  readonly what: string;
  place(busAddr: number, cpuOffset: number): void;
}

function alignUp(v: number, a: number): number {
  return Math.ceil(v / a) * a;
}

/** Lays out resources largest alignment first from 0; returns the end and the largest alignment. */
function layout(list: readonly Res[]): { end: number; align: number } {
  let cur = 0;
  let align = 1;
  for (const r of [...list].sort((a, b) => b.align - a.align)) {
    cur = alignUp(cur, r.align) + r.size;
    align = Math.max(align, r.align);
  }
  return { end: cur, align };
}

function placeList(list: readonly Res[], start: number, cpuOffset: number): number {
  let cur = start;
  for (const r of [...list].sort((a, b) => b.align - a.align)) {
    cur = alignUp(cur, r.align);
    r.place(cur, cpuOffset);
    cur += r.size;
  }
  return cur;
}

function programWindow(br: PciFunction, pool: Pool, base: number, size: number): void {
  const limit = base + size - 1;
  if (pool === 'io') {
    const io32 = (br.read(PCI_IO_BASE, 1) & 0xf) === 1;
    if (size === 0) {
      br.write(PCI_IO_BASE, 1, 0xf0);
      br.write(PCI_IO_LIMIT, 1, 0x00);
      return;
    }
    br.write(PCI_IO_BASE, 1, (base >>> 8) & 0xf0);
    br.write(PCI_IO_LIMIT, 1, (limit >>> 8) & 0xf0);
    if (io32) {
      br.write(PCI_IO_BASE_UPPER16, 2, base >>> 16);
      br.write(PCI_IO_LIMIT_UPPER16, 2, limit >>> 16);
    }
  } else if (pool === 'mem') {
    br.write(PCI_MEMORY_BASE, 2, size === 0 ? 0xfff0 : (base >>> 16) & 0xfff0);
    br.write(PCI_MEMORY_LIMIT, 2, size === 0 ? 0 : (limit >>> 16) & 0xfff0);
  } else {
    const p64 = (br.read(PCI_PREF_MEMORY_BASE, 2) & 0xf) === PCI_PREF_RANGE_TYPE_64;
    if (size === 0) {
      br.write(PCI_PREF_MEMORY_BASE, 2, 0xfff0);
      br.write(PCI_PREF_MEMORY_LIMIT, 2, 0);
      if (p64) {
        br.write(PCI_PREF_BASE_UPPER32, 4, 0);
        br.write(PCI_PREF_LIMIT_UPPER32, 4, 0);
      }
      return;
    }
    br.write(PCI_PREF_MEMORY_BASE, 2, ((base % TWO32) >>> 16) & 0xfff0);
    br.write(PCI_PREF_MEMORY_LIMIT, 2, ((limit % TWO32) >>> 16) & 0xfff0);
    if (p64) {
      br.write(PCI_PREF_BASE_UPPER32, 4, Math.floor(base / TWO32) >>> 0);
      br.write(PCI_PREF_LIMIT_UPPER32, 4, Math.floor(limit / TWO32) >>> 0);
    }
  }
}

/**
 * Collects what a bus needs: its functions' BARs, and for each bridge below
 * it one window per pool sized to hold that bridge's own bus (rounded to the
 * bridge granularity, aligned to the largest child alignment).
 */
function needs(bus: PciBus, log: EventLog | undefined, reserve: HotplugReserve | undefined): Res[] {
  const out: Res[] = [];
  for (const fn of bus.devices) {
    for (const bar of fn.bars) {
      const pool: Pool = bar.kind === 'io' ? 'io' : bar.prefetchable ? 'pref' : 'mem';
      out.push({
        pool, size: bar.size, align: bar.size, is64: bar.kind === 'mem64', what: `${fn.name} BAR ${bar.index}`,
        place: (addr, off) => assignBar(fn, bar, addr, off, log),
      });
    }
    if (!fn.isBridge || !fn.subordinate) continue;
    const child = needs(fn.subordinate, log, reserve);
    const p64 = (fn.read(PCI_PREF_MEMORY_BASE, 2) & 0xf) === PCI_PREF_RANGE_TYPE_64;
    const hotplug = reserve !== undefined && isHotplugBridge(fn);
    for (const pool of ['io', 'mem', 'pref'] as const) {
      const list = child.filter((r) => r.pool === pool);
      const { end, align } = layout(list);
      const keep = hotplug && reserve[pool] > 0 && hasWindow(fn, pool) ? alignUp(reserve[pool], GRAN[pool]) : 0;
      if (end === 0 && keep === 0) {
        programWindow(fn, pool, 0, 0);
        continue;
      }
      const size = alignUp(Math.max(end, keep), GRAN[pool]);
      out.push({
        pool, size, align: Math.max(GRAN[pool], align, end < keep ? keep : 0), is64: pool === 'pref' && p64 && list.every((r) => r.is64),
        what: `${fn.name} ${pool} window`,
        place: (addr, off) => {
          programWindow(fn, pool, addr, size);
          placeList(list, addr, off);
          log?.info(`pci ${fn.name}`, `bridge window [${pool} 0x${(addr + off).toString(16)}-0x${(addr + off + size - 1).toString(16)}]`);
        },
      });
    }
  }
  return out;
}

function assignBar(fn: PciFunction, bar: PciBar, addr: number, cpuOffset: number, log: EventLog | undefined): void {
  writeBar(fn, bar, addr);
  bar.cpuAddress = addr + cpuOffset;
  log?.info(`pci ${fn.name}`, `BAR ${bar.index}: assigned [${bar.kind === 'io' ? 'io ' : 'mem '}0x${bar.cpuAddress.toString(16)}-0x${(bar.cpuAddress + bar.size - 1).toString(16)}${bar.kind === 'mem64' ? ' 64bit' : ''}${bar.prefetchable ? ' pref' : ''}]`);
}

/**
 * Assigns every BAR and bridge window below `root` from the host windows
 * (pci_assign_unassigned_root_bus_resources, simplified: one pass, largest
 * alignment first): I/O from the I/O window, non-prefetchable memory from
 * the 32-bit window, prefetchable memory from the 64-bit window when all of
 * it can live above 4 GiB, else after the non-prefetchable memory. Then it
 * enables decode on every function that got resources. Returns what did not
 * fit (those BARs stay unassigned and their decode off). With `reserve`,
 * every hot-plug bridge's windows are at least that large (an empty
 * hot-plug port gets windows of exactly that size, aligned to it).
 */
export function assignResources(root: PciBus, windows: HostWindows, log?: EventLog, reserve?: HotplugReserve): string[] {
  const all = needs(root, log, reserve);
  const failed: string[] = [];
  const place = (list: Res[], w: HostWindow | undefined, name: string, from?: number): number | undefined => {
    if (list.length === 0) return from;
    const { end } = layout(list);
    const start = from ?? w?.pciBase;
    if (!w || start === undefined || alignUp(start, layout(list).align) + end > w.pciBase + w.size) {
      for (const r of list) failed.push(`${r.what}: no room in the ${name} window`);
      return from;
    }
    return placeList(list, start, w.cpuBase - w.pciBase);
  };
  place(all.filter((r) => r.pool === 'io'), windows.io, 'I/O');
  const memEnd = place(all.filter((r) => r.pool === 'mem'), windows.mem32, '32-bit memory');
  const pref = all.filter((r) => r.pool === 'pref');
  if (windows.mem64 && pref.length > 0 && pref.every((r) => r.is64)) place(pref, windows.mem64, '64-bit memory');
  else place(pref, windows.mem32, '32-bit memory', memEnd);
  for (const f of failed) log?.err('pci', f);
  const failedSet = new Set(failed.map((f) => f.split(':')[0]));
  const walk = (bus: PciBus): void => {
    for (const fn of bus.devices) {
      if (![...failedSet].some((w) => w?.startsWith(fn.name))) pciEnableDevice(fn);
      if (fn.subordinate) walk(fn.subordinate);
    }
  };
  walk(root);
  return failed;
}
