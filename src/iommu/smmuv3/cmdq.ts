import { CERROR_ABT, CERROR_ILL, CERROR_NONE, CR0_CMDQEN, GERROR_CMDQ_ERR, IDR0_ATS } from './regs.js';
import { hex } from '../../base/trace.js';
import { SMMU_TRACK } from './trace-track.js';
import { atcInv, tlbiAll, tlbiAsid, tlbiVa } from './invalidation.js';
import type { Smmuv3 } from './smmuv3.js';

/** Command opcodes (IHI 0070 4.1-4.7; QEMU SMMUCommandType). */
export const CMD_PREFETCH_CONFIG = 0x01;
export const CMD_PREFETCH_ADDR = 0x02;
export const CMD_CFGI_STE = 0x03;
/** Also CMD_CFGI_ALL: CFGI_STE_RANGE with Range = 31 (4.3.3). */
export const CMD_CFGI_STE_RANGE = 0x04;
export const CMD_CFGI_CD = 0x05;
export const CMD_CFGI_CD_ALL = 0x06;
export const CMD_TLBI_NH_ALL = 0x10;
export const CMD_TLBI_NH_ASID = 0x11;
export const CMD_TLBI_NH_VA = 0x12;
export const CMD_TLBI_NH_VAA = 0x13;
export const CMD_TLBI_EL3_ALL = 0x18;
export const CMD_TLBI_EL3_VA = 0x1a;
export const CMD_TLBI_EL2_ALL = 0x20;
export const CMD_TLBI_EL2_ASID = 0x21;
export const CMD_TLBI_EL2_VA = 0x22;
export const CMD_TLBI_EL2_VAA = 0x23;
export const CMD_TLBI_S12_VMALL = 0x28;
export const CMD_TLBI_S2_IPA = 0x2a;
export const CMD_TLBI_NSNH_ALL = 0x30;
export const CMD_ATC_INV = 0x40;
export const CMD_PRI_RESP = 0x41;
export const CMD_RESUME = 0x44;
export const CMD_STALL_TERM = 0x45;
export const CMD_SYNC = 0x46;

/** CMD_SYNC.CS [13:12]: 1 = signal the CMD_SYNC interrupt. */
export const CMD_SYNC_CS_IRQ = 1;

const TWO32 = 0x1_0000_0000;

/**
 * Decoded fields of a 16-byte command (QEMU smmuv3-internal.h CMD_*):
 * w0 opcode [7:0], Global [9], SSec [10], SSV [11], SubstreamID / NUM,
 * SCALE [31:12]; w1 StreamID, or VMID [15:0] and ASID [31:16]; w2 Range
 * [4:0], Leaf [0], TTL [9:8], TG [11:10], ATC Size [5:0]; Address [63:12]
 * in w2-w3.
 */
export class SmmuCommand {
  constructor(readonly w: Uint32Array) {}
  get opcode(): number { return this.w[0]! & 0xff; }
  get ssec(): boolean { return ((this.w[0]! >>> 10) & 1) === 1; }
  get ssv(): boolean { return ((this.w[0]! >>> 11) & 1) === 1; }
  get ssid(): number { return this.w[0]! >>> 12; }
  get global(): boolean { return ((this.w[0]! >>> 9) & 1) === 1; }
  get sid(): number { return this.w[1]! >>> 0; }
  get asid(): number { return this.w[1]! >>> 16; }
  get num(): number { return (this.w[0]! >>> 12) & 0x1f; }
  get scale(): number { return (this.w[0]! >>> 20) & 0x1f; }
  get range(): number { return this.w[2]! & 0x1f; }
  get tg(): number { return (this.w[2]! >>> 10) & 3; }
  get atcSize(): number { return this.w[2]! & 0x3f; }
  get cs(): number { return (this.w[0]! >>> 12) & 3; }
  get addr(): number { return (this.w[3]! >>> 0) * TWO32 + ((this.w[2]! & 0xfffff000) >>> 0); }
}

/** The trace name of a command: TLBI/CFGI/ATC_INV by opcode (spec 4.1-4.7), CMD_SYNC as the completion of what precedes it. */
function commandTraceName(op: number): string {
  if (op === CMD_SYNC) return 'CMD_SYNC (completion)';
  const names: Readonly<Record<number, string>> = {
    [CMD_CFGI_STE]: 'CMD_CFGI_STE', [CMD_CFGI_STE_RANGE]: 'CMD_CFGI_STE_RANGE', [CMD_CFGI_CD]: 'CMD_CFGI_CD', [CMD_CFGI_CD_ALL]: 'CMD_CFGI_CD_ALL',
    [CMD_TLBI_NH_ALL]: 'CMD_TLBI_NH_ALL', [CMD_TLBI_NSNH_ALL]: 'CMD_TLBI_NSNH_ALL', [CMD_TLBI_NH_ASID]: 'CMD_TLBI_NH_ASID',
    [CMD_TLBI_NH_VA]: 'CMD_TLBI_NH_VA', [CMD_TLBI_NH_VAA]: 'CMD_TLBI_NH_VAA', [CMD_ATC_INV]: 'CMD_ATC_INV',
  };
  return names[op] ?? `command 0x${op.toString(16)}`;
}

/**
 * Executes one command; returns a CERROR code. Architected behaviour
 * (4.1-4.7) with QEMU 7.2's choices where the spec leaves them (CFGI of an
 * unknown StreamID is a no-op). Spec departures of QEMU 7.2, reproduced
 * with x-qemu72: CMD_ATC_INV and CMD_PRI_RESP are ignored when the feature
 * is absent (the spec makes them ILLEGAL), and so are the EL2/EL3 and
 * stage-2 invalidations (ILLEGAL without IDR0.HYP / IDR0.S2P / on a
 * Non-secure queue).
 */
export function executeCommand(s: Smmuv3, c: SmmuCommand): number {
  const q = s.decode.qemu72;
  switch (c.opcode) {
    case CMD_SYNC:
      s.cmdSync(c.cs);
      return CERROR_NONE;
    case CMD_PREFETCH_CONFIG:
    case CMD_PREFETCH_ADDR:
      return CERROR_NONE;
    case CMD_CFGI_STE:
      if (c.ssec) return CERROR_ILL;
      s.cfgiSte(c.sid);
      return CERROR_NONE;
    case CMD_CFGI_STE_RANGE: {
      if (c.ssec) return CERROR_ILL;
      const mask = 2 ** (c.range + 1) - 1;
      const first = c.sid - (c.sid % (mask + 1));
      s.cfgiRange(first, first + mask);
      return CERROR_NONE;
    }
    case CMD_CFGI_CD:
      if (c.ssec) return CERROR_ILL;
      s.cfgiCd(c.sid, c.ssid);
      return CERROR_NONE;
    case CMD_CFGI_CD_ALL:
      if (c.ssec) return CERROR_ILL;
      s.cfgiCdAll(c.sid);
      return CERROR_NONE;
    case CMD_TLBI_NH_ALL:
    case CMD_TLBI_NSNH_ALL:
      tlbiAll(s);
      return CERROR_NONE;
    case CMD_TLBI_NH_ASID:
      tlbiAsid(s, c.asid);
      return CERROR_NONE;
    case CMD_TLBI_NH_VA:
    case CMD_TLBI_NH_VAA: {
      const asid = c.opcode === CMD_TLBI_NH_VA ? c.asid : null;
      if (c.tg === 0) tlbiVa(s, asid, c.addr, 1, 0);
      else tlbiVa(s, asid, c.addr, (c.num + 1) * 2 ** c.scale, c.tg * 2 + 10);
      return CERROR_NONE;
    }
    case CMD_ATC_INV:
      if (!(s.idr0 & IDR0_ATS)) return q ? CERROR_NONE : CERROR_ILL;
      atcInv(s, c);
      return CERROR_NONE;
    case CMD_PRI_RESP:
      return q ? CERROR_NONE : CERROR_ILL;
    case CMD_RESUME:
    case CMD_STALL_TERM:
      return CERROR_NONE;
    case CMD_TLBI_EL3_ALL:
    case CMD_TLBI_EL3_VA:
    case CMD_TLBI_EL2_ALL:
    case CMD_TLBI_EL2_ASID:
    case CMD_TLBI_EL2_VA:
    case CMD_TLBI_EL2_VAA:
    case CMD_TLBI_S12_VMALL:
    case CMD_TLBI_S2_IPA:
      return q ? CERROR_NONE : CERROR_ILL;
    default:
      // Includes 0x07: QEMU names it CFGI_ALL but has no case for it; the architected CFGI_ALL is 0x04, Range 31.
      return CERROR_ILL;
  }
}

/**
 * smmuv3_cmdq_consume (IHI 0070 3.5.3, 7.1): runs on writes to CMDQ_PROD,
 * CR0 and GERRORN, while CMDQEN = 1 and no command error is pending
 * (GERROR.CMDQ_ERR != GERRORN.CMDQ_ERR). CONS advances only past completed
 * commands. A command that cannot be read (CERROR_ABT) or is illegal
 * (CERROR_ILL) stops the queue with CONS on it, CONS.ERR = the code and
 * GERROR.CMDQ_ERR toggled, until software acknowledges through GERRORN.
 */
export function consumeCommands(s: Smmuv3): void {
  const cq = s.cmdq;
  let err = CERROR_NONE;
  while (s.cr0 & CR0_CMDQEN && !cq.empty) {
    if ((s.gerror ^ s.gerrorn) & GERROR_CMDQ_ERR) break;
    const w = s.readWords(cq.consEntry(), 4);
    if (!w) {
      err = CERROR_ABT;
      break;
    }
    const tracer = s.sys.tracer;
    const name = tracer.on ? commandTraceName(w[0]! & 0xff) : '';
    if (tracer.on) tracer.begin(SMMU_TRACK, 'inv', name, { cons: cq.cons, w0: hex(w[0]! >>> 0), w1: hex(w[1]! >>> 0), w2: hex(w[2]! >>> 0), w3: hex(w[3]! >>> 0) });
    err = executeCommand(s, new SmmuCommand(w));
    if (tracer.on) tracer.end(SMMU_TRACK, 'inv', name, err !== CERROR_NONE ? { cerror: err } : undefined);
    s.stats.commands++;
    if (err !== CERROR_NONE) {
      s.log.warn('smmuv3', `command 0x${(w[0]! & 0xff).toString(16)} at CONS 0x${cq.cons.toString(16)}: ${err === CERROR_ILL ? 'CERROR_ILL' : 'CERROR_ABT'}`);
      break;
    }
    cq.incCons();
  }
  if (err === CERROR_ABT) s.log.warn('smmuv3', `cannot read the command at 0x${cq.consEntry().toString(16)}: CERROR_ABT`);
  if (err !== CERROR_NONE) {
    cq.cons = ((cq.cons & ~(0x7f << 24)) | (err << 24)) >>> 0;
    s.raiseGerror(GERROR_CMDQ_ERR);
  }
}
