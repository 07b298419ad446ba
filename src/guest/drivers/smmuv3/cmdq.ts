import type { GuestPort } from '../../port.js';
import type { EventLog } from '../../../base/event-log.js';
import {
  ARM_SMMU_CMDQ_CONS, ARM_SMMU_CMDQ_PROD, CMDQ_ATC_INV_SIZE_ALL, CMDQ_CONS_ERR_SHIFT, CMDQ_ERR_CERROR_ABT,
  CMDQ_ERR_CERROR_ILL, CMDQ_OP_ATC_INV, CMDQ_OP_CFGI_ALL, CMDQ_OP_CFGI_CD, CMDQ_OP_CFGI_STE, CMDQ_OP_CMD_SYNC,
  CMDQ_OP_TLBI_NH_ASID, CMDQ_OP_TLBI_NH_VA, CMDQ_OP_TLBI_NSNH_ALL, CMDQ_TLBI_RANGE_NUM_MAX,
} from './regs.js';

const TWO32 = 0x1_0000_0000;
/** CMD_SYNC completion signal: SEV (the wired interrupt is not needed when polling; IDR0.MSI = 0). */
const CMDQ_SYNC_0_CS_SEV = 2 << 12;
/** Bound on polls of CMDQ_CONS for one CMD_SYNC (Linux ARM_SMMU_POLL_TIMEOUT_US, here in reads). */
const SYNC_POLLS = 1000;

/** A 16-byte command as four u32 words. */
export type Cmd = [number, number, number, number];

export const cmdCfgiSte = (sid: number): Cmd => [CMDQ_OP_CFGI_STE, sid, 1, 0];
export const cmdCfgiAll = (): Cmd => [CMDQ_OP_CFGI_ALL, 0, 31, 0];
export const cmdCfgiCd = (sid: number, ssid: number): Cmd => [(CMDQ_OP_CFGI_CD | (ssid << 12)) >>> 0, sid, 1, 0];
export const cmdTlbiNsnhAll = (): Cmd => [CMDQ_OP_TLBI_NSNH_ALL, 0, 0, 0];
export const cmdTlbiAsid = (asid: number): Cmd => [CMDQ_OP_TLBI_NH_ASID, (asid << 16) >>> 0, 0, 0];

/**
 * TLBI_NH_VA for [iova, iova + size) as Linux arm_smmu_tlb_inv_range_cmd
 * builds it: with range invalidation (IDR3.RIL), one command per 5-bit
 * chunk of the page count (SCALE = lowest set bit, NUM = the next five
 * bits, TG = the leaf granule, TTL = the leaf level); without RIL one
 * command per granule page.
 */
export function tlbiRangeCmds(asid: number, iova: number, size: number, granuleShift: number, ril: boolean): Cmd[] {
  const out: Cmd[] = [];
  const leaf = 1;
  const tg = (granuleShift - 10) / 2;
  const ttl = 3;
  let numPages = Math.floor(size / 2 ** granuleShift);
  let at = iova;
  const end = iova + size;
  while (at < end && numPages > 0) {
    let w0 = CMDQ_OP_TLBI_NH_VA;
    let w2Flags = leaf;
    let step = 2 ** granuleShift;
    if (ril) {
      let scale = 0;
      while ((Math.floor(numPages / 2 ** scale) & 1) === 0) scale++;
      const num = Math.floor(numPages / 2 ** scale) & CMDQ_TLBI_RANGE_NUM_MAX;
      w0 |= ((num - 1) << 12) | (scale << 20);
      w2Flags |= (ttl << 8) | (tg << 10);
      step = num * 2 ** (scale + granuleShift);
      numPages -= num * 2 ** scale;
    }
    const hi = Math.floor(at / TWO32);
    out.push([w0 >>> 0, (asid << 16) >>> 0, (((at - hi * TWO32) & 0xfffff000) | w2Flags) >>> 0, hi]);
    at += step;
  }
  return out;
}

/**
 * CMD_ATC_INV for [iova, iova + size) (Linux arm_smmu_atc_inv_to_cmd): the
 * smallest naturally aligned span 4 KiB << Size covering the range; size 0
 * means everything (Size 52).
 */
export function cmdAtcInv(sid: number, ssid: number | undefined, iova: number, size: number): Cmd {
  let log2span = CMDQ_ATC_INV_SIZE_ALL;
  let addr = 0;
  if (size > 0) {
    const first = Math.floor(iova / 4096);
    const last = Math.floor((iova + size - 1) / 4096);
    log2span = 0;
    while (Math.floor(first / 2 ** log2span) !== Math.floor(last / 2 ** log2span)) log2span++;
    addr = Math.floor(first / 2 ** log2span) * 2 ** log2span * 4096;
  }
  const hi = Math.floor(addr / TWO32);
  const w0 = (CMDQ_OP_ATC_INV | (ssid !== undefined ? (1 << 11) | (ssid << 12) : 0)) >>> 0;
  return [w0, sid, (((addr - hi * TWO32) & 0xfffff000) | log2span) >>> 0, hi];
}

/**
 * The command queue as Linux's arm-smmu-v3 drives it (arm_smmu_cmdq_issue_
 * cmdlist with a single producer): commands are written at PROD, PROD is
 * published, and a CMD_SYNC is waited for by polling CMDQ_CONS. A command
 * error stops the queue: the GERROR handler (skipError) replaces the
 * offending command with a CMD_SYNC and acknowledges, as
 * arm_smmu_cmdq_skip_err does.
 */
export class GuestCmdq {
  private prod = 0;
  private readonly entries: number;
  syncs = 0;

  constructor(private readonly port: GuestPort, private readonly regs: number, readonly base: number, readonly log2size: number,
    private readonly log: EventLog, private readonly who: string) {
    this.entries = 2 ** log2size;
  }

  private consReg(): number {
    return this.port.read(this.regs + ARM_SMMU_CMDQ_CONS, 4).lo >>> 0;
  }

  private full(cons: number): boolean {
    const m = 2 * this.entries - 1;
    return ((this.prod ^ cons) & m) === this.entries;
  }

  private write(c: Cmd): void {
    const at = this.base + (this.prod % this.entries) * 16;
    this.port.write(at, 8, c[0], c[1]);
    this.port.write(at + 8, 8, c[2], c[3]);
    this.prod = (this.prod + 1) & (2 * this.entries - 1);
  }

  /** Queues `cmds` (publishing PROD whenever the queue fills), then a CMD_SYNC if `sync`, and waits for it. Returns false on a timeout. */
  issue(cmds: readonly Cmd[], sync = true): boolean {
    const all: Cmd[] = [...cmds];
    if (sync) all.push([(CMDQ_OP_CMD_SYNC | CMDQ_SYNC_0_CS_SEV) >>> 0, 0, 0, 0]);
    for (const c of all) {
      for (let tries = 0; this.full(this.consReg()); tries++) {
        this.port.write(this.regs + ARM_SMMU_CMDQ_PROD, 4, this.prod);
        if (tries > SYNC_POLLS) {
          this.log.err(this.who, 'CMDQ timeout');
          return false;
        }
      }
      this.write(c);
    }
    this.port.write(this.regs + ARM_SMMU_CMDQ_PROD, 4, this.prod);
    if (!sync) return true;
    this.syncs++;
    const m = 2 * this.entries - 1;
    for (let i = 0; i < SYNC_POLLS; i++) {
      if ((this.consReg() & m) === this.prod) return true;
    }
    this.log.err(this.who, `CMD_SYNC timeout at 0x${this.prod.toString(16)} [hwprod 0x${this.prod.toString(16)}, hwcons 0x${this.consReg().toString(16)}]`);
    return false;
  }

  /** arm_smmu_cmdq_skip_err: log the error and turn the command at CONS into a CMD_SYNC. */
  skipError(): void {
    const cons = this.consReg();
    const err = (cons >>> CMDQ_CONS_ERR_SHIFT) & 0x7f;
    const name = err === CMDQ_ERR_CERROR_ILL ? 'Illegal command' : err === CMDQ_ERR_CERROR_ABT ? 'Abort on command fetch' : 'Unknown';
    this.log.err(this.who, `CMDQ error (cons 0x${cons.toString(16).padStart(8, '0')}): ${name}`);
    if (err === CMDQ_ERR_CERROR_ABT) return;
    const at = this.base + (cons % this.entries) * 16;
    const bad = this.port.read(at, 8);
    this.log.err(this.who, `skipping command in error state: 0x${bad.hi.toString(16).padStart(8, '0')}${bad.lo.toString(16).padStart(8, '0')}`);
    this.port.write(at, 8, (CMDQ_OP_CMD_SYNC | CMDQ_SYNC_0_CS_SEV) >>> 0, 0);
    this.port.write(at + 8, 8, 0, 0);
  }
}
