import {
  AliasRegion, IOMMU_NONE, IommuRegion, MEMTXATTRS_UNSPECIFIED, type AddressSpace, type IOMMUTLBEntry,
  type IommuTranslator, type MemoryRegion, type MemorySystem, type MemTxAttrs,
} from '../memory/index.js';
import {
  E2BIG, IOMMU_NOTIFIER_DEVIOTLB_UNMAP, IOMMU_NOTIFIER_NONE, IOMMU_NOTIFIER_UNMAP, iommuError, type IOMMUNotifier, type IOMMUNotifyEntry,
  type IOMMUTLBEvent, type IommuError,
} from './notifier.js';
import { hex, type TraceTrack, type Tracer } from '../base/trace.js';

/** What a vIOMMU may supply instead of subclassing (IOMMUMemoryRegionClass). */
export interface IommuRegionOps {
  translate?(addr: number, flag: number, iommuIndex: number, attrs: MemTxAttrs): IOMMUTLBEntry;
  getMinPageSize?(): number;
  numIndexes?(): number;
  attrsToIndex?(attrs: MemTxAttrs): number;
  /** Return an error to veto the new flag union (the registration is undone). */
  notifyFlagChanged?(oldFlags: number, newFlags: number): IommuError | null;
  replay?(n: IOMMUNotifier): IommuError | null;
  /** IommuTranslator.refusedPieceLength (default: the rest of the page). */
  refusedPieceLength?(len: number, addr: number): number;
}

export interface IommuRegionOptions {
  /** address_space_memory: the target of memory_region_unmap_iommu_notifier_range events. */
  readonly targetAs?: AddressSpace | null;
  readonly ops?: IommuRegionOps;
}

/** The default replay refuses ranges longer than this many minimum pages. */
export const MAX_DEFAULT_REPLAY_PAGES = 1 << 20;

/**
 * An IOMMU memory region with QEMU's notifier semantics (system/memory.c,
 * ref/qemu-core.md section 2). The memory-side region (`mr`, an
 * IommuRegion) translates accesses through this object; vIOMMUs subclass
 * it and override translate / notifyFlagChanged / replay, or pass `ops`.
 */
export class IommuMemoryRegion implements IommuTranslator {
  readonly mr: IommuRegion;
  readonly targetAs: AddressSpace | null;
  /** Newest first (QLIST_INSERT_HEAD). */
  private readonly notifiers: IOMMUNotifier[] = [];
  /** The cached union of notifier flags (iommu_notify_flags). */
  private notifyFlags = IOMMU_NOTIFIER_NONE;
  protected readonly ops: IommuRegionOps;

  /** The machine's tracer (notifier deliveries). */
  protected readonly tracer: Tracer;

  constructor(sys: MemorySystem, readonly name: string, size: number | bigint, opts: IommuRegionOptions = {}) {
    this.tracer = sys.tracer;
    this.ops = opts.ops ?? {};
    this.targetAs = opts.targetAs ?? null;
    this.mr = sys.iommu(name, size, this);
  }

  /** translate(iommu, addr, flag, idx). The default, with no ops, translates nothing. */
  translate(addr: number, flag: number, iommuIndex: number, attrs: MemTxAttrs): IOMMUTLBEntry {
    if (this.ops.translate) return this.ops.translate(addr, flag, iommuIndex, attrs);
    return { targetAs: null, iova: addr - (addr % 4096), translatedAddr: 0, addrMask: 0xfff, perm: IOMMU_NONE };
  }
  refusedPieceLength(len: number, addr: number): number {
    return this.ops.refusedPieceLength?.(len, addr) ?? len;
  }
  getMinPageSize(): number {
    return this.ops.getMinPageSize?.() ?? 4096;
  }
  numIndexes(): number {
    return this.ops.numIndexes?.() ?? 1;
  }
  attrsToIndex(attrs: MemTxAttrs): number {
    return this.ops.attrsToIndex?.(attrs) ?? 0;
  }
  notifyFlagChanged(oldFlags: number, newFlags: number): IommuError | null {
    return this.ops.notifyFlagChanged?.(oldFlags, newFlags) ?? null;
  }

  /** The cached flag union, as the vIOMMU last accepted it. */
  get iommuNotifyFlags(): number {
    return this.notifyFlags;
  }
  /** The registered notifiers, newest first. */
  get registeredNotifiers(): readonly IOMMUNotifier[] {
    return this.notifiers;
  }

  /**
   * memory_region_register_iommu_notifier on this region. Programming
   * errors (no flags, start > end, bad index) throw, as QEMU asserts; a
   * vIOMMU veto is returned and leaves no trace.
   */
  registerNotifier(n: IOMMUNotifier): IommuError | null {
    if (n.notifierFlags === IOMMU_NOTIFIER_NONE) throw new RangeError(`${this.name}: notifier with no flags`);
    if (n.start > n.end) throw new RangeError(`${this.name}: notifier start ${n.start} > end ${n.end}`);
    if (!Number.isInteger(n.iommuIndex) || n.iommuIndex < 0 || n.iommuIndex >= this.numIndexes()) {
      throw new RangeError(`${this.name}: notifier iommu index ${n.iommuIndex} out of range`);
    }
    if (this.notifiers.includes(n)) throw new Error(`${this.name}: notifier registered twice`);
    this.notifiers.unshift(n);
    const err = this.updateFlags();
    if (err) this.notifiers.splice(this.notifiers.indexOf(n), 1);
    return err;
  }

  /** memory_region_unregister_iommu_notifier: recomputes the union (errors ignored, errp = NULL). */
  unregisterNotifier(n: IOMMUNotifier): void {
    const i = this.notifiers.indexOf(n);
    if (i < 0) return;
    this.notifiers.splice(i, 1);
    this.updateFlags();
  }

  /** memory_region_update_iommu_notify_flags: offer a changed union to the vIOMMU. */
  private updateFlags(): IommuError | null {
    let flags = IOMMU_NOTIFIER_NONE;
    for (const n of this.notifiers) flags |= n.notifierFlags;
    if (flags === this.notifyFlags) return null;
    const err = this.notifyFlagChanged(this.notifyFlags, flags);
    if (!err) this.notifyFlags = flags;
    return err;
  }

  /**
   * memory_region_notify_iommu: deliver to notifiers of `iommuIndex`. An
   * UNMAP carrying a permission is refused as an error (QEMU asserts).
   */
  notify(iommuIndex: number, event: IOMMUTLBEvent): IommuError | null {
    const trace = this.notifyTrace();
    for (const n of [...this.notifiers]) {
      if (n.iommuIndex !== iommuIndex) continue;
      const err = notifyOne(n, event, trace);
      if (err) return err;
    }
    return null;
  }

  /** Where deliveries are traced, while the machine's tracer is on. */
  notifyTrace(): NotifyTrace | undefined {
    return this.tracer.on ? { tracer: this.tracer, where: { group: 'vIOMMU notifiers', track: this.name } } : undefined;
  }

  /** memory_region_notify_iommu_one for one of this region's notifiers (replays, per-notifier UNMAPs), traced. */
  deliver(n: IOMMUNotifier, event: IOMMUTLBEvent): IommuError | null {
    return notifyOne(n, event, this.notifyTrace());
  }

  /** memory_region_unmap_iommu_notifier_range: UNMAP the notifier's whole range to it alone. */
  unmapNotifierRange(n: IOMMUNotifier): void {
    this.deliver(n, {
      type: IOMMU_NOTIFIER_UNMAP,
      entry: { targetAs: this.targetAs, iova: n.start, translatedAddr: 0n, addrMask: n.end - n.start, perm: IOMMU_NONE },
    });
  }

  /**
   * memory_region_iommu_replay. The default translates each minimum page
   * with IOMMU_NONE and calls notify directly for entries with a
   * permission (no crop, no flag filter). Deviation from QEMU, which steps
   * over the whole region from 0: we step over the part of the region the
   * notifier covers, and refuse more than MAX_DEFAULT_REPLAY_PAGES steps
   * (a vIOMMU with large spaces overrides replay with a table walk).
   */
  replay(n: IOMMUNotifier): IommuError | null {
    if (this.ops.replay) return this.ops.replay(n);
    const page = BigInt(this.getMinPageSize());
    const size = this.mr.size;
    let start = n.start - (n.start % page);
    const last = n.end < size - 1n ? n.end : size - 1n;
    if (start > last) return null;
    const limit = (1n << 53n) - page;
    if ((last - start) / page + 1n > BigInt(MAX_DEFAULT_REPLAY_PAGES) || last > limit) {
      return iommuError(E2BIG, `${this.name}: default replay over [0x${start.toString(16)}, 0x${last.toString(16)}] is too large`);
    }
    for (; start <= last; start += page) {
      const e = this.translate(Number(start), IOMMU_NONE, n.iommuIndex, MEMTXATTRS_UNSPECIFIED);
      if (e.perm !== IOMMU_NONE) n.notify(n, toNotifyEntry(e));
    }
    return null;
  }
}

/** The number-valued translate result as notifiers see it (exact bigint). */
export function toNotifyEntry(e: IOMMUTLBEntry): IOMMUNotifyEntry {
  const out: IOMMUNotifyEntry = {
    targetAs: e.targetAs, iova: BigInt(e.iova), translatedAddr: BigInt(e.translatedAddr), addrMask: BigInt(e.addrMask),
    perm: e.perm,
  };
  if (e.pasid !== undefined) out.pasid = e.pasid;
  return out;
}

/**
 * memory_region_notify_iommu_one: (1) an UNMAP must carry perm NONE (before
 * any range check); (2) events that miss [start, end] are dropped; (3) the
 * entry is cropped to the notifier range; (4) delivered only if the event
 * type is among the notifier's flags.
 */
export function notifyOne(n: IOMMUNotifier, event: IOMMUTLBEvent, trace?: NotifyTrace): IommuError | null {
  const e = event.entry;
  if (event.type === IOMMU_NOTIFIER_UNMAP && e.perm !== IOMMU_NONE) {
    return iommuError(22, `UNMAP event at 0x${e.iova.toString(16)} carries permission ${e.perm}`);
  }
  const entryEnd = e.iova + e.addrMask;
  if (n.start > entryEnd || n.end < e.iova) return null;
  if (!(event.type & n.notifierFlags)) return null;
  const iova = e.iova > n.start ? e.iova : n.start;
  const end = entryEnd < n.end ? entryEnd : n.end;
  const cropped: IOMMUNotifyEntry = { ...e, iova, addrMask: end - iova };
  if (trace === undefined) {
    n.notify(n, cropped);
    return null;
  }
  // A span per delivery: what the consumer does (vhost IOTLB message, VFIO map) nests inside.
  const name = event.type === IOMMU_NOTIFIER_UNMAP ? 'notify UNMAP' : event.type === IOMMU_NOTIFIER_DEVIOTLB_UNMAP ? 'notify DEVIOTLB_UNMAP' : 'notify MAP';
  trace.tracer.begin(trace.where, 'notify', name, {
    iova: hex(Number(iova)), size: hex(Number(cropped.addrMask) + 1), perm: cropped.perm, flags: n.notifierFlags,
  });
  n.notify(n, cropped);
  trace.tracer.end(trace.where, 'notify', name);
  return null;
}

/** Where notifyOne records a delivery (when the machine's tracer is on). */
export interface NotifyTrace {
  readonly tracer: Tracer;
  readonly where: TraceTrack;
}

/**
 * The IOMMU region behind `mr`, following aliases to their targets (QEMU
 * recurses through aliases when registering notifiers). Throws if the
 * target is not an IOMMU region (QEMU asserts).
 */
export function iommuRegionOf(mr: MemoryRegion): IommuMemoryRegion {
  let cur: MemoryRegion = mr;
  while (cur instanceof AliasRegion) cur = cur.target;
  if (cur instanceof IommuRegion && cur.translator instanceof IommuMemoryRegion) return cur.translator;
  throw new TypeError(`region '${mr.name}' is not an IOMMU region`);
}

/** memory_region_register_iommu_notifier(mr, n, errp), aliases included. */
export function registerIommuNotifier(mr: MemoryRegion | IommuMemoryRegion, n: IOMMUNotifier): IommuError | null {
  return (mr instanceof IommuMemoryRegion ? mr : iommuRegionOf(mr)).registerNotifier(n);
}

/** memory_region_unregister_iommu_notifier(mr, n), aliases included. */
export function unregisterIommuNotifier(mr: MemoryRegion | IommuMemoryRegion, n: IOMMUNotifier): void {
  (mr instanceof IommuMemoryRegion ? mr : iommuRegionOf(mr)).unregisterNotifier(n);
}
