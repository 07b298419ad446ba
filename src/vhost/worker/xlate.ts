import { Iotlb } from '../../iommu/iotlb/iotlb.js';
import { POW2 } from '../../iommu/walk/walk-result.js';
import {
  OBS_ERROR, OBS_FAULT, OBS_FIELDS, OBS_OK, OBS_SLOTS, W_OBS_HEAD, W_OBS_ON, W_OBS_TAIL, type VhostChannel,
} from '../channel.js';
import type { VhostMemoryRegion, VhostRamMapping } from '../mem-table.js';
import { VHOST_ACCESS_RO, VHOST_ACCESS_WO } from '../msg.js';

/** Outcomes of a translation. */
export const XL_OK = 0;
/** No IOTLB entry: a MISS was (or had been) sent; the vq waits for an UPDATE. */
export const XL_MISS = 1;
/** An entry without the permission (ACCESS_FAIL), or an address outside guest RAM: the vq stops (vq_err). */
export const XL_FAIL = 2;

interface Block {
  readonly uaddr: number;
  readonly end: number;
  readonly u8: Uint8Array;
  readonly dv: DataView;
}

/** The worker's memory configuration (VHOST_SET_MEM_TABLE plus whether VIRTIO_F_ACCESS_PLATFORM put an IOTLB in front). */
export interface WorkerMemConfig {
  readonly regions: readonly VhostMemoryRegion[];
  readonly mappings: readonly VhostRamMapping[];
  readonly useIotlb: boolean;
}

/**
 * Address translation in the vhost worker (Linux drivers/vhost/vhost.c
 * translate_desc / iotlb_access_ok): with an IOTLB, every ring and buffer
 * address is an IOVA looked up in the device IOTLB (context 0), and a miss
 * produces a MISS message to the machine; without one, addresses are
 * guest-physical and go through the memory table. A result describes the
 * contiguous piece it found: `u8`/`dv` of the RAM block, `off` in it, `len`
 * bytes, and the guest-physical address for the oracle. Every access piece
 * is recorded as an observation when the machine asks for them.
 */
export class WorkerXlate {
  u8!: Uint8Array;
  dv!: DataView;
  off = 0;
  len = 0;
  gpa = 0;
  /** The iova of the last miss (sent by the caller) and the access it needed. */
  missIova = 0;
  missAccess = 0;
  hits = 0;
  misses = 0;
  /** The outcome of the last translate (XL_OK, XL_MISS, XL_FAIL). */
  status = XL_OK;
  private blocks: Block[] = [];
  private regions: readonly VhostMemoryRegion[] = [];
  private useIotlb = false;
  private last: Block | undefined;
  /** Virtual time of the current round (the oracle's "translation started at"). */
  time = 0;
  private observe = false;

  constructor(readonly iotlb: Iotlb, private readonly ch: VhostChannel) {}

  configure(c: WorkerMemConfig): void {
    this.blocks = c.mappings.map((m) => ({
      uaddr: m.uaddr, end: m.uaddr + m.size, u8: new Uint8Array(m.sab, 0, m.size), dv: new DataView(m.sab, 0, m.size),
    }));
    this.regions = c.regions;
    this.useIotlb = c.useIotlb;
    this.last = undefined;
  }

  get iotlbEnabled(): boolean {
    return this.useIotlb;
  }

  beginRound(): void {
    this.time = this.ch.clock[0]!;
    this.observe = Atomics.load(this.ch.ctl, W_OBS_ON) === 1;
  }

  endRound(): void {
    if (this.hits || this.misses) this.iotlb.count(this.hits, this.misses);
    this.hits = this.misses = 0;
  }

  private block(uaddr: number): Block | undefined {
    const l = this.last;
    if (l && uaddr >= l.uaddr && uaddr < l.end) return l;
    for (const b of this.blocks) {
      if (uaddr >= b.uaddr && uaddr < b.end) return (this.last = b);
    }
    return undefined;
  }

  private gpaOf(uaddr: number): number {
    for (const r of this.regions) {
      if (uaddr >= r.userspaceAddr && uaddr < r.userspaceAddr + r.memorySize) return r.guestPhysAddr + uaddr - r.userspaceAddr;
    }
    return -1;
  }

  /**
   * Translates [iova, iova + len) for `access` (VHOST_ACCESS_RO / WO) to its
   * first contiguous piece. XL_OK fills u8/dv/off/len/gpa.
   */
  translate(iova: number, len: number, access: number): number {
    return (this.status = this.translateInner(iova, len, access));
  }

  private translateInner(iova: number, len: number, access: number): number {
    let uaddr: number;
    let left: number;
    if (this.useIotlb) {
      const t = this.iotlb;
      const s = t.lookup(0, iova);
      if (s < 0) {
        this.misses++;
        this.missIova = iova;
        this.missAccess = access;
        return XL_MISS;
      }
      this.hits++;
      if ((t.perm(s) & access) !== access) {
        this.missIova = iova;
        this.missAccess = access;
        this.record(iova, len, access, OBS_FAULT, -1);
        return XL_FAIL;
      }
      const size = POW2[t.shift(s)]!;
      uaddr = t.translated(s, iova);
      left = size - (iova % size);
    } else {
      const r = this.regionOf(iova);
      if (!r) {
        this.record(iova, len, access, OBS_ERROR, -1);
        return XL_FAIL;
      }
      uaddr = r.userspaceAddr + iova - r.guestPhysAddr;
      left = r.guestPhysAddr + r.memorySize - iova;
    }
    const b = this.block(uaddr);
    if (!b) {
      this.record(iova, len, access, OBS_ERROR, -1);
      return XL_FAIL;
    }
    this.u8 = b.u8;
    this.dv = b.dv;
    this.off = uaddr - b.uaddr;
    this.len = Math.min(len, left, b.end - uaddr);
    this.gpa = this.useIotlb ? this.gpaOf(uaddr) : iova;
    if (this.observe) this.record(iova, this.len, access, OBS_OK, this.gpa);
    return XL_OK;
  }

  /** translate without an observation (the prefetch checks mappings; it moves no data). */
  translateQuiet(iova: number, len: number, access: number): number {
    const o = this.observe;
    this.observe = false;
    const r = this.translate(iova, len, access);
    this.observe = o;
    return r;
  }

  private regionOf(gpa: number): VhostMemoryRegion | undefined {
    for (const r of this.regions) if (gpa >= r.guestPhysAddr && gpa < r.guestPhysAddr + r.memorySize) return r;
    return undefined;
  }

  /** Appends an observation when the machine wants them (waits, bounded, for room: the machine drains the ring). */
  record(iova: number, len: number, access: number, outcome: number, gpa: number): void {
    if (!this.observe) return;
    const ctl = this.ch.ctl;
    const head = Atomics.load(ctl, W_OBS_HEAD);
    if (head - Atomics.load(ctl, W_OBS_TAIL) >= OBS_SLOTS) {
      this.ch.wakeMachine();
      const deadline = performance.now() + 1000;
      while (head - Atomics.load(ctl, W_OBS_TAIL) >= OBS_SLOTS && performance.now() < deadline) {
        Atomics.wait(ctl, W_OBS_TAIL, Atomics.load(ctl, W_OBS_TAIL), 10);
      }
      if (head - Atomics.load(ctl, W_OBS_TAIL) >= OBS_SLOTS) return;
    }
    const o = (head % OBS_SLOTS) * OBS_FIELDS;
    const obs = this.ch.obs;
    obs[o] = iova;
    obs[o + 1] = len;
    obs[o + 2] = access === VHOST_ACCESS_WO ? 1 : 0;
    obs[o + 3] = outcome;
    obs[o + 4] = gpa;
    obs[o + 5] = this.time;
    Atomics.store(ctl, W_OBS_HEAD, head + 1);
  }

  // Scalar ring accesses (naturally aligned: never across a page). -1 / false: not translated (see missIova).
  ld16(iova: number): number {
    return this.translate(iova, 2, VHOST_ACCESS_RO) === XL_OK ? this.dv.getUint16(this.off, true) : -1;
  }
  ld32(iova: number): number {
    return this.translate(iova, 4, VHOST_ACCESS_RO) === XL_OK ? this.dv.getUint32(this.off, true) : -1;
  }
  st16(iova: number, v: number): number {
    const r = this.translate(iova, 2, VHOST_ACCESS_WO);
    if (r === XL_OK) this.dv.setUint16(this.off, v, true);
    return r;
  }
  st32(iova: number, v: number): number {
    const r = this.translate(iova, 4, VHOST_ACCESS_WO);
    if (r === XL_OK) this.dv.setUint32(this.off, v >>> 0, true);
    return r;
  }
}
