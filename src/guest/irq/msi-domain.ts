import type { GuestPort } from '../port.js';

/** A message a device writes to raise an interrupt (address, data). */
export interface MsiMessage {
  readonly address: number;
  readonly data: number;
}

/** x86 MSI (Intel SDM vol. 3 section 10.11.1): address 0xFEE0_0000 | destination ID [19:12], RH [3] = 0, DM [2] = 0. */
const X86_MSI_BASE = 0xfee0_0000;
/** Data [7:0] = vector, delivery mode [10:8] = 000b (fixed), trigger [15] = 0 (edge). Vectors below 0x30 are the CPU's and the legacy ISA ones (Linux FIRST_EXTERNAL_VECTOR + ISA). */
const FIRST_VECTOR = 0x30;
const LAST_VECTOR = 0xef;

/**
 * The guest kernel's MSI domain (Linux irq domains, reduced to what the
 * synthetic guest needs): one message per request, aimed at the boot CPU,
 * and the dispatch of delivered messages to their handlers. It knows the
 * x86 doorbell, which is architectural; on other boards (the GICv2m frame,
 * sPAPR's MSI RTAS calls) it offers none yet, and callers poll instead.
 */
export class MsiDomain {
  private readonly handlers = new Map<number, Map<number, () => void>>();
  private nextVector = FIRST_VECTOR;
  private listening = false;

  constructor(private readonly port: GuestPort) {}

  /** Whether this platform's doorbell is known. */
  get available(): boolean {
    return this.port.board === 'q35' || this.port.board === 'pc';
  }

  /** Allocates a message for `handler`; undefined when there is no doorbell or no vector left. */
  alloc(handler: () => void): MsiMessage | undefined {
    if (!this.available || this.nextVector > LAST_VECTOR) return undefined;
    if (!this.listening) {
      this.listening = true;
      this.port.onMsi((address, data) => this.handlers.get(Number(address))?.get(data & 0xff)?.());
    }
    const vector = this.nextVector++;
    const address = X86_MSI_BASE; // destination ID 0: the boot CPU
    let byData = this.handlers.get(address);
    if (!byData) this.handlers.set(address, (byData = new Map()));
    byData.set(vector, handler);
    return { address, data: vector };
  }
}
