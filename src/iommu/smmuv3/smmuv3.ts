import { ConfigError, IrqLine, type EventLog } from '../../base/index.js';
import { MEMTX_OK, type AddressSpace, type IOMMUTLBEntry, type MemorySystem, type MemTxAttrs, type MmioRegion } from '../../memory/index.js';
import { IotlbCoherence } from '../coherence/coherence.js';
import { ShootdownBus } from '../coherence/shootdown-bus.js';
import { Iotlb, type IotlbOptions } from '../iotlb/iotlb.js';
import { EINVAL, IOMMU_NOTIFIER_DEVIOTLB_UNMAP, IOMMU_NOTIFIER_MAP, iommuError, type IommuError } from '../notifier.js';
import { GuestRamView } from '../walk/guest-ram-view.js';
import { ContextTable } from '../xlate/context-table.js';
import { TranslationEngine } from '../xlate/engine.js';
import { SMMU_TRACK } from './trace-track.js';
import { consumeCommands } from './cmdq.js';
import { SmmuConfigCache } from './config-cache.js';
import { SmmuContexts } from './contexts.js';
import { SmmuEndpoint, type SmmuEndpointHost } from './endpoint.js';
import { describeEvent, encodeEvent, type SmmuEvent } from './events.js';
import { smmuMmioOps } from './mmio.js';
import { SmmuQueue } from './queue.js';
import {
  CR0_EVENTQEN, CR0_SMMUEN, GERROR_EVENTQ_ABT_ERR, IRQ_CTRL_EVENTQ_IRQEN, IRQ_CTRL_GERROR_IRQEN, SMMU_CMDQS, SMMU_EVENTQS,
  SMMU_IRQ_CMD_SYNC, SMMU_IRQ_EVTQ, SMMU_IRQ_GERROR, SMMU_IRQ_NAMES, SMMU_WINDOW, smmuIdr0, smmuIdr1,
} from './regs.js';
import type { SmmuDecodeOptions, StreamTable } from './ste.js';
import { SmmuTranslator, type SmmuXlateHost } from './translate.js';

export interface Smmuv3Options {
  /** IDR0.ATS: ATS in full emulation (Translation Requests, Translated traffic, CMD_ATC_INV -> DEVIOTLB_UNMAP). */
  readonly ats?: boolean;
  /** IDR1.SSIDSIZE: SubstreamID bits, 0..20 (0: no substreams, QEMU's value). */
  readonly ssidsize?: number;
  /** Reproduce QEMU 7.2's departures from the architecture (the list is in SMMUV3_QEMU72_DEPARTURES). */
  readonly qemu72?: boolean;
  readonly iotlb?: IotlbOptions;
  /** Translation contexts (distinct stage-1 regimes) the engine can hold. */
  readonly contexts?: number;
}

/** What x-qemu72=on changes, for the property's help text and the docs. */
export const SMMUV3_QEMU72_DEPARTURES: readonly string[] = [
  'GBPA is RAZ/WI (transactions bypass while SMMUEN=0)',
  'stage-1 fault records carry CLASS=0 instead of IN; F_CD_FETCH puts the CD address in ADDR',
  'C_BAD_STREAMID is recorded whatever CR2.RECINVSID says',
  'STRTAB_BASE_CFG.FMT=0 keeps a 2-level table; the tables are aligned to half their size; an L2 span allows 2^Span STEs',
  'STE.S1CDMax != 0 with SSIDSIZE=0 is C_BAD_STE; no address-size check on stage-1 bypass',
  'the configuration cache survives STRTAB_BASE writes and SMMUEN toggles',
  'CMD_ATC_INV, CMD_PRI_RESP, EL2/EL3 and stage-2 TLBIs are ignored instead of CERROR_ILL',
  'blocks are accepted at any level below 3',
];

const TWO32 = 0x1_0000_0000;
/** Restarts of the command queue asked from inside its own run (a GERROR handler acknowledging): see consume(). */
export const MAX_CMDQ_RESTARTS = 16;

/**
 * The Arm SMMUv3 (IHI 0070; QEMU hw/arm/smmuv3.c as of 7.2): the 128 KiB
 * register window, command and event queues in guest memory, the stream
 * table and context descriptors, stage-1 translation through the shared
 * engine, four wired interrupts, one IOMMU region per PCI function
 * (`endpoint`), notifier emission and its veto policy. Beyond QEMU: ATS
 * (ats=on) and substreams (ssidsize > 0) in full emulation.
 */
export class Smmuv3 implements SmmuXlateHost, SmmuEndpointHost {
  readonly decode: SmmuDecodeOptions;
  readonly idr0: number;
  readonly idr1: number;
  cr0 = 0;
  cr0ack = 0;
  cr1 = 0;
  cr2 = 0;
  gbpa = 0;
  irqCtrl = 0;
  gerror = 0;
  gerrorn = 0;
  /** GERROR_IRQ_CFG0 (halves), CFG1, CFG2; EVENTQ_IRQ_CFG0 (halves), CFG1, CFG2: stored, no MSIs (IDR0.MSI = 0). */
  readonly irqCfg = new Uint32Array(8);
  strtabBaseLo = 0;
  strtabBaseHi = 0;
  strtabBaseCfg = 0;
  twoLevel = false;
  readonly cmdq = new SmmuQueue(16, SMMU_CMDQS);
  readonly eventq = new SmmuQueue(32, SMMU_EVENTQS);
  /** sysbus IRQs 0..3: eventq, priq, cmdq-sync, gerror. */
  readonly irqs: readonly IrqLine[] = SMMU_IRQ_NAMES.map((n) => new IrqLine(`smmuv3.${n}`));
  readonly mmio: MmioRegion;
  readonly coherence: IotlbCoherence;
  readonly contexts: SmmuContexts;
  readonly cache: SmmuConfigCache;
  readonly translator: SmmuTranslator;
  readonly endpoints: SmmuEndpoint[] = [];
  private consuming = false;
  private consumeAgain = false;
  readonly stats = { translations: 0, events: 0, eventsDropped: 0, commands: 0, syncs: 0, atcInvalidations: 0, notifierEvents: 0 };
  /** The last event records written, decoded (info iommu). */
  readonly recentEvents: string[] = [];
  lastGuestError: string | undefined;

  constructor(readonly sys: MemorySystem, readonly systemAs: AddressSpace, readonly log: EventLog, opts: Smmuv3Options = {}) {
    const ssidsize = opts.ssidsize ?? 0;
    if (!Number.isInteger(ssidsize) || ssidsize < 0 || ssidsize > 20) throw new ConfigError('ssidsize', `${ssidsize} is not 0..20`);
    this.decode = { ssidsize, ats: opts.ats ?? false, qemu72: opts.qemu72 ?? false };
    this.idr0 = smmuIdr0(this.decode.ats, ssidsize);
    this.idr1 = smmuIdr1(ssidsize);
    const engine = new TranslationEngine(GuestRamView.fromAddressSpace(systemAs), ContextTable.create(opts.contexts ?? 4096),
      Iotlb.create(opts.iotlb ?? {}));
    engine.trace = { tracer: sys.tracer, where: SMMU_TRACK };
    this.coherence = new IotlbCoherence(engine, ShootdownBus.create('shootdown'));
    this.contexts = new SmmuContexts(this.coherence);
    this.cache = new SmmuConfigCache(this.contexts);
    this.translator = new SmmuTranslator(this, this.cache, this.contexts, this.coherence);
    this.mmio = sys.mmio('arm-smmuv3', SMMU_WINDOW, smmuMmioOps(this));
  }

  /** SMMU-originated reads of guest memory (address_space_memory): `count` LE words, or null on an abort. */
  readonly readWords = (addr: number, count: number): Uint32Array | null => {
    const buf = new Uint8Array(count * 4);
    if (!(addr >= 0 && addr + buf.length <= 2 ** 53) || this.systemAs.readBytes(addr, buf) !== MEMTX_OK) return null;
    const dv = new DataView(buf.buffer);
    const w = new Uint32Array(count);
    for (let i = 0; i < count; i++) w[i] = dv.getUint32(i * 4, true);
    return w;
  };

  streamTable(): StreamTable {
    return { baseLo: this.strtabBaseLo, baseHi: this.strtabBaseHi, cfg: this.strtabBaseCfg, twoLevel: this.twoLevel };
  }

  /** QEMU logs these under -d guest_errors; we keep the last one for `info iommu` (a log line per faulting DMA piece would flood the boot log). */
  logGuestError(text: string): void {
    this.lastGuestError = text;
  }

  /** A new endpoint for a PCI function at `devfn` (QEMU smmu_find_add_as); `sidOf` gives its requester ID now. */
  endpoint(devfn: number, sidOf: () => number): SmmuEndpoint {
    const ep = new SmmuEndpoint(this, `smmuv3-iommu-memory-region-${devfn}-${this.endpoints.length}`, devfn, sidOf, this.sys, this.systemAs);
    this.endpoints.push(ep);
    return ep;
  }

  /**
   * A function went away (unplug; QEMU keeps everything): its StreamID's
   * cached configuration and the translations of the contexts it used go,
   * so a new function at the same requester ID starts clean.
   */
  endpointRemoved(ep: SmmuEndpoint): void {
    for (const ctx of this.cache.flushSid(ep.sid)) this.coherence.invalidateContext(ctx);
    this.coherence.quiesceSync();
  }

  translateFor(ep: SmmuEndpoint, addr: number, flag: number, attrs: MemTxAttrs): IOMMUTLBEntry {
    this.stats.translations++;
    return this.translator.translate(ep.sid, addr, flag, attrs);
  }

  /**
   * smmuv3_notify_flag_changed: DEVIOTLB_UNMAP only with ats=on (QEMU's
   * text otherwise, checked first), MAP never: the architecture does not
   * make the guest invalidate on map, so a shadowing consumer would miss
   * mappings. UNMAP-only consumers (vhost) are fine.
   */
  notifyFlagChangedFor(ep: SmmuEndpoint, _oldFlags: number, newFlags: number): IommuError | null {
    if (newFlags & IOMMU_NOTIFIER_DEVIOTLB_UNMAP && !this.decode.ats) return iommuError(EINVAL, 'SMMUv3 does not support dev-iotlb yet');
    if (newFlags & IOMMU_NOTIFIER_MAP) {
      return iommuError(EINVAL, `device ${ep.bdfText} requires iommu MAP notifier which is not currently supported`);
    }
    return null;
  }

  /** Toggles GERROR bits not already pending and pulses the GERROR interrupt if enabled (smmuv3_trigger_irq). */
  raiseGerror(mask: number): void {
    const pending = this.gerror ^ this.gerrorn;
    const bits = ~pending & mask;
    if (!bits) return;
    this.gerror = (this.gerror ^ bits) >>> 0;
    if (this.irqCtrl & IRQ_CTRL_GERROR_IRQEN) this.irqs[SMMU_IRQ_GERROR]!.pulse();
  }

  /**
   * smmuv3_record_event / smmuv3_write_eventq: dropped while EVENTQEN = 0;
   * a full queue or a failed write toggles GERROR.EVENTQ_ABT_ERR; else the
   * record goes at PROD, PROD advances and the EVTQ interrupt pulses (if
   * IRQ_CTRL.EVENTQ_IRQEN).
   */
  recordEvent(e: SmmuEvent): void {
    if (!(this.cr0 & CR0_EVENTQEN)) {
      this.stats.eventsDropped++;
      return;
    }
    const q = this.eventq;
    const w = encodeEvent(e);
    const bytes = new Uint8Array(w.buffer);
    if (q.full || this.systemAs.writeBytes(q.prodEntry(), bytes) !== MEMTX_OK) {
      this.stats.eventsDropped++;
      this.raiseGerror(GERROR_EVENTQ_ABT_ERR);
      return;
    }
    q.incProd();
    this.stats.events++;
    this.recentEvents.push(describeEvent(w));
    if (this.recentEvents.length > 8) this.recentEvents.shift();
    if (!q.empty && this.irqCtrl & IRQ_CTRL_EVENTQ_IRQEN) this.irqs[SMMU_IRQ_EVTQ]!.pulse();
  }

  /**
   * Runs the command queue (a CMDQ_PROD or GERRORN write). Interrupts reach
   * the guest synchronously, so a GERROR handler that acknowledges from
   * inside the pulse re-enters here: the nested call only asks the running
   * one to go round again, at most MAX_CMDQ_RESTARTS times. A command that
   * keeps failing (an abort the guest cannot skip) would otherwise recurse
   * without end; past the bound the queue stays stopped until the next
   * CMDQ_PROD or GERRORN write, as an interrupt storm would leave it.
   */
  consume(): void {
    if (this.consuming) {
      this.consumeAgain = true;
      return;
    }
    this.consuming = true;
    try {
      for (let restarts = 0; ; restarts++) {
        this.consumeAgain = false;
        consumeCommands(this);
        if (!this.consumeAgain) break;
        if (restarts >= MAX_CMDQ_RESTARTS) {
          this.log.warn('smmuv3', `command queue error acknowledged ${restarts} times from its own interrupt; queue left stopped`);
          break;
        }
      }
    } finally {
      this.consuming = false;
    }
  }

  /** A configuration change the spec lets drop cached structures (STRTAB_BASE, SMMUEN); QEMU 7.2 keeps them. */
  configChanged(): void {
    if (!this.decode.qemu72) this.cache.flushAll();
  }

  // Commands (cmdq.ts calls these).
  cmdSync(cs: number): void {
    this.stats.syncs++;
    this.quiesce();
    if (cs === 1) this.irqs[SMMU_IRQ_CMD_SYNC]!.pulse();
  }
  cfgiSte(sid: number): void {
    this.cache.flushSid(sid);
  }
  cfgiRange(first: number, last: number): void {
    this.cache.flushRange(first, last);
  }
  cfgiCd(sid: number, ssid: number): void {
    this.cache.flushCd(sid, ssid);
  }
  cfgiCdAll(sid: number): void {
    this.cache.flushCds(sid);
  }
  /**
   * Completion point (CMD_SYNC): once it returns, no translation that
   * starts on any thread uses an entry removed before it, and those in
   * flight have finished (IotlbCoherence.quiesceSync).
   */
  quiesce(): void {
    this.coherence.quiesceSync();
  }

  /** Device reset (smmu_base_reset, smmuv3_init_regs): registers, queues, caches. GBPA resets to 0 as 7.2 reads it (10.2: 0x1000). */
  reset(): void {
    this.cr0 = this.cr0ack = this.cr1 = this.cr2 = 0;
    this.gbpa = this.irqCtrl = this.gerror = this.gerrorn = 0;
    this.irqCfg.fill(0);
    this.strtabBaseLo = this.strtabBaseHi = this.strtabBaseCfg = 0;
    this.twoLevel = false;
    this.cmdq.reset();
    this.eventq.reset();
    this.cache.flushAll();
    this.contexts.clear();
    this.coherence.invalidateAll();
    this.recentEvents.length = 0;
  }

  get smmuEnabled(): boolean {
    return (this.cr0 & CR0_SMMUEN) !== 0;
  }

  /** STRTAB_BASE as a number (address bits only), for info. */
  get strtabBase(): number {
    return (this.strtabBaseHi & 0xfffff) * TWO32 + ((this.strtabBaseLo & 0xffffffc0) >>> 0);
  }
}
