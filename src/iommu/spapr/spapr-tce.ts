import type { EventLog } from '../../base/event-log.js';
import { hex, type TraceTrack } from '../../base/trace.js';
import { MEMTX_OK, type AddressSpace, type ContainerRegion, type MemorySystem } from '../../memory/index.js';
import { IotlbCoherence } from '../coherence/coherence.js';
import { OP_RANGE, ShootdownBus, type CoherenceMode } from '../coherence/shootdown-bus.js';
import { Iotlb, type IotlbOptions } from '../iotlb/iotlb.js';
import type { IOMMUNotifier } from '../notifier.js';
import { GuestRamView } from '../walk/guest-ram-view.js';
import { ContextTable } from '../xlate/context-table.js';
import { TranslationEngine } from '../xlate/engine.js';
import { formatSpaprInfo } from './info.js';
import type { SpaprHcallRegistry, SpaprRtasRegistry } from './papr.js';
import { SpaprPhbDma, type SpaprPhbDmaOptions } from './phb-dma.js';
import { registerDdwRtas } from './rtas-ddw.js';
import { TceArena } from './tce-arena.js';
import { registerTceHcalls } from './tce-hcalls.js';
import type { SpaprTceTable, TceTableHost } from './tce-table.js';

/** The sPAPR TCE model's track in traces: IOTLB misses and fills, TCE hcall invalidations. */
const SPAPR_TRACK: TraceTrack = { group: 'vIOMMU', track: 'spapr-tce' };

/** PHB indexes QEMU allows (SPAPR_MAX_PHBS is 31): each gets 256 translation contexts (its LIOBNs' low byte). */
const MAX_PHBS = 32;

export interface SpaprTceOptions {
  readonly sys: MemorySystem;
  /** address_space_memory: guest RAM for the engine, TCE lists, the target of translations. */
  readonly systemAs: AddressSpace;
  readonly log?: EventLog;
  readonly hcalls: SpaprHcallRegistry;
  readonly rtas: SpaprRtasRegistry;
  readonly iotlb?: IotlbOptions;
  readonly coherence?: CoherenceMode;
  readonly arenaBytes?: number;
}

/**
 * The machine's sPAPR TCE model: the hypervisor side of every PHB's DMA
 * windows. It owns the table arena, one translation engine (IOTLB tagged
 * per window by the LIOBN's PHB index and window number, tceWalk on a
 * miss) with its worker coherence, and the hypercalls and DDW RTAS calls.
 * The return of every TCE hypercall and DDW call is a completion point:
 * invalidations have reached every translation worker before the guest
 * sees the result.
 */
export class SpaprTce implements TceTableHost {
  readonly sys: MemorySystem;
  readonly arena: TceArena;
  readonly coherence: IotlbCoherence;
  readonly targetAs: AddressSpace;
  readonly log: EventLog | undefined;
  readonly phbs: SpaprPhbDma[] = [];
  /** Requester IDs that asked for a DMA address space, per PHB index (info iommu "endpoints"). */
  readonly endpoints = new Map<number, Set<string>>();
  /** Names of notifier consumers, for info iommu (QEMU keeps none). */
  private readonly labels = new WeakMap<IOMMUNotifier, string>();

  constructor(opts: SpaprTceOptions) {
    this.sys = opts.sys;
    this.targetAs = opts.systemAs;
    this.log = opts.log;
    this.arena = new TceArena(opts.arenaBytes);
    const guest = GuestRamView.fromAddressSpace(opts.systemAs);
    const ram = new GuestRamView([...guest.windows, this.arena.window]);
    const engine = new TranslationEngine(ram, ContextTable.create(MAX_PHBS * 256), Iotlb.create(opts.iotlb ?? {}));
    engine.trace = { tracer: opts.sys.tracer, where: SPAPR_TRACK };
    this.coherence = new IotlbCoherence(engine, ShootdownBus.create(opts.coherence ?? 'shootdown'));
    registerTceHcalls(opts.hcalls, {
      findByLiobn: (l) => (l >> 32n === 0n ? this.findTable(Number(l))?.table : undefined),
      npagesZeroSucceeds: (t) => this.phbOfTable(t)?.opts.lopaprNpages0 ?? false,
      readTceList: (a, n) => this.readTceList(a, n),
      invalidateLocal: (t, first, count) => this.engine.iotlb.invalidateRange(t.ctx, first * 2 ** t.pageShift, count * 2 ** t.pageShift),
      complete: (t, first, count) => {
        const size = 2 ** t.pageShift;
        // The hcall's TCE updates invalidate; returning to the guest is their completion.
        if (opts.sys.tracer.on) opts.sys.tracer.complete(SPAPR_TRACK, 'inv', 'TCE invalidation (completion)', { liobn: hex(t.liobn), first, count });
        this.engine.iotlb.invalidateRange(t.ctx, first * size, count * size);
        this.coherence.bus.post(OP_RANGE, t.ctx, first * size, count * size);
        this.coherence.quiesceSync();
      },
    });
    registerDdwRtas({
      register: (token, name, fn) => opts.rtas.register(token, name, (c) => {
        this.sys.transaction(() => fn(c));
        this.coherence.quiesceSync();
      }),
    }, {
      findPhb: (buid) => this.phbs.find((p) => p.opts.buid === buid),
      findTable: (liobn) => this.findTable(liobn),
    });
  }

  get engine(): TranslationEngine {
    return this.coherence.engine;
  }

  /** A PHB's DMA side; its tables' roots go into `iommuRoot` (the PHB's DMA address space). */
  addPhb(opts: SpaprPhbDmaOptions, iommuRoot: ContainerRegion): SpaprPhbDma {
    if (!Number.isInteger(opts.index) || opts.index < 0 || opts.index >= MAX_PHBS) throw new RangeError(`PHB index ${opts.index} is not 0..${MAX_PHBS - 1}`);
    if (this.phbs.some((p) => p.opts.index === opts.index)) throw new RangeError(`PHB index ${opts.index} used twice`);
    const phb = new SpaprPhbDma(this, opts, iommuRoot, opts.index * 256, this.log);
    this.phbs.push(phb);
    return phb;
  }

  /** spapr_tce_find_by_liobn. */
  findTable(liobn: number): { table: SpaprTceTable; phb: SpaprPhbDma } | undefined {
    for (const phb of this.phbs) {
      const table = phb.tables.find((t) => t.liobn === liobn >>> 0);
      if (table) return { table, phb };
    }
    return undefined;
  }

  phbOfTable(t: SpaprTceTable): SpaprPhbDma | undefined {
    return this.phbs.find((p) => p.tables.includes(t));
  }

  /** ldq_be_phys of a TCE list: [hi, lo] per entry; entries nothing answers read as 0, as QEMU's unassigned memory. */
  private readTceList(addr: bigint, count: number): Uint32Array {
    const out = new Uint32Array(count * 2);
    const buf = new Uint8Array(count * 8);
    const dv = new DataView(buf.buffer);
    const whole = this.targetAs.readBytes(addr, buf) === MEMTX_OK;
    for (let i = 0; i < count; i++) {
      if (!whole) {
        buf.fill(0, i * 8, i * 8 + 8);
        this.targetAs.readBytes(addr + BigInt(i * 8), buf.subarray(i * 8, i * 8 + 8));
      }
      out[2 * i] = dv.getUint32(i * 8, false);
      out[2 * i + 1] = dv.getUint32(i * 8 + 4, false);
    }
    return out;
  }

  /** System reset: every PHB's tables zeroed and its default window back (spapr_phb_dma_reset). */
  reset(): void {
    this.sys.transaction(() => {
      for (const p of this.phbs) p.reset();
    });
    this.coherence.invalidateAll();
    this.coherence.quiesceSync();
  }

  /** A function asked the PHB for its DMA address space. */
  endpointAdded(phbIndex: number, name: string): void {
    let s = this.endpoints.get(phbIndex);
    if (!s) this.endpoints.set(phbIndex, (s = new Set()));
    s.add(name);
  }

  /**
   * A function went away (unplug). TCE windows belong to the PE, shared by
   * every function below the PHB, so the IOTLB (tagged per window) keeps
   * its entries; what was kept for the function alone goes.
   */
  endpointRemoved(phbIndex: number, name: string): void {
    this.endpoints.get(phbIndex)?.delete(name);
  }

  /** Names a notifier consumer for info iommu ("vfio container", "vhost"). */
  label(n: IOMMUNotifier, who: string): void {
    this.labels.set(n, who);
  }
  labelOf(n: IOMMUNotifier): string | undefined {
    return this.labels.get(n);
  }

  /** `info iommu`. */
  info(): string {
    return formatSpaprInfo(this);
  }
}
