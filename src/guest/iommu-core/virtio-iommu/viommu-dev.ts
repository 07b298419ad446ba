import { EFAULT, EINVAL, EIO, ENOENT, ENOMEM, ENOSPC, ENOSYS, ERANGE } from '../../errno.js';
import type { GuestKernel } from '../../kernel.js';
import type { VirtioPciDevice } from '../../virtio-core/virtio-pci.js';
import type { GuestVirtqueue } from '../../virtio-core/virtqueue.js';
import type { DomainGeometry, IommuInstance } from '../driver.js';
import {
  VIOMMU_FAULT_F_ADDRESS, VIOMMU_FAULT_F_EXEC, VIOMMU_FAULT_F_READ, VIOMMU_FAULT_F_WRITE, VIOMMU_FAULT_R_DOMAIN,
  VIOMMU_FAULT_R_MAPPING, VIOMMU_FAULT_SIZE, VIOMMU_S_FAULT, VIOMMU_S_INVAL, VIOMMU_S_IOERR, VIOMMU_S_NOENT,
  VIOMMU_S_NOMEM, VIOMMU_S_OK, VIOMMU_S_RANGE, VIOMMU_S_UNSUPP, VIOMMU_TAIL_SIZE,
} from './regs.js';

/** One request buffer: the readable part, then `writeLen` writable bytes (the tail last). */
const SLOT_SIZE = 1024;
const SLOTS = 64;
const EVENT_BUFFERS = 64;

/** viommu_get_req_errno: a status as an errno. */
export function viommuErrno(status: number): number {
  switch (status) {
    case VIOMMU_S_OK: return 0;
    case VIOMMU_S_UNSUPP: return -ENOSYS;
    case VIOMMU_S_INVAL: return -EINVAL;
    case VIOMMU_S_RANGE: return -ERANGE;
    case VIOMMU_S_NOENT: return -ENOENT;
    case VIOMMU_S_FAULT: return -EFAULT;
    case VIOMMU_S_NOMEM: return -ENOMEM;
    default: return -EIO;
  }
}

export interface Pending {
  readonly slot: number;
  readonly writeLen: number;
  /** Where the written part goes when the request completes (sendSync). */
  result?: Uint8Array;
}

/** What the driver read from the device configuration (viommu_probe). */
export interface ViommuConfig {
  readonly pageSizeMask: bigint;
  readonly geometry: DomainGeometry;
  readonly firstDomain: number;
  readonly lastDomain: number;
  readonly probeSize: number;
  readonly mapFlags: number;
  readonly bypassConfig: boolean;
}

/**
 * One virtio-iommu as the guest driver holds it (Linux struct viommu_dev):
 * its transport and queues, the configuration it read, domain IDs in use,
 * and the request machinery of drivers/iommu/virtio-iommu.c: requests are
 * added without a notification (addReq) and completed together by sync
 * (kick, then collect every used buffer; a used length of 0 is IOERR);
 * sendSync adds one and syncs. The event queue holds 24-byte buffers;
 * fault reports are logged as Linux logs them and the buffers re-posted.
 */
export class ViommuDev {
  instance: IommuInstance | undefined;
  readonly domainIds = new Set<number>();
  /** Fault reports seen (for tests and the report). */
  readonly faults: { reason: number; flags: number; endpoint: number; address: number }[] = [];
  private readonly free: number[] = [];
  private readonly writeAt = new Map<Pending, number>();
  private readonly events: number;

  constructor(private readonly k: GuestKernel, readonly name: string, readonly vp: VirtioPciDevice,
    private readonly reqq: GuestVirtqueue<Pending>, private readonly evtq: GuestVirtqueue<number>,
    readonly cfg: ViommuConfig, private readonly slots: number, events: number) {
    for (let i = SLOTS - 1; i >= 0; i--) this.free.push(i);
    this.events = events;
  }

  /** Allocates the request and event buffers and posts the event buffers (viommu_fill_evtq). */
  static create(k: GuestKernel, name: string, vp: VirtioPciDevice, reqq: GuestVirtqueue<Pending>, evtq: GuestVirtqueue<number>,
    cfg: ViommuConfig): ViommuDev | number {
    const slots = k.mem.alloc(SLOTS * SLOT_SIZE);
    const events = k.mem.alloc(EVENT_BUFFERS * VIOMMU_FAULT_SIZE);
    if (slots === undefined || events === undefined) return -ENOMEM;
    const d = new ViommuDev(k, name, vp, reqq, evtq, cfg, slots, events);
    for (let i = 0; i < Math.min(EVENT_BUFFERS, evtq.numFree); i++) evtq.add([], [{ addr: events + i * VIOMMU_FAULT_SIZE, len: VIOMMU_FAULT_SIZE }], i);
    evtq.kick();
    return d;
  }

  /** The writable length of a request: its tail (plus probe_size properties for PROBE). */
  addReq(req: Uint8Array, writeLen = VIOMMU_TAIL_SIZE, keep = false): Pending | number {
    if (req.length + writeLen > SLOT_SIZE) return -EINVAL;
    if (this.free.length === 0 || this.reqq.numFree < 2) this.sync();
    const slot = this.free.pop();
    if (slot === undefined) return -ENOMEM;
    const at = this.slots + slot * SLOT_SIZE;
    this.k.port.writeBytes(at, req);
    const p: Pending = { slot, writeLen, ...(keep ? { result: new Uint8Array(writeLen) } : {}) };
    const ret = this.reqq.add([{ addr: at, len: req.length }], [{ addr: at + req.length, len: writeLen }], p);
    if (ret < 0) {
      this.free.push(slot);
      return ret;
    }
    // Remember where the writable part is, for the copy back.
    this.writeAt.set(p, at + req.length);
    return p;
  }

  /** __viommu_sync_req: notify, then collect every request in flight. */
  sync(): void {
    this.reqq.kick();
    const ok = this.k.clock.pollUntil(() => {
      for (let b = this.reqq.getBuf(); b; b = this.reqq.getBuf()) this.complete(b.token, b.len);
      return this.reqq.inFlight === 0;
    }, 1000, 1_000_000_000);
    if (!ok) this.k.log.err(`virtio_iommu ${this.name}`, 'requests did not complete');
    this.vp.ackInterrupt();
    this.processEvents();
  }

  private complete(p: Pending, len: number): void {
    const at = this.writeAt.get(p)!;
    this.writeAt.delete(p);
    this.free.push(p.slot);
    if (!p.result) return;
    if (len === 0) {
      p.result[p.writeLen - VIOMMU_TAIL_SIZE] = VIOMMU_S_IOERR;
      return;
    }
    this.k.port.readBytes(at, p.result);
  }

  /** viommu_send_req_sync: the request's errno, and what the device wrote. */
  sendSync(req: Uint8Array, writeLen = VIOMMU_TAIL_SIZE): { ret: number; data: Uint8Array } {
    const p = this.addReq(req, writeLen, true);
    if (typeof p === 'number') return { ret: p, data: new Uint8Array(0) };
    this.sync();
    const data = p.result!;
    return { ret: viommuErrno(data[writeLen - VIOMMU_TAIL_SIZE]!), data };
  }

  /** viommu_event_handler: log each fault report (reserved bits set: ignored), re-post its buffer. */
  processEvents(): void {
    let seen = 0;
    for (let b = this.evtq.getBuf(); b; b = this.evtq.getBuf()) {
      const at = this.events + b.token * VIOMMU_FAULT_SIZE;
      const e = new Uint8Array(VIOMMU_FAULT_SIZE);
      this.k.port.readBytes(at, e);
      const v = new DataView(e.buffer);
      if (b.len > VIOMMU_FAULT_SIZE) this.k.log.err(`virtio_iommu ${this.name}`, `invalid event buffer (len ${b.len} != ${VIOMMU_FAULT_SIZE})`);
      else if (!(v.getUint32(0, true) & 0xffffff00)) this.fault(e[0]!, v.getUint32(4, true), v.getUint32(8, true), Number(v.getBigUint64(16, true)));
      this.evtq.add([], [{ addr: at, len: VIOMMU_FAULT_SIZE }], b.token);
      seen++;
    }
    if (seen) this.evtq.kick();
  }

  /** viommu_fault_handler's message. */
  private fault(reason: number, flags: number, endpoint: number, address: number): void {
    this.faults.push({ reason, flags, endpoint, address });
    const r = reason === VIOMMU_FAULT_R_DOMAIN ? 'domain' : reason === VIOMMU_FAULT_R_MAPPING ? 'page' : 'unknown';
    const rw = `${flags & VIOMMU_FAULT_F_READ ? 'R' : ''}${flags & VIOMMU_FAULT_F_WRITE ? 'W' : ''}${flags & VIOMMU_FAULT_F_EXEC ? 'X' : ''}`;
    this.k.log.err(`virtio_iommu ${this.name}`, flags & VIOMMU_FAULT_F_ADDRESS
      ? `${r} fault from EP ${endpoint} at 0x${address.toString(16)} [${rw}]` : `${r} fault from EP ${endpoint}`);
  }

  /** ida_alloc_range over [first_domain, last_domain]. */
  allocDomainId(): number {
    for (let id = this.cfg.firstDomain; id <= this.cfg.lastDomain; id++) {
      if (!this.domainIds.has(id)) {
        this.domainIds.add(id);
        return id;
      }
    }
    return -ENOSPC;
  }
}
