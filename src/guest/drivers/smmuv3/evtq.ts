import type { EventLog } from '../../../base/event-log.js';
import type { GuestPort } from '../../port.js';
import { ARM_SMMU_EVTQ_CONS, ARM_SMMU_EVTQ_PROD, EVT_NAMES } from './regs.js';

const TWO32 = 0x1_0000_0000;
const Q_OVF = 0x8000_0000;

/** One decoded event record, as the driver logs it. */
export interface LoggedEvent {
  readonly type: number;
  readonly sid: number;
  readonly ssid?: number;
  readonly iova: number;
  readonly read: boolean;
}

/**
 * The event queue as Linux arm_smmu_evtq_thread drains it: records between
 * CONS and PROD (page 1 registers) are read, logged and consumed; an
 * overflow flag in PROD is reported and acknowledged in CONS.
 */
export class GuestEvtq {
  readonly seen: LoggedEvent[] = [];

  constructor(private readonly port: GuestPort, private readonly regs: number, readonly base: number, readonly log2size: number,
    private readonly log: EventLog, private readonly who: string, private readonly deviceName: (sid: number) => string) {}

  drain(): number {
    const n = 2 ** this.log2size;
    const mask = 2 * n - 1;
    const prod = this.port.read(this.regs + ARM_SMMU_EVTQ_PROD, 4).lo >>> 0;
    let cons = this.port.read(this.regs + ARM_SMMU_EVTQ_CONS, 4).lo >>> 0;
    let count = 0;
    while ((cons & mask) !== (prod & mask) && count <= n) {
      const at = this.base + (cons % n) * 32;
      const w: number[] = [];
      for (let i = 0; i < 8; i += 2) {
        const r = this.port.read(at + i * 4, 8);
        w.push(r.lo >>> 0, r.hi >>> 0);
      }
      const type = w[0]! & 0xff;
      const ev: LoggedEvent = {
        type, sid: w[1]!, iova: w[5]! * TWO32 + w[4]!, read: ((w[3]! >>> 3) & 1) === 1,
        ...(w[0]! & (1 << 11) ? { ssid: w[0]! >>> 12 } : {}),
      };
      this.seen.push(ev);
      const name = EVT_NAMES[type] ?? 'UNKNOWN';
      this.log.warn(this.who, `event 0x${type.toString(16).padStart(2, '0')} ${name} received: client ${this.deviceName(ev.sid)} sid 0x${ev.sid.toString(16)}`
        + `${ev.ssid !== undefined ? ` ssid 0x${ev.ssid.toString(16)}` : ''} iova 0x${ev.iova.toString(16)} ${ev.read ? 'read' : 'write'}`);
      cons = ((cons & Q_OVF) | ((cons + 1) & mask)) >>> 0;
      count++;
    }
    if ((prod ^ cons) & Q_OVF) {
      this.log.err(this.who, 'EVTQ overflow detected -- events lost');
      cons = ((cons & ~Q_OVF) | (prod & Q_OVF)) >>> 0;
    }
    this.port.write(this.regs + ARM_SMMU_EVTQ_CONS, 4, cons);
    return count;
  }
}
