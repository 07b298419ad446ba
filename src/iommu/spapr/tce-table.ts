import type { EventLog } from '../../base/event-log.js';
import {
  IOMMU_NONE, type AddressSpace, type ContainerRegion, type IOMMUTLBEntry, type MemorySystem,
} from '../../memory/index.js';
import type { IotlbCoherence } from '../coherence/coherence.js';
import { IOMMU_NOTIFIER_MAP, IOMMU_NOTIFIER_UNMAP, type IOMMUNotifier, type IOMMUNotifyEntry } from '../notifier.js';
import { CTX_FMT_TCE } from '../xlate/context-table.js';
import { H_PARAMETER, H_SUCCESS } from './papr.js';
import { TceArena } from './tce-arena.js';
import { TceIommuRegion } from './tce-region.js';

const CHUNK = 512;
const MASK64 = (1n << 64n) - 1n;

/** What every table of a machine shares. */
export interface TceTableHost {
  readonly sys: MemorySystem;
  readonly arena: TceArena;
  readonly coherence: IotlbCoherence;
  /** address_space_memory: where translated accesses and notifier entries point. */
  readonly targetAs: AddressSpace;
  readonly log: EventLog | undefined;
}

/** The last faulting DMA of a window (what `info iommu` shows; QEMU records nothing). */
export interface TceFault {
  readonly iova: number;
  readonly write: boolean;
  readonly reason: string;
}

const FAULT_REASONS: Record<number, string> = { 1: 'outside the window', 2: 'no permission in the TCE', 3: 'table unreadable', 4: 'real address beyond 52 bits' };
/** Faults logged per table before the log goes quiet (the counters keep counting). */
const MAX_LOGGED_FAULTS = 8;

/**
 * SpaprTceTable (include/hw/ppc/spapr.h; ref A1-A4): one DMA window of a
 * PHB, named by its LIOBN. Geometry: bus offset (the window's start on the
 * bus), IOMMU page shift, entry count (0: disabled). Entries are u64 TCEs
 * in the arena; bits 1:0 give the permission, the rest masked by the page
 * size the real address. The table is also translation context `ctx` of
 * the shared IOTLB (tagged by the LIOBN's low bits), published to the
 * context table so the engine and its workers walk it with tceWalk.
 *
 * `defWin` marks the default window as spapr_phb_dma_reset creates it; it
 * survives disable, as in QEMU, and the PHB decides what a new DDW in the
 * same slot inherits (phb-dma.ts).
 */
export class SpaprTceTable {
  nbTable = 0;
  busOffset = 0n;
  pageShift = 0;
  defWin = false;
  needVfio = false;
  skippingReplay = false;
  /**
   * PowerVM's tables (PHB property `persistent-tces`): the table belongs to
   * the PE, so removing or resetting a window leaves its entries, and the
   * next window in the slot sees them (ref A10). QEMU frees the table.
   */
  persist = false;
  readonly root: ContainerRegion;
  readonly iommu: TceIommuRegion;
  readonly stats = { puts: 0, maps: 0, unmaps: 0, faults: 0, needVfioSwitches: 0 };
  lastFault: TceFault | undefined;
  /** First arena entry of the table, -1 while it has none; `capacity` entries are held. */
  private start = -1;
  private capacity = 0;
  /** Chunks of 512 entries ever written since enable/reset: what zeroing and replay visit. */
  private touched = new Uint8Array(0);

  constructor(private readonly host: TceTableHost, readonly liobn: number, readonly ctx: number) {
    const hex = liobn.toString(16);
    this.root = host.sys.container(`tce-root-${hex}`, 1n << 64n);
    this.iommu = new TceIommuRegion(host.sys, `tce-iommu-${hex}`, host.targetAs, this);
  }

  get enabled(): boolean {
    return this.nbTable > 0;
  }
  /** Window size in bytes (nb_table << page_shift). */
  get windowSize(): bigint {
    return BigInt(this.nbTable) << BigInt(this.pageShift);
  }

  /**
   * spapr_tce_table_enable: allocate, size and map the window. False (and
   * nothing changed) when the arena cannot hold the table or nb is 0.
   */
  enable(pageShift: number, busOffset: bigint, nb: number): boolean {
    if (this.enabled || nb <= 0) return false;
    if (this.start < 0 || nb > this.capacity) {
      const start = this.host.arena.alloc(nb);
      if (start < 0) return false;
      this.releaseRun();
      this.start = start;
      this.capacity = nb;
      this.touched = new Uint8Array(Math.ceil(nb / CHUNK));
    }
    this.nbTable = nb;
    this.pageShift = pageShift;
    this.busOffset = busOffset;
    this.host.coherence.setContext(this.ctx, { format: CTX_FMT_TCE, root: TceArena.address(this.start), params: [nb, pageShift, 0, 0] });
    this.iommu.mr.setSize(this.windowSize);
    this.root.addSubregion(this.iommu.mr, busOffset);
    return true;
  }

  /** spapr_tce_table_disable: unmap the window and free the table (its entries go with it). */
  disable(): void {
    if (!this.enabled) return;
    this.root.removeSubregion(this.iommu.mr);
    this.iommu.mr.setSize(0);
    if (!this.persist) this.releaseRun();
    this.host.coherence.setContext(this.ctx, { format: 0, root: 0, params: [] });
    this.nbTable = 0;
    this.pageShift = 0;
    this.busOffset = 0n;
  }

  /** spapr_tce_reset: device (system) reset zeroes the entries, persistent ones too. */
  reset(): void {
    if (this.start < 0) return;
    this.zero();
    this.host.coherence.invalidateContext(this.ctx);
  }

  /** Zeroes what was written and gives the run back to the arena. */
  private releaseRun(): void {
    if (this.start < 0) return;
    this.zero();
    this.host.arena.release(this.start, this.capacity);
    this.start = -1;
    this.capacity = 0;
  }

  private zero(): void {
    const w = this.host.arena.words;
    for (let c = 0; c < this.touched.length; c++) {
      if (!this.touched[c]) continue;
      const from = (this.start + c * CHUNK) * 2;
      w.fill(0, from, Math.min(from + CHUNK * 2, (this.start + this.capacity) * 2));
      this.touched[c] = 0;
    }
  }

  /** Entry `index` as two u32 halves. */
  entry(index: number): { lo: number; hi: number } {
    const w = this.host.arena.words;
    const o = (this.start + index) * 2;
    return { lo: w[o]!, hi: w[o + 1]! };
  }

  /** The entry index of a bus address, or -1 outside the window (compared unsigned, so below bus_offset too). */
  indexOf(ioba: bigint): number {
    const rel = BigInt.asUintN(64, ioba - this.busOffset) >> BigInt(this.pageShift);
    return rel < BigInt(this.nbTable) ? Number(rel) : -1;
  }

  /**
   * put_tce_emu: store the raw TCE, then one notifier event for the page:
   * iova relative to the window, MAP when the TCE grants a permission,
   * otherwise UNMAP (an overwrite is a MAP with no UNMAP before it). The
   * table's own IOTLB entry for the page goes at once; the caller posts
   * the invalidation to workers and waits at the hcall's return.
   */
  put(ioba: bigint, tce: bigint): bigint {
    const index = this.indexOf(ioba);
    if (index < 0) return H_PARAMETER;
    const t = BigInt.asUintN(64, tce);
    this.store(index, Number(t & 0xffff_ffffn), Number(t >> 32n));
    const size = 2 ** this.pageShift;
    this.host.coherence.engine.iotlb.invalidateRange(this.ctx, index * size, size);
    return H_SUCCESS;
  }

  /**
   * The store and event of put_tce_emu for entry `index` (in range), the
   * TCE as u32 halves. No IOTLB work: a multi-TCE hypercall invalidates
   * its whole range around its loop (tce-hcalls.ts). The event is built
   * only when someone listens.
   */
  store(index: number, lo: number, hi: number): void {
    const w = this.host.arena.words;
    const o = (this.start + index) * 2;
    w[o] = lo;
    w[o + 1] = hi;
    this.touched[Math.floor(index / CHUNK)] = 1;
    const perm = lo & 3;
    this.stats.puts++;
    if (perm) this.stats.maps++;
    else this.stats.unmaps++;
    if (this.iommu.registeredNotifiers.length === 0) return;
    const shift = BigInt(this.pageShift);
    const mask = (1n << shift) - 1n;
    const t = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    this.iommu.notify(0, {
      type: perm ? IOMMU_NOTIFIER_MAP : IOMMU_NOTIFIER_UNMAP,
      entry: { targetAs: this.host.targetAs, iova: BigInt(index) << shift, translatedAddr: t & (MASK64 ^ mask), addrMask: mask, perm },
    });
  }

  /** get_tce_emu: the raw TCE of a bus address. */
  get(ioba: bigint): { ret: bigint; tce: bigint } {
    const index = this.indexOf(ioba);
    if (index < 0) return { ret: H_PARAMETER, tce: 0n };
    const e = this.entry(index);
    return { ret: H_SUCCESS, tce: (BigInt(e.hi) << 32n) | BigInt(e.lo) };
  }

  /** Calls fn for every entry with a permission (bits 1:0 != 0). */
  forEachValid(fn: (index: number, lo: number, hi: number) => void): void {
    const w = this.host.arena.words;
    for (let c = 0; c < this.touched.length; c++) {
      if (!this.touched[c]) continue;
      const end = Math.min((c + 1) * CHUNK, this.nbTable);
      for (let i = c * CHUNK; i < end; i++) {
        const o = (this.start + i) * 2;
        if (w[o]! & 3) fn(i, w[o]!, w[o + 1]!);
      }
    }
  }

  /** Entries that grant a permission (PAPR expects none left when a window is removed). */
  validCount(): number {
    let n = 0;
    this.forEachValid(() => n++);
    return n;
  }

  /**
   * spapr_tce_translate_iommu through the engine (IOTLB, then tceWalk):
   * `addr` is relative to the window. A fault has perm NONE; a real
   * access (flag RO or WO) that faults is counted and logged.
   */
  translate(addr: number, flag: number): IOMMUTLBEntry {
    const size = 2 ** this.pageShift;
    const page = addr - (addr % size);
    const eng = this.host.coherence.engine;
    const r = this.enabled ? eng.translate(this.ctx, addr, flag) : -1;
    if (r < 0) {
      if (flag !== IOMMU_NONE) this.fault(addr, flag, -r);
      return { targetAs: this.host.targetAs, iova: page, translatedAddr: 0, addrMask: size - 1, perm: IOMMU_NONE };
    }
    return { targetAs: this.host.targetAs, iova: page, translatedAddr: r - (r % size), addrMask: size - 1, perm: eng.walk.perm };
  }

  private fault(addr: number, flag: number, kind: number): void {
    const write = (flag & 2) !== 0;
    const reason = FAULT_REASONS[kind] ?? `fault ${kind}`;
    this.lastFault = { iova: addr, write, reason };
    if (this.stats.faults++ < MAX_LOGGED_FAULTS) {
      const bus = this.busOffset + BigInt(addr);
      this.host.log?.warn('spapr-tce', `LIOBN 0x${this.liobn.toString(16)}: DMA ${write ? 'write' : 'read'} at 0x${bus.toString(16)} blocked: ${reason}`);
    }
  }

  /** spapr_tce_replay: MAP every valid TCE to `n` (skipped while a new DDW is being created). */
  replay(n: IOMMUNotifier): void {
    if (this.skippingReplay || !this.enabled) return;
    const shift = BigInt(this.pageShift);
    const mask = (1n << shift) - 1n;
    this.forEachValid((i, lo, hi) => {
      const e: IOMMUNotifyEntry = {
        targetAs: this.host.targetAs, iova: BigInt(i) << shift, translatedAddr: ((BigInt(hi) << 32n) | BigInt(lo)) & (MASK64 ^ mask),
        addrMask: mask, perm: lo & 3,
      };
      n.notify(n, e);
    });
  }

  /** spapr_tce_set_need_vfio: QEMU re-allocates the table where VFIO can see it; ours is always shared, so it is a state flag. */
  setNeedVfio(on: boolean): void {
    if (on === this.needVfio) return;
    this.needVfio = on;
    this.stats.needVfioSwitches++;
  }
}
