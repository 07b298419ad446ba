/**
 * sPAPR hypercalls (PAPR+ chapter 14; QEMU hw/ppc/spapr_hcall.c): an
 * opcode and up to nine arguments (r4..r12), a return code in r3 and
 * outputs from r4. Later rooms register their hypercalls (the sPAPR room
 * adds H_PUT_TCE 0x20, H_GET_TCE 0x1c, H_STUFF_TCE 0x138,
 * H_PUT_TCE_INDIRECT 0x13c).
 */
export const H_SUCCESS = 0n;
export const H_HARDWARE = -1n;
export const H_FUNCTION = -2n;
export const H_PARAMETER = -4n;

export interface HcallResult {
  readonly ret: bigint;
  readonly out: bigint[];
}

export type HcallHandler = (args: readonly bigint[]) => HcallResult;

export class HcallTable {
  private readonly byOpcode = new Map<number, { name: string; fn: HcallHandler }>();

  register(opcode: number, name: string, fn: HcallHandler): void {
    if (this.byOpcode.has(opcode)) throw new Error(`hypercall 0x${opcode.toString(16)} registered twice`);
    this.byOpcode.set(opcode, { name, fn });
  }

  /** spapr_hypercall: an opcode nobody registered answers H_FUNCTION. */
  call(opcode: number, args: readonly bigint[]): HcallResult {
    const e = this.byOpcode.get(opcode);
    return e ? e.fn(args) : { ret: H_FUNCTION, out: [] };
  }
}
