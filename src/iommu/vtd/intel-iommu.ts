import type { EventLog } from '../../base/index.js';
import {
  type AddressSpace, type ContainerRegion, type IOMMUTLBEntry, type MemoryRegion,
  type MemorySystem, type MemTxAttrs, type MmioRegion,
} from '../../memory/index.js';
import { IotlbCoherence } from '../coherence/coherence.js';
import { ShootdownBus, type CoherenceMode } from '../coherence/shootdown-bus.js';
import { Iotlb, type IotlbOptions } from '../iotlb/iotlb.js';
import { EINVAL, ENOTSUP, IOMMU_NOTIFIER_DEVIOTLB_UNMAP, IOMMU_NOTIFIER_MAP, IOMMU_NOTIFIER_NONE, iommuError,
  type IOMMUNotifier, type IommuError } from '../notifier.js';
import { GuestRamView } from '../walk/guest-ram-view.js';
import { ContextTable, CTX_FMT_NONE } from '../xlate/context-table.js';
import { TranslationEngine } from '../xlate/engine.js';
import { VtdAddressSpace, type VtdAsOwner, type VtdBus, type VtdSharedRegions } from './vtd-as.js';
import { decideVtdConfig, type VtdConfig, type VtdProps } from './vtd-config.js';
import {
  VTD_TT_PASS_THROUGH, VtdContext, vtdLookupContext, type VtdContextParams,
} from './vtd-context.js';
import { VtdCsr } from './vtd-csr.js';
import { VtdFaults } from './vtd-faults.js';
import { vtdAddressSpaceUnmap, vtdRefreshAll, vtdReplay } from './vtd-invalidate.js';
import { vtdIrOps, type VtdIrState } from './vtd-ir.js';
import { vtdMmioOps } from './vtd-mmio.js';
import { vtdCachedContext, vtdTranslate, vtdTranslateBatch } from './vtd-translate.js';
import { VtdQueue } from './vtd-qi.js';
import { VTD_TRACK } from './vtd-trace.js';
import { DMAR_REG_SIZE, VTD_INTERRUPT_ADDR_SIZE, VTD_INTERRUPT_ADDR_FIRST } from './vtd-regs.js';
import { vtdInitRegisters } from './vtd-reset.js';

export interface IntelIommuOptions {
  readonly sys: MemorySystem;
  /** The "system" root region: the no-DMAR path aliases it ("vtd-sys-alias"). */
  readonly system: MemoryRegion;
  /** address_space_memory: translations target it; tables, descriptors and status writes go through it. */
  readonly memory: AddressSpace;
  readonly props?: Partial<VtdProps>;
  /** apic send_msi: fault and completion events, remapped interrupts. Default: a 4-byte write into `memory`. */
  readonly sendMsi?: (address: number, data: number) => void;
  readonly log?: EventLog;
  /** The main-thread IOTLB (QEMU has 1024 entries; the default here is the shared module's 4096, 4-way FIFO). */
  readonly iotlb?: IotlbOptions;
  readonly coherence?: CoherenceMode;
  /** IOTLB context tags available (one per device address space). */
  readonly contexts?: number;
}

/** Invalidation counters for `info iommu` and boot reports. */
export interface VtdInvalidationCounts {
  contextGlobal: number;
  contextDevice: number;
  iotlbGlobal: number;
  iotlbDomain: number;
  iotlbPage: number;
  deviceTlb: number;
  iec: number;
  wait: number;
  queueErrors: number;
  /** Register-based invalidations ignored because QI was enabled. */
  ignoredRegister: number;
}


/**
 * The Intel VT-d remapping unit as QEMU 7.2's intel-iommu models it in
 * legacy mode (hw/i386/intel_iommu.c; ref/smmuv3-vtd.md Part B): the
 * register block (vtd-mmio.ts, reset values in vtd-reset.ts), root and
 * context tables, second-level translation through the shared
 * TranslationEngine (IOTLB tagged per requester, the DID of each tag kept
 * for domain and page invalidations, a paging-structure cache), a context
 * cache with a generation counter, fault recording (vtd-faults.ts), the
 * invalidation queue (vtd-qi.ts) and register invalidation, notifier
 * policy and emission (vtd-invalidate.ts), interrupt remapping (vtd-ir.ts)
 * and one address space per (bus, devfn) (vtd-as.ts).
 */
export class IntelIommu implements VtdAsOwner {
  readonly cfg: VtdConfig;
  readonly csr = new VtdCsr();
  readonly faults: VtdFaults;
  readonly queue: VtdQueue;
  readonly mmio: MmioRegion;
  readonly ram: GuestRamView;
  readonly engine: TranslationEngine;
  readonly coherence: IotlbCoherence;
  readonly shared: VtdSharedRegions;
  readonly sysAlias: MemoryRegion;
  readonly sendMsi: (address: number, data: number) => void;
  readonly log: EventLog | undefined;
  readonly ctxParams: VtdContextParams;
  /** Latched root-table address (SRTP). */
  root = 0;
  dmarEnabled = false;
  readonly ir: VtdIrState = { enabled: false, root: 0, size: 0, eime: false };
  /** The context-cache generation; an address space's entry is valid while its generation equals this. */
  contextGen = 1;
  readonly inv: VtdInvalidationCounts = {
    contextGlobal: 0, contextDevice: 0, iotlbGlobal: 0, iotlbDomain: 0, iotlbPage: 0, deviceTlb: 0, iec: 0, wait: 0,
    queueErrors: 0, ignoredRegister: 0,
  };
  /** Address spaces by bus object, then devfn (QEMU vtd_as_by_busptr). */
  private readonly byBus = new Map<VtdBus, (VtdAddressSpace | undefined)[]>();
  readonly spaces: VtdAddressSpace[] = [];
  /** Address spaces with at least one notifier (QEMU vtd_as_with_notifiers; newest first). */
  readonly withNotifiers: VtdAddressSpace[] = [];
  /** The DID each IOTLB context tag's entries were filled under (-1: none). */
  readonly ctxDid: Int32Array;
  private readonly freeCtx: number[] = [];
  private nextCtx = 1;
  private readonly scratch = new VtdContext();

  constructor(readonly opts: IntelIommuOptions) {
    this.cfg = decideVtdConfig(opts.props);
    this.log = opts.log;
    const memory = opts.memory;
    this.sendMsi = opts.sendMsi ?? ((a, d) => void memory.write(a, 4, d >>> 0));
    this.ram = GuestRamView.fromAddressSpace(memory);
    const contexts = ContextTable.create(opts.contexts ?? 4096);
    this.ctxDid = new Int32Array(contexts.size).fill(-1);
    this.engine = new TranslationEngine(this.ram, contexts, Iotlb.create(opts.iotlb ?? {}));
    this.engine.trace = { tracer: opts.sys.tracer, where: VTD_TRACK };
    this.coherence = new IotlbCoherence(this.engine, ShootdownBus.create(opts.coherence ?? 'shootdown'));
    this.ctxParams = {
      awBits: this.cfg.awBits, sagaw: (this.cfg.capLo >>> 8) & 0x1f, dt: this.cfg.deviceIotlb, pt: this.cfg.pt,
    };
    this.faults = new VtdFaults(this.csr, (a, d) => this.sendMsi(a, d));
    this.queue = new VtdQueue(this);
    const sys = opts.sys;
    this.mmio = sys.mmio('intel_iommu', DMAR_REG_SIZE, vtdMmioOps(this));
    const irRegion = sys.mmio('vtd-ir', VTD_INTERRUPT_ADDR_SIZE, vtdIrOps(this.ram, this.ir,
      (m) => this.sendMsi(m.address, m.data),
      (reason, sid) => this.log?.warn('intel-iommu', `interrupt request from ${sid === undefined ? 'an unknown source' : sidText(sid)} dropped: fault reason 0x${reason.toString(16)}`)));
    const nodmar: ContainerRegion = sys.container('vtd-nodmar', 1n << 64n);
    this.sysAlias = sys.alias('vtd-sys-alias', opts.system, 0, opts.system.size);
    sys.transaction(() => {
      nodmar.addSubregion(this.sysAlias, 0, 0);
      nodmar.addSubregion(irRegion, VTD_INTERRUPT_ADDR_FIRST, 1);
    });
    this.shared = { nodmar, ir: irRegion };
    vtdInitRegisters(this);
  }

  /** vtd_find_add_as: the address space of (bus, devfn), created on first use. */
  addressSpace(bus: VtdBus, devfn: number): VtdAddressSpace {
    let list = this.byBus.get(bus);
    if (!list) {
      list = new Array<VtdAddressSpace | undefined>(256).fill(undefined);
      this.byBus.set(bus, list);
    }
    let as = list[devfn];
    if (!as) {
      const ctx = this.freeCtx.pop() ?? this.nextCtx++;
      if (ctx >= this.ctxDid.length) throw new RangeError(`intel-iommu: more than ${this.ctxDid.length - 1} device address spaces`);
      as = new VtdAddressSpace(this.opts.sys, bus, devfn, ctx, this.opts.memory, this.shared, this);
      list[devfn] = as;
      this.spaces.push(as);
      this.switchAddressSpace(as);
    }
    return as;
  }

  /** vtd_find_as_from_bus_num + dev_as[devfn]: by the bus number programmed now. */
  findBySid(sid: number): VtdAddressSpace | undefined {
    for (const [bus, list] of this.byBus) if ((bus.number & 0xff) === sid >>> 8) return list[sid & 0xff];
    return undefined;
  }

  /**
   * A device under this unit went away (PCIIOMMUOps.deviceRemoved). QEMU
   * keeps everything until the guest invalidates; viommu drops the
   * requester's context-cache entry, its IOTLB and paging-structure
   * entries and its shadow IOVA tree, so a device plugged in at the same
   * BDF starts clean. The address space and its regions stay (QEMU keeps
   * VTDAddressSpace), as do notifiers its consumers have not removed.
   */
  deviceRemoved(bus: VtdBus, devfn: number): void {
    const as = this.byBus.get(bus)?.[devfn];
    if (!as) return;
    as.ccGen = 0;
    as.iovaTree.clear();
    this.ctxDid[as.ctx] = -1;
    this.coherence.setContext(as.ctx, { format: CTX_FMT_NONE, root: 0, params: [] });
    this.coherence.quiesceSync();
  }

  /** System reset (vtd_reset): registers to their reset values, caches dropped, address spaces re-switched. */
  reset(): void {
    vtdInitRegisters(this);
    vtdRefreshAll(this);
  }

  /** The IOTLB context tags filled under `did`. */
  ctxsOfDomain(did: number): number[] {
    const out: number[] = [];
    for (const as of this.spaces) if (this.ctxDid[as.ctx] === did) out.push(as.ctx);
    return out;
  }

  /** Drops every cached translation and context (vtd_reset_caches). */
  resetCaches(): void {
    this.coherence.invalidateAll();
    for (const as of this.spaces) as.ccGen = 0;
    this.contextGen = 1;
  }

  /** A context-cache global invalidation: a new generation (wrapping as QEMU's VTD_CONTEXT_CACHE_GEN_MAX). */
  bumpContextGen(): void {
    this.contextGen++;
    if (this.contextGen >= 0x7fffffff) {
      for (const as of this.spaces) as.ccGen = 0;
      this.contextGen = 1;
    }
  }

  /** vtd_dev_to_context_entry with the current tables, bypassing the context cache (into `ce`). */
  readContext(as: VtdAddressSpace, ce: VtdContext = this.scratch): number {
    return vtdLookupContext(this.ram, this.root, this.ctxParams, as.bus.number & 0xff, as.devfn, ce);
  }

  /** The context of `as` through the context cache (vtd-translate.ts); 0 or a fault reason. */
  lookupContext(as: VtdAddressSpace): number {
    return vtdCachedContext(this, as);
  }

  /** vtd_dev_pt_enabled: the current context entry is present and pass-through. */
  private ptEnabled(as: VtdAddressSpace): boolean {
    const ce = new VtdContext();
    return this.readContext(as, ce) === 0 && ce.tt === VTD_TT_PASS_THROUGH;
  }

  /** vtd_switch_address_space: the IOMMU region when DMAR is on and the context is not pass-through. */
  switchAddressSpace(as: VtdAddressSpace): boolean {
    const use = this.dmarEnabled && !this.ptEnabled(as);
    if (use !== as.useIommu || as.iommu.mr.enabled === as.nodmar.enabled) as.switchTo(use);
    return use;
  }

  switchAll(): void {
    this.opts.sys.transaction(() => {
      for (const as of this.spaces) this.switchAddressSpace(as);
    });
  }

  /** vtd_iommu_translate (vtd-translate.ts). */
  translate(as: VtdAddressSpace, addr: number, flag: number, idx: number, _attrs: MemTxAttrs): IOMMUTLBEntry {
    return vtdTranslate(this, as, addr, flag, idx);
  }

  /** Batch translation for one requester (vtd-translate.ts). */
  translateBatch(as: VtdAddressSpace, access: number, iovas: Float64Array, from: number, to: number, out: Float64Array): number {
    return vtdTranslateBatch(this, as, access, iovas, from, to, out);
  }

  /**
   * vtd_iommu_notify_flag_changed (ref qemu-core.md section 4): every
   * notifier is refused with snoop control; MAP needs caching mode (the
   * guest then invalidates not-present -> present changes, which a
   * shadowing consumer needs); DEVIOTLB_UNMAP needs device-iotlb. All
   * -ENOTSUP with QEMU's texts. Accepted changes keep the address space's
   * flags and its place on the list of address spaces with notifiers.
   */
  notifyFlagChanged(as: VtdAddressSpace, oldFlags: number, newFlags: number): IommuError | null {
    if (this.cfg.snoopControl) return iommuError(ENOTSUP, 'Snoop Control with vhost or VFIO is not supported');
    if (!this.cfg.cachingMode && (newFlags & IOMMU_NOTIFIER_MAP)) {
      return iommuError(ENOTSUP, `device ${as.bdfText} requires caching mode`);
    }
    if (!this.cfg.deviceIotlb && (newFlags & IOMMU_NOTIFIER_DEVIOTLB_UNMAP)) {
      return iommuError(ENOTSUP, `device ${as.bdfText} requires device IOTLB mode`);
    }
    as.notifierFlags = newFlags;
    const i = this.withNotifiers.indexOf(as);
    if (oldFlags === IOMMU_NOTIFIER_NONE && i < 0) this.withNotifiers.unshift(as);
    else if (newFlags === IOMMU_NOTIFIER_NONE && i >= 0) this.withNotifiers.splice(i, 1);
    return null;
  }

  /** vtd_iommu_replay: unmap the notifier's range, then MAP every present translation (MAP notifiers only). */
  replay(as: VtdAddressSpace, n: IOMMUNotifier): IommuError | null {
    if (n.iommuIndex !== 0) return iommuError(EINVAL, `${as.iommu.name}: replay on iommu index ${n.iommuIndex}`);
    vtdAddressSpaceUnmap(this, as, n);
    vtdReplay(this, as, n);
    return null;
  }

}

/** "00:03.0" */
export function sidText(sid: number): string {
  const h = (v: number) => v.toString(16).padStart(2, '0');
  return `${h(sid >>> 8)}:${h((sid >>> 3) & 0x1f)}.${sid & 7}`;
}
