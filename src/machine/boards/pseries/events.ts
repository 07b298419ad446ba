import type { EventLog } from '../../../base/event-log.js';
import type { IrqLine } from '../../../base/irq.js';
import { RTAS_OUT_PARAM_ERROR, RTAS_OUT_SUCCESS, RTAS_TOKEN_BASE, type RtasCall, type RtasMemory, type RtasTable } from './rtas.js';

export const RTAS_CHECK_EXCEPTION = RTAS_TOKEN_BASE + 0x0e;
export const RTAS_EVENT_SCAN = RTAS_TOKEN_BASE + 0x0f;
/** RTAS_OUT_NO_ERRORS_FOUND: nothing of the kind asked for is pending. */
export const RTAS_OUT_NO_ERRORS_FOUND = 1;

/** Event classes and their interrupt sources (QEMU spapr_events.c, SPAPR_IRQ_EPOW / SPAPR_IRQ_HOTPLUG). */
export const EVENT_MASK_EPOW = 0x40000000;
export const EVENT_MASK_HOTPLUG = 0x10000000;
export const SPAPR_IRQ_EPOW = 0x1000;
export const SPAPR_IRQ_HOTPLUG = 0x1001;

// struct rtas_error_log summary bits (PAPR+ table "RTAS Event Return Format (Fixed Part)").
const RTAS_LOG_VERSION_6 = 0x06000000;
const RTAS_LOG_SEVERITY_EVENT = 0x00200000;
const RTAS_LOG_DISPOSITION_NOT_RECOVERED = 0x00100000;
const RTAS_LOG_OPTIONAL_PART_PRESENT = 0x00040000;
const RTAS_LOG_INITIATOR_HOTPLUG = 0x00006000;
export const RTAS_LOG_TYPE_HOTPLUG = 0xe5;
// Hot-plug section (PAPR+ 10.3.2.2.x "Hot Plug Event Section").
export const RTAS_LOG_V6_HP_TYPE_PCI = 5;
export const RTAS_LOG_V6_HP_ACTION_ADD = 1;
export const RTAS_LOG_V6_HP_ACTION_REMOVE = 2;
export const RTAS_LOG_V6_HP_ID_DRC_INDEX = 2;

/** Pending events beyond this are dropped with a log line (a QMP loop with no guest must not grow memory). */
const MAX_PENDING = 4096;
/** viommu's RTC starts here (QEMU's follows the host clock); the log's creation date and time are BCD of it plus virtual time. */
export const SPAPR_RTC_BASE_MS = Date.UTC(2000, 0, 1);

interface PendingEvent {
  readonly mask: number;
  readonly summary: number;
  readonly extended: Uint8Array;
}

const bcd = (v: number) => ((Math.floor(v / 10) << 4) | (v % 10)) & 0xff;

/**
 * The RTAS event queue (QEMU hw/ppc/spapr_events.c): hot-plug events are
 * queued as version 6 error logs, the hot-plug interrupt source is pulsed,
 * and the guest fetches them with check-exception, one log per call, while
 * the interrupt is re-pulsed as long as events remain. event-scan only
 * re-pulses. Hot-plug events use the hot-plug source, as after a CAS that
 * negotiated OV5_HP_EVT (every Linux asks for it; QEMU uses the EPOW source
 * before CAS, and the synthetic guest does not run CAS).
 */
export class SpaprEventQueue {
  private readonly pending: PendingEvent[] = [];
  private nextPlid = 0;

  constructor(private readonly irqs: { readonly epow: IrqLine; readonly hotplug: IrqLine },
    private readonly mem: Pick<RtasMemory, 'writeBytes'>,
    private readonly nowNs: () => number, private readonly log: EventLog) {}

  register(rtas: RtasTable): void {
    rtas.register(RTAS_CHECK_EXCEPTION, 'check-exception', (c) => this.checkException(c));
    rtas.register(RTAS_EVENT_SCAN, 'event-scan', (c) => this.eventScan(c));
  }

  /** spapr_hotplug_req_event: a hot-plug log for one DRC index. */
  hotplugByIndex(action: number, drcIndex: number): void {
    if (this.pending.length >= MAX_PENDING) {
      this.log.warn('spapr-events', `event queue full (${MAX_PENDING}): hot-plug event for DRC 0x${drcIndex.toString(16)} dropped`);
      return;
    }
    const ext = new Uint8Array(16 + 48 + 24 + 20);
    const dv = new DataView(ext.buffer);
    // struct rtas_event_log_v6: valid, new log, big-endian; PowerPC format, platform event; company "IBM".
    ext[0] = 0x86;
    ext[2] = 0x8e;
    ext.set([0x49, 0x42, 0x4d, 0x00], 12);
    this.mainA(dv, 16, 3);
    // Main-B ("UH"), spapr_init_v6hdr's companion: subsystem 0x80 (platform firmware).
    dv.setUint16(64, 0x5548);
    dv.setUint16(66, 24);
    ext[72] = 0x80;
    // The hot-plug section ("HP", version 1).
    dv.setUint16(88, 0x4850);
    dv.setUint16(90, 20);
    ext[92] = 1;
    ext[96] = RTAS_LOG_V6_HP_TYPE_PCI;
    ext[97] = action;
    ext[98] = RTAS_LOG_V6_HP_ID_DRC_INDEX;
    dv.setUint32(100, drcIndex >>> 0);
    const summary = (RTAS_LOG_VERSION_6 | RTAS_LOG_SEVERITY_EVENT | RTAS_LOG_DISPOSITION_NOT_RECOVERED
      | RTAS_LOG_OPTIONAL_PART_PRESENT | RTAS_LOG_INITIATOR_HOTPLUG | RTAS_LOG_TYPE_HOTPLUG) >>> 0;
    this.pending.push({ mask: EVENT_MASK_HOTPLUG, summary, extended: ext });
    this.irqs.hotplug.pulse();
  }

  /**
   * spapr_init_maina: the creation date and time in BCD from the RTC, the
   * creator 'H' (hypervisor), the section count, and the platform log id.
   * QEMU stores plid without byte-swapping (host order, little-endian on
   * x86 hosts); so does viommu.
   */
  private mainA(dv: DataView, at: number, sections: number): void {
    dv.setUint16(at, 0x5048);
    dv.setUint16(at + 2, 48);
    const d = new Date(SPAPR_RTC_BASE_MS + Math.floor(this.nowNs() / 1e6));
    const y = d.getUTCFullYear();
    dv.setUint32(at + 8, ((bcd(Math.floor(y / 100)) << 24) | (bcd(y % 100) << 16) | (bcd(d.getUTCMonth() + 1) << 8) | bcd(d.getUTCDate())) >>> 0);
    dv.setUint32(at + 12, ((bcd(d.getUTCHours()) << 24) | (bcd(d.getUTCMinutes()) << 16) | (bcd(d.getUTCSeconds()) << 8)) >>> 0);
    dv.setUint8(at + 24, 0x48);
    dv.setUint8(at + 27, sections);
    dv.setUint32(at + 40, this.nextPlid++ >>> 0, true);
  }

  /** Whether an event of the class is queued (rtas_event_log_contains). */
  contains(mask: number): boolean {
    return this.pending.some((e) => (e.mask & mask) !== 0);
  }

  /** spapr_clear_pending_events (machine reset). */
  clear(): void {
    this.pending.length = 0;
  }

  /** check_exception: args vector, info, mask, critical, buffer, length[, extended]; one log per call. */
  private checkException(c: RtasCall): void {
    if (c.nargs < 6 || c.nargs > 7 || c.nret !== 1) return c.ret(0, RTAS_OUT_PARAM_ERROR);
    const mask = c.arg(2);
    const buf = c.arg(4);
    const len = c.arg(5);
    const i = this.pending.findIndex((e) => (e.mask & mask) !== 0);
    if (i < 0) return c.ret(0, RTAS_OUT_NO_ERRORS_FOUND);
    const [e] = this.pending.splice(i, 1);
    const out = new Uint8Array(8 + e!.extended.length);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, e!.summary);
    dv.setUint32(4, e!.extended.length);
    out.set(e!.extended, 8);
    // QEMU writes the whole log whatever the length; PAPR says at most `len` bytes. viommu keeps to `len`.
    this.mem.writeBytes(BigInt(buf), out.subarray(0, Math.min(out.length, len)));
    c.ret(0, RTAS_OUT_SUCCESS);
    this.repulse();
  }

  /** event_scan: pulses the sources that still have events; the events themselves come through check-exception. */
  private eventScan(c: RtasCall): void {
    if (c.nargs !== 4 || c.nret !== 1) return c.ret(0, RTAS_OUT_PARAM_ERROR);
    this.repulse();
    c.ret(0, RTAS_OUT_NO_ERRORS_FOUND);
  }

  private repulse(): void {
    if (this.contains(EVENT_MASK_EPOW)) this.irqs.epow.pulse();
    if (this.contains(EVENT_MASK_HOTPLUG)) this.irqs.hotplug.pulse();
  }
}
