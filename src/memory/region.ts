import type { MemTxAttrs } from './attrs.js';
import type { RamBlock } from './ram-block.js';
import { resolveOps, type MmioOps, type ResolvedOps } from './mmio-ops.js';
import type { IommuTranslator } from './iommu-types.js';

/** What changes a region reports to its memory system (see memory-system.ts). */
export interface TopologyOwner {
  regionChanged(): void;
}

export type RegionKind = 'container' | 'ram' | 'mmio' | 'alias' | 'iommu';

export function toBig(v: number | bigint): bigint {
  if (typeof v === 'bigint') return v;
  if (!Number.isSafeInteger(v) && v !== 2 ** 64) throw new RangeError(`address or size ${v} is not an exact integer`);
  return BigInt(v);
}

export const SIZE_2_64 = 1n << 64n;

/**
 * A memory region, QEMU's MemoryRegion (docs/devel/memory.rst). Addresses
 * and sizes are bigint here: this is the control plane, where ranges reach
 * 2^64. The hot path reads the rendered flat view instead.
 */
export abstract class MemoryRegion {
  abstract readonly kind: RegionKind;
  /** Region offset within its container. */
  addr = 0n;
  priority = 0;
  enabled = true;
  readonly = false;
  nonvolatile = false;
  container: MemoryRegion | null = null;
  /** Children sorted by priority, highest first; at equal priority newest first. */
  readonly subregions: MemoryRegion[] = [];

  constructor(readonly owner: TopologyOwner, readonly name: string, public size: bigint) {
    if (size < 0n || size > SIZE_2_64) throw new RangeError(`region '${name}': bad size ${size}`);
  }

  /** RAM, MMIO and IOMMU regions terminate; containers and aliases do not. */
  get terminates(): boolean {
    return this.kind !== 'container' && this.kind !== 'alias';
  }

  /** memory_region_add_subregion(_overlap). */
  addSubregion(child: MemoryRegion, offset: number | bigint, priority = 0): void {
    if (child.container) {
      throw new Error(`region '${child.name}' is already mapped in '${child.container.name}'`);
    }
    if (this.kind === 'alias') throw new Error(`alias '${this.name}' cannot have subregions`);
    child.container = this;
    child.addr = toBig(offset);
    child.priority = priority;
    this.insertSorted(child);
    this.owner.regionChanged();
  }

  /** memory_region_del_subregion. */
  removeSubregion(child: MemoryRegion): void {
    const i = this.subregions.indexOf(child);
    if (i < 0) throw new Error(`region '${child.name}' is not a subregion of '${this.name}'`);
    this.subregions.splice(i, 1);
    child.container = null;
    this.owner.regionChanged();
  }

  setEnabled(enabled: boolean): void {
    if (this.enabled === enabled) return;
    this.enabled = enabled;
    this.owner.regionChanged();
  }

  /** memory_region_set_address: moves the region within its container. */
  setAddress(addr: number | bigint): void {
    const a = toBig(addr);
    if (a === this.addr) return;
    const c = this.container;
    if (c) {
      // Re-insert, as QEMU does, so the region becomes the newest among equals.
      c.subregions.splice(c.subregions.indexOf(this), 1);
      this.addr = a;
      c.insertSorted(this);
    } else {
      this.addr = a;
    }
    this.owner.regionChanged();
  }

  setReadonly(readonly: boolean): void {
    if (this.readonly === readonly) return;
    this.readonly = readonly;
    this.owner.regionChanged();
  }

  setSize(size: number | bigint): void {
    const s = toBig(size);
    if (s === this.size) return;
    this.size = s;
    this.owner.regionChanged();
  }

  /** Inserts before the first sibling with priority <= its own (QEMU). */
  private insertSorted(child: MemoryRegion): void {
    let i = 0;
    while (i < this.subregions.length && this.subregions[i]!.priority > child.priority) i++;
    this.subregions.splice(i, 0, child);
  }
}

export class ContainerRegion extends MemoryRegion {
  readonly kind = 'container';
}

/** RAM backed by a whole RamBlock; readonly makes it ROM. */
export class RamRegion extends MemoryRegion {
  readonly kind = 'ram';
  constructor(owner: TopologyOwner, name: string, readonly block: RamBlock) {
    super(owner, name, BigInt(block.size));
  }
}

export class MmioRegion extends MemoryRegion {
  readonly kind = 'mmio';
  readonly resolved: ResolvedOps;
  constructor(owner: TopologyOwner, name: string, size: bigint, ops: MmioOps) {
    super(owner, name, size);
    this.resolved = resolveOps(ops);
  }
}

/** A window onto another region (memory_region_init_alias); chains allowed. */
export class AliasRegion extends MemoryRegion {
  readonly kind = 'alias';
  constructor(owner: TopologyOwner, name: string, readonly target: MemoryRegion, public aliasOffset: bigint, size: bigint) {
    super(owner, name, size);
    for (let t: MemoryRegion | null = target; t; t = t instanceof AliasRegion ? t.target : null) {
      if (t === this) throw new Error(`alias '${name}' would form a cycle`);
    }
  }

  setAliasOffset(offset: number | bigint): void {
    const o = toBig(offset);
    if (o === this.aliasOffset) return;
    this.aliasOffset = o;
    this.owner.regionChanged();
  }
}

/**
 * An IOMMU region: accesses are translated at access time by `translator`
 * and continue in the entry's target address space. The notifier API lives
 * in src/iommu, which implements IommuTranslator.
 */
export class IommuRegion extends MemoryRegion {
  readonly kind = 'iommu';
  constructor(owner: TopologyOwner, name: string, size: bigint, readonly translator: IommuTranslator) {
    super(owner, name, size);
  }

  attrsToIndex(attrs: MemTxAttrs): number {
    return this.translator.attrsToIndex ? this.translator.attrsToIndex(attrs) : 0;
  }
}
