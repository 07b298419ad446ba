/**
 * RTAS (PAPR+ chapter 7; QEMU hw/ppc/spapr_rtas.c): calls by token, each
 * with 32-bit arguments and return values. Tokens follow QEMU's table
 * (RTAS_TOKEN_BASE 0x2000 + index, include/hw/ppc/spapr.h), so a guest or a
 * qtest script that names a call finds the same token. Later rooms register
 * their calls (the sPAPR room adds the DDW calls 0x2026..0x2029).
 */
export const RTAS_TOKEN_BASE = 0x2000;
export const RTAS_READ_PCI_CONFIG = RTAS_TOKEN_BASE + 0x14;
export const RTAS_WRITE_PCI_CONFIG = RTAS_TOKEN_BASE + 0x15;
export const RTAS_IBM_READ_PCI_CONFIG = RTAS_TOKEN_BASE + 0x16;
export const RTAS_IBM_WRITE_PCI_CONFIG = RTAS_TOKEN_BASE + 0x17;
export const RTAS_IBM_QUERY_PE_DMA_WINDOW = RTAS_TOKEN_BASE + 0x26;
export const RTAS_IBM_CREATE_PE_DMA_WINDOW = RTAS_TOKEN_BASE + 0x27;
export const RTAS_IBM_REMOVE_PE_DMA_WINDOW = RTAS_TOKEN_BASE + 0x28;
export const RTAS_IBM_RESET_PE_DMA_WINDOW = RTAS_TOKEN_BASE + 0x29;

// RTAS status codes (PAPR+ table 7-1).
export const RTAS_OUT_SUCCESS = 0;
export const RTAS_OUT_HW_ERROR = -1;
export const RTAS_OUT_BUSY = -2;
export const RTAS_OUT_PARAM_ERROR = -3;

/** One call: its arguments and where its return values go (QEMU's rtas_ld / rtas_st). */
export interface RtasCall {
  readonly token: number;
  readonly nargs: number;
  readonly nret: number;
  /** rtas_ld(args, n): the n-th 32-bit argument. */
  arg(n: number): number;
  /** rtas_ldq(args, n): arguments n and n+1 as a 64-bit value. */
  argq(n: number): bigint;
  /** rtas_st(rets, n, v). */
  ret(n: number, value: number): void;
}

export type RtasHandler = (call: RtasCall) => void;

/**
 * Guest physical memory as RTAS calls reach it (work areas, log buffers):
 * big-endian words, addresses in real mode (ppc64_phys_to_real drops the
 * top 4 bits; the implementation does it).
 */
export interface RtasMemory {
  readU32(addr: bigint): number;
  writeU32(addr: bigint, value: number): void;
  writeBytes(addr: bigint, data: Uint8Array): void;
}

export class RtasTable {
  private readonly byToken = new Map<number, { name: string; fn: RtasHandler }>();

  /** spapr_rtas_register. */
  register(token: number, name: string, fn: RtasHandler): void {
    if (this.byToken.has(token)) throw new Error(`RTAS token 0x${token.toString(16)} registered twice`);
    this.byToken.set(token, { name, fn });
  }

  tokenOf(name: string): number | undefined {
    for (const [t, e] of this.byToken) if (e.name === name) return t;
    return undefined;
  }

  names(): [number, string][] {
    return [...this.byToken].map(([t, e]) => [t, e.name]);
  }

  /** spapr_rtas_call: an unknown token answers -3 (parameter error). */
  call(call: RtasCall): void {
    const e = this.byToken.get(call.token);
    if (!e) {
      call.ret(0, RTAS_OUT_PARAM_ERROR);
      return;
    }
    e.fn(call);
  }

  /** A call on plain arrays (the GuestPort's view): rets[0] is the status. */
  callWithArrays(token: number, args: readonly number[], nret: number): number[] {
    const rets = new Array<number>(nret).fill(0);
    this.call({
      token, nargs: args.length, nret,
      arg: (n) => (args[n] ?? 0) >>> 0,
      argq: (n) => (BigInt((args[n] ?? 0) >>> 0) << 32n) | BigInt((args[n + 1] ?? 0) >>> 0),
      ret: (n, v) => {
        if (n < nret) rets[n] = v | 0;
      },
    });
    return rets;
  }
}
