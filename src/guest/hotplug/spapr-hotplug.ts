import type { GuestTimer } from '../clock.js';
import type { FdtNode } from '../fw/fdt/fdt.js';
import type { GuestKernel } from '../kernel.js';
import { ParseError } from '../util/result.js';
import {
  HP_ACTION_ADD, HP_ACTION_REMOVE, HP_ID_DRC_INDEX, HP_TYPE_PCI, hpTypeName, parseRtasHotplugLog, RTAS_HOTPLUG_EVENTS, RTAS_TYPE_HOTPLUG,
  RTAS_VECTOR_EXTERNAL_INTERRUPT, type HotplugEvent,
} from './rtas-hotplug-log.js';
import { DR_ENTITY_PRESENT, DRC_TYPE_PCI, DrcRtas, drcsOf, drcTokensOf } from './spapr-drc.js';
import { IrqThread } from './irq-thread.js';
import { dlparAddSlot, dlparRemoveSlot, SpaprDrcSlot, vfioHolders, type DlparContext } from './spapr-slot.js';

export interface SpaprHotplugOptions {
  /**
   * What completes a removal the machine asks for (device_del): 'script'
   * waits until acknowledge() is called (a test script or an operator
   * runs drmgr, so a request can also stay unanswered); 'linux' removes at
   * once, as rtas_errd does when it runs `drmgr -c pci -r` on the event.
   */
  readonly unplugAck?: 'script' | 'linux';
}

/** rtas-error-log-max when /rtas does not say (RTAS_ERROR_LOG_MAX). */
const RTAS_ERROR_LOG_MAX = 2048;
/** check-exception calls per interrupt before the guest gives up on a machine that never says "no more". */
const MAX_EVENTS_PER_IRQ = 256;
/** vfio_unregister_group_dev asks the user again every 10 s (wait_for_completion_interruptible_timeout(HZ * 10)). */
const VFIO_REQUEST_PERIOD_NS = 10_000_000_000;

const BDF = /^(?:([0-9a-f]{4}):)?([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i;

/**
 * PCI hot-plug on pseries as Linux and powerpc-utils do it: the hot-plug
 * event source's interrupt (ras.c ras_hotplug_interrupt) fetches the
 * event with check-exception; a PCI event (which the kernel leaves to
 * user space) makes rtas_errd run `drmgr -c pci -a|-r -s INDEX`, which
 * drives the connector (sensors, indicators, configure-connector) and asks
 * the kernel's rpadlpar_io to add or remove the slot's devices.
 */
export class SpaprPciHotplug {
  readonly slots: SpaprDrcSlot[] = [];
  readonly unplugAck: 'script' | 'linux';
  private readonly ctx: DlparContext;
  private readonly irqWork: GuestTimer;
  private readonly vfioWait: GuestTimer;
  private buf: number | undefined;
  private readonly irqThread = new IrqThread(() => this.fetchEvents());

  private constructor(readonly k: GuestKernel, readonly phb: FdtNode, readonly rtas: DrcRtas, readonly irq: number,
    private readonly logMax: number, opts: SpaprHotplugOptions) {
    this.unplugAck = opts.unplugAck ?? 'script';
    this.ctx = { k, phb, rtas };
    this.irqWork = k.clock.timer(() => this.service(), 'ras-hotplug');
    this.vfioWait = k.clock.timer(() => this.retryBlocked(), 'vfio-request');
  }

  /**
   * Set-up at boot (init_ras_hotplug_IRQ and rpaphp's slot scan): needs
   * /event-sources/hot-plug-events, the DLPAR RTAS calls and a PHB with
   * ibm,drc-indexes. Slots whose device is already in the guest start
   * configured (the firmware configured them). Queued events are fetched
   * at once. Returns undefined where pseries PCI hot-plug is not offered.
   */
  static probe(k: GuestKernel, opts: SpaprHotplugOptions = {}): SpaprPciHotplug | undefined {
    const t = k.firmware.fdt;
    if (!t || !k.pci || k.port.board !== 'pseries') return undefined;
    const src = t.byPath('/event-sources/hot-plug-events');
    const rtasNode = t.byPath('/rtas');
    const phb = k.firmware.hostNode;
    if (!src || !rtasNode || !phb || !phb.has('ibm,drc-indexes')) return undefined;
    try {
      const irq = src.cells('interrupts')?.[0];
      if (irq === undefined) throw new ParseError(`${src.path}: no interrupts`);
      const tokens = drcTokensOf(rtasNode);
      if (typeof tokens === 'string') throw new ParseError(tokens);
      const hp = new SpaprPciHotplug(k, phb, new DrcRtas(k.port, tokens), irq, rtasNode.u32('rtas-error-log-max') ?? RTAS_ERROR_LOG_MAX, opts);
      hp.scanSlots();
      k.port.onIrqLine((line, level) => {
        if (line === irq && level) hp.irqWork.mod(k.clock.now());
      });
      k.log.info('RAS', `hot-plug events on interrupt 0x${irq.toString(16)}; ${hp.slots.length} PCI connectors on ${phb.path} (${hp.slots.filter((s) => s.state === 'configured').length} configured)`);
      hp.service();
      return hp;
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      k.firmware.errors.push(`pseries hot-plug: ${e.message}`);
      k.log.err('RAS', `pseries PCI hot-plug not set up: ${e.message}`);
      return undefined;
    }
  }

  private scanSlots(): void {
    const root = this.k.pci!.root;
    for (const d of drcsOf(this.phb)) {
      if (d.type !== DRC_TYPE_PCI) continue;
      const bus = (d.index >>> 8) & 0xff;
      if (bus !== 0) {
        this.k.log.warn('RAS', `connector ${d.name} (0x${d.index.toString(16)}) is on bus ${bus} below the PHB: not handled`);
        continue;
      }
      const devfn = d.index & 0xff;
      const present = root.devices.some((f) => f.devfn === devfn);
      const slot = new SpaprDrcSlot(d.index >>> 0, d.name, root.number, devfn, 'empty');
      if (present) {
        const sense = this.rtas.entitySense(d.index);
        if (sense.status !== 0 || sense.state !== DR_ENTITY_PRESENT) this.k.log.warn('RAS', `${d.name}: the device ${slot.bdf} is in the guest but dr-entity-sense says ${sense.status !== 0 ? `status ${sense.status}` : 'empty'}`);
        slot.state = 'configured';
        slot.node = this.phb.children.find((c) => ((c.cells('reg')?.[0] ?? -1) >>> 8 & 0xff) === devfn);
      }
      this.slots.push(slot);
    }
  }

  /**
   * A slot by the DRC name ("C24"), its index in hex ("0x40000018"), or
   * the function's address ("0000:00:03.0" or "00:03.0").
   */
  slotByRef(ref: string): SpaprDrcSlot | undefined {
    const r = ref.trim();
    const byName = this.slots.find((s) => s.name === r);
    if (byName) return byName;
    if (/^0x[0-9a-f]+$/i.test(r)) return this.slots.find((s) => s.index === parseInt(r, 16));
    const m = BDF.exec(r);
    if (m && parseInt(m[1] ?? '0', 16) === 0) {
      const bus = parseInt(m[2]!, 16);
      const devfn = (parseInt(m[3]!, 16) << 3) | parseInt(m[4]!, 10);
      return this.slots.find((s) => s.busNumber === bus && s.devfn === devfn);
    }
    return undefined;
  }

  /**
   * ras_hotplug_interrupt, repeated until check-exception says there is no
   * more (QEMU raises the interrupt again while events remain): each log
   * is decoded and a PCI event handed to rtas_errd's handling. Runs again
   * if an interrupt arrives meanwhile.
   */
  service(): void {
    this.irqThread.wake();
  }

  private fetchEvents(): void {
    const len = Math.min(this.logMax, 4096);
    this.buf ??= this.k.mem.alloc(4096);
    if (this.buf === undefined) {
      this.k.log.err('RAS', 'no memory for the RTAS log buffer');
      return;
    }
    for (let n = 0; n < MAX_EVENTS_PER_IRQ; n++) {
      const rc = this.rtas.checkException(RTAS_VECTOR_EXTERNAL_INTERRUPT, this.irq, RTAS_HOTPLUG_EVENTS, this.buf, len);
      if (rc === 1) return;
      if (rc !== 0) {
        this.k.log.err('RAS', `check-exception failed: ${rc}`);
        return;
      }
      const bytes = new Uint8Array(len);
      this.k.port.readBytes(this.buf, bytes);
      this.handleLog(bytes);
    }
    this.k.log.err('RAS', `check-exception still has events after ${MAX_EVENTS_PER_IRQ} calls; waiting for the next interrupt`);
  }

  /** One log from check-exception: anything but a PCI hot-plug event is logged and ignored. */
  handleLog(bytes: Uint8Array): void {
    const log = parseRtasHotplugLog(bytes);
    if (!log.ok) {
      this.k.log.err('RAS', `${log.error}; event ignored`);
      return;
    }
    const l = log.value;
    if (l.type !== RTAS_TYPE_HOTPLUG || !l.hotplug) {
      this.k.log.warn('RAS', `event of type 0x${l.type.toString(16)} (version ${l.version}, sections ${l.sections.map((s) => s.id).join(' ') || 'none'}) is not a hot-plug event; ignored`);
      return;
    }
    const ignored = l.sections.filter((s) => s.id !== 'HP').map((s) => s.id);
    if (ignored.length) this.k.log.info('RAS', `hot-plug log: sections ${ignored.join(' ')} skipped`);
    this.hotplugEvent(l.hotplug);
  }

  /** rtas_errd's handling of a hot-plug event: PCI events by DRC index run drmgr; others are not handled here. */
  private hotplugEvent(ev: HotplugEvent): void {
    const what = `${hpTypeName(ev.resource)} ${ev.action === HP_ACTION_ADD ? 'add' : ev.action === HP_ACTION_REMOVE ? 'remove' : `action ${ev.action}`}`;
    if (ev.resource !== HP_TYPE_PCI) {
      this.k.log.info('RAS', `hot-plug event: ${what}: only PCI DLPAR is handled by this guest; ignored`);
      return;
    }
    if (ev.idType !== HP_ID_DRC_INDEX || ev.drcIndex === undefined) {
      this.k.log.warn('rtas_errd', `hot-plug event: ${what} identified by id type ${ev.idType}, not a DRC index; ignored`);
      return;
    }
    const slot = this.slots.find((s) => s.index === ev.drcIndex);
    const idx = `0x${ev.drcIndex.toString(16)}`;
    if (!slot) {
      this.k.log.warn('rtas_errd', `hot-plug event: ${what} for DRC index ${idx}, which no PCI connector of ${this.phb.path} has; ignored`);
      return;
    }
    if (ev.action === HP_ACTION_ADD) {
      this.k.log.info('rtas_errd', `PCI hot-plug add for ${slot.name} (${idx}): drmgr -c pci -a -s ${idx}`);
      if (slot.state !== 'empty') {
        this.k.log.warn('drmgr', `${slot.name}: already configured (${slot.state}); nothing to add`);
        return;
      }
      dlparAddSlot(this.ctx, slot);
    } else if (ev.action === HP_ACTION_REMOVE) {
      if (slot.state !== 'configured') {
        this.k.log.warn('rtas_errd', `PCI hot-plug remove for ${slot.name} (${idx}): the slot is ${slot.state}; ignored`);
        return;
      }
      slot.state = 'removal-pending';
      if (this.unplugAck === 'linux') {
        this.k.log.info('rtas_errd', `PCI hot-plug remove for ${slot.name} (${idx}): drmgr -c pci -r -s ${idx}`);
        this.remove(slot);
      } else {
        this.k.log.info('rtas_errd', `PCI hot-plug remove for ${slot.name} (${idx}): will remove when the removal is acknowledged`);
      }
    } else {
      this.k.log.warn('rtas_errd', `hot-plug event: ${what} for ${slot.name}: unknown action; ignored`);
    }
  }

  /** The removal itself, unless a VFIO user holds a device of the slot: then it waits for the user (vfio_unregister_group_dev). */
  private remove(slot: SpaprDrcSlot): void {
    const held = vfioHolders(this.k, slot);
    if (held.length) {
      if (slot.state !== 'removal-blocked') {
        for (const d of held) this.k.log.info(`vfio-pci ${d.name}`, 'No device request channel registered, blocked until released by user');
      }
      slot.state = 'removal-blocked';
      if (!this.vfioWait.pending) this.vfioWait.modIn(VFIO_REQUEST_PERIOD_NS);
      return;
    }
    dlparRemoveSlot(this.ctx, slot);
  }

  /** Every 10 s: the blocked removals go on once their VFIO users have let go. */
  private retryBlocked(): void {
    for (const s of this.slots) if (s.state === 'removal-blocked') this.remove(s);
  }

  /**
   * The removal's acknowledgement (an operator's `drmgr -c pci -r -s`
   * after device_del, which rtas_errd runs by itself in 'linux' mode):
   * with a removal request pending, remove the slot's devices and isolate
   * the connector now. Events are fetched first, so a request the guest
   * has not seen yet counts. Returns undefined when done, else why not.
   */
  acknowledge(slot: SpaprDrcSlot): string | undefined {
    this.service();
    if (slot.state !== 'removal-pending' && slot.state !== 'removal-blocked') return `no removal request is pending on slot ${slot.name} (state ${slot.state})`;
    this.remove(slot);
    if (slot.state === 'removal-blocked') {
      return `the removal of slot ${slot.name} waits for the VFIO user of ${vfioHolders(this.k, slot).map((d) => d.name).join(', ')} to release it`;
    }
    return slot.lastError;
  }
}
