import type { Machine } from '../machine.js';

/** An MMIO or I/O range a fuzz op can name: the region's name, where it sits now, its size. */
export interface RegionRef {
  readonly name: string;
  readonly base: number;
  readonly size: number;
}

export interface MachineLayout {
  readonly mmio: readonly RegionRef[];
  readonly io: readonly RegionRef[];
  /** PCI functions by index (machine.pciDevices() order), with whether they are bridges. */
  readonly pci: readonly { readonly bdf: string; readonly type: string; readonly bridge: boolean }[];
}

const MAX_SPAN = 1 << 20;

function ranges(view: Machine['systemAs']['view']): RegionRef[] {
  const out: RegionRef[] = [];
  const seen = new Map<string, number>();
  const regions = new Set<object>();
  for (const r of view.ranges) {
    if (r.mr.kind !== 'mmio' || regions.has(r.mr)) continue;
    regions.add(r.mr);
    const k = seen.get(r.mr.name) ?? 0;
    seen.set(r.mr.name, k + 1);
    out.push({ name: k === 0 ? r.mr.name : `${r.mr.name}#${k}`, base: r.startN, size: Math.min(Number(r.size), MAX_SPAN) });
  }
  return out;
}

/** What a booted machine exposes to a CPU: MMIO ranges, I/O ranges, PCI functions. */
export function machineLayout(m: Machine): MachineLayout {
  return {
    mmio: ranges(m.systemAs.view),
    io: ranges(m.ioAs.view).filter((r) => r.name !== 'io'),
    pci: m.pciDevices().map((d) => ({ bdf: d.bdfString, type: d.typeName, bridge: d.isBridge })),
  };
}

/** Finds a region by name in the current flat view (BARs move when the guest reprograms them). */
export function findRegion(view: Machine['systemAs']['view'], name: string): RegionRef | undefined {
  const hash = name.lastIndexOf('#');
  const base = hash > 0 ? name.slice(0, hash) : name;
  let k = hash > 0 ? Number(name.slice(hash + 1)) : 0;
  const regions = new Set<object>();
  for (const r of view.ranges) {
    if (r.mr.kind !== 'mmio' || r.mr.name !== base || regions.has(r.mr)) continue;
    regions.add(r.mr);
    if (k-- === 0) return { name, base: r.startN, size: Number(r.size) };
  }
  return undefined;
}
