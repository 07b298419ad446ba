import { Tracer } from '../base/trace.js';
import { AddressSpace } from './address-space.js';
import { FlatView, flatRangeEqual, flatViewRoot, type FlatRange } from './flat-view.js';
import type { IommuTranslator } from './iommu-types.js';
import type { MemoryListener, MemoryRegionSection } from './listener.js';
import type { MmioOps } from './mmio-ops.js';
import { RamBlock } from './ram-block.js';
import {
  AliasRegion, ContainerRegion, IommuRegion, MmioRegion, RamRegion, toBig, type MemoryRegion, type TopologyOwner,
} from './region.js';

interface Registration {
  readonly listener: MemoryListener;
  readonly as: AddressSpace;
}

/** Re-renders caused by listeners that change the topology are bounded. */
const MAX_NESTED_UPDATES = 16;

/**
 * The memory of one machine: its regions' topology owner, address spaces,
 * transactions and listeners (QEMU's global memory state, held per machine
 * so that nothing is module-level).
 */
export class MemorySystem implements TopologyOwner {
  readonly addressSpaces: AddressSpace[] = [];
  /** The machine's tracer (off until a sink is attached; base/trace.ts). */
  readonly tracer = new Tracer();
  readonly ramBlocks: RamBlock[] = [];
  private readonly registrations: Registration[] = [];
  private depth = 0;
  private pending = false;
  private updating = false;
  /** Flat views by flat-view root, shared by address spaces (QEMU flat_views). */
  private views = new Map<MemoryRegion | null, FlatView>();

  // Factories (memory_region_init_*).
  container(name: string, size: number | bigint): ContainerRegion {
    return new ContainerRegion(this, name, toBig(size));
  }
  ram(name: string, size: number, opts: { readonly?: boolean } = {}): RamRegion {
    const block = new RamBlock(name, size);
    this.ramBlocks.push(block);
    const r = new RamRegion(this, name, block);
    r.readonly = opts.readonly ?? false;
    return r;
  }
  mmio(name: string, size: number | bigint, ops: MmioOps): MmioRegion {
    return new MmioRegion(this, name, toBig(size), ops);
  }
  alias(name: string, target: MemoryRegion, offset: number | bigint, size: number | bigint): AliasRegion {
    return new AliasRegion(this, name, target, toBig(offset), toBig(size));
  }
  iommu(name: string, size: number | bigint, translator: IommuTranslator): IommuRegion {
    return new IommuRegion(this, name, toBig(size), translator);
  }

  /** address_space_init. */
  addressSpace(root: MemoryRegion, name: string): AddressSpace {
    const as = new AddressSpace(root, name);
    const fvRoot = flatViewRoot(root);
    const shared = this.views.get(fvRoot);
    if (shared) as.view = shared;
    else this.views.set(fvRoot, as.view);
    this.addressSpaces.push(as);
    return as;
  }

  /** address_space_destroy: listeners see every range deleted. */
  destroyAddressSpace(as: AddressSpace): void {
    this.begin();
    as.root = null;
    this.pending = true;
    this.commit();
    const i = this.addressSpaces.indexOf(as);
    if (i >= 0) this.addressSpaces.splice(i, 1);
    for (let j = this.registrations.length - 1; j >= 0; j--) {
      if (this.registrations[j]!.as === as) this.registrations.splice(j, 1);
    }
  }

  // Transactions (memory_region_transaction_begin/commit), nestable.
  begin(): void {
    this.depth++;
  }
  commit(): void {
    if (this.depth === 0) throw new Error('memory transaction commit without begin');
    if (--this.depth === 0 && this.pending) this.update();
  }
  transaction<T>(fn: () => T): T {
    this.begin();
    try {
      return fn();
    } finally {
      this.commit();
    }
  }

  regionChanged(): void {
    this.pending = true;
    if (this.depth === 0 && !this.updating) this.update();
  }

  /** memory_listener_register: the listener is replayed the current ranges. */
  registerListener(as: AddressSpace, listener: MemoryListener): void {
    const reg = { listener, as };
    const p = listener.priority ?? 0;
    let i = this.registrations.length;
    while (i > 0 && (this.registrations[i - 1]!.listener.priority ?? 0) > p) i--;
    this.registrations.splice(i, 0, reg);
    listener.begin?.();
    for (const fr of as.view.ranges) listener.regionAdd?.(section(as, fr));
    listener.commit?.();
  }

  /** memory_listener_unregister: the listener sees every range deleted. */
  unregisterListener(listener: MemoryListener): void {
    const i = this.registrations.findIndex((r) => r.listener === listener);
    if (i < 0) return;
    const { as } = this.registrations[i]!;
    this.registrations.splice(i, 1);
    listener.begin?.();
    for (const fr of as.view.ranges) listener.regionDel?.(section(as, fr));
    listener.commit?.();
  }

  private update(): void {
    this.updating = true;
    try {
      for (let round = 0; this.pending; round++) {
        if (round >= MAX_NESTED_UPDATES) throw new Error('memory topology keeps changing inside listener callbacks');
        this.pending = false;
        const all = [...this.registrations];
        for (const r of all) r.listener.begin?.();
        const views = new Map<MemoryRegion | null, FlatView>();
        for (const as of [...this.addressSpaces]) {
          const fvRoot = as.root ? flatViewRoot(as.root) : null;
          let view = views.get(fvRoot);
          if (!view) {
            view = new FlatView(fvRoot);
            views.set(fvRoot, view);
          }
          const old = as.view;
          as.view = view;
          this.updateTopology(as, old, view);
        }
        this.views = views;
        for (const r of all) r.listener.commit?.();
      }
    } finally {
      this.updating = false;
    }
  }

  /** address_space_update_topology_pass, deleting pass then adding pass. */
  private updateTopology(as: AddressSpace, old: FlatView, now: FlatView): void {
    const regs = this.registrations.filter((r) => r.as === as);
    if (regs.length === 0) return;
    for (const adding of [false, true]) {
      let io = 0;
      let inew = 0;
      while (io < old.ranges.length || inew < now.ranges.length) {
        const fo = old.ranges[io];
        const fn = now.ranges[inew];
        if (fo && (!fn || fo.start < fn.start || (fo.start === fn.start && !flatRangeEqual(fo, fn)))) {
          if (!adding) for (let k = regs.length - 1; k >= 0; k--) regs[k]!.listener.regionDel?.(section(as, fo));
          io++;
        } else if (fo && fn && flatRangeEqual(fo, fn)) {
          if (adding) for (const r of regs) r.listener.regionNop?.(section(as, fn));
          io++;
          inew++;
        } else {
          if (adding) for (const r of regs) r.listener.regionAdd?.(section(as, fn!));
          inew++;
        }
      }
    }
  }
}

function section(as: AddressSpace, fr: FlatRange): MemoryRegionSection {
  return {
    as,
    mr: fr.mr,
    offsetWithinRegion: fr.offsetInRegion,
    offsetWithinAddressSpace: fr.start,
    size: fr.size,
    readonly: fr.readonly,
    nonvolatile: fr.nonvolatile,
  };
}
