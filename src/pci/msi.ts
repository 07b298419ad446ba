import { addCapability } from './capability.js';
import { ConfigSpace, rangesOverlap } from './config-space.js';
import type { PCIDevice } from './device.js';
import { PCI_CAP_ID_MSI } from './regs.js';

/**
 * MSI capability (PCI 3.0 section 6.8.1; QEMU hw/pci/msi.c). Layout from
 * the capability: +2 Message Control (enable bit 0, Multiple Message
 * Capable [3:1], Multiple Message Enable [6:4], 64-bit bit 7, per-vector
 * masking bit 8), +4 address low, +8 address high (64-bit only), then the
 * data word, then mask and pending dwords (per-vector masking only).
 */
export const PCI_MSI_FLAGS = 2;
export const PCI_MSI_FLAGS_ENABLE = 0x0001;
export const PCI_MSI_FLAGS_QMASK = 0x000e;
export const PCI_MSI_FLAGS_QSIZE = 0x0070;
export const PCI_MSI_FLAGS_64BIT = 0x0080;
export const PCI_MSI_FLAGS_MASKBIT = 0x0100;
export const PCI_MSI_ADDRESS_LO = 4;
export const PCI_MSI_ADDRESS_LO_MASK = 0xfffffffc;

/** A message: where the function writes and the 32-bit value (data in the low 16 bits). */
export interface MSIMessage {
  readonly address: bigint;
  readonly data: number;
}

function capSize(flags: number): number {
  return (flags & PCI_MSI_FLAGS_64BIT ? 14 : 10) + (flags & PCI_MSI_FLAGS_MASKBIT ? 10 : 0);
}

/** msi_send_message: a dword write through the function's bus-master address space, tagged with its requester ID. */
export function sendMsiMessage(dev: PCIDevice, msg: MSIMessage): void {
  dev.busMaster.as.write(msg.address, 4, msg.data >>> 0, 0, { requesterId: dev.requesterId });
}

export class MsiCapability {
  private constructor(private readonly dev: PCIDevice, readonly offset: number) {}

  /**
   * msi_init: `vectors` must be a power of two up to 32. Makes the enable
   * bit, the vector count, address, data and (with per-vector masking) the
   * mask bits writable, and hooks config writes and reset.
   */
  static init(dev: PCIDevice, offset: number, vectors: number, is64: boolean, perVectorMask: boolean): MsiCapability {
    if (vectors < 1 || vectors > 32 || (vectors & (vectors - 1))) throw new Error(`MSI: bad vector count ${vectors}`);
    let flags = (31 - Math.clz32(vectors)) << 1;
    if (is64) flags |= PCI_MSI_FLAGS_64BIT;
    if (perVectorMask) flags |= PCI_MSI_FLAGS_MASKBIT;
    const pos = addCapability(dev.cs, PCI_CAP_ID_MSI, offset, capSize(flags));
    const cs = dev.cs;
    cs.set16(pos + PCI_MSI_FLAGS, flags);
    ConfigSpace.set16(cs.wmask, pos + PCI_MSI_FLAGS, PCI_MSI_FLAGS_QSIZE | PCI_MSI_FLAGS_ENABLE);
    ConfigSpace.set32(cs.wmask, pos + PCI_MSI_ADDRESS_LO, PCI_MSI_ADDRESS_LO_MASK);
    if (is64) ConfigSpace.set32(cs.wmask, pos + 8, 0xffffffff);
    const msi = new MsiCapability(dev, pos);
    dev.msi = msi;
    ConfigSpace.set16(cs.wmask, msi.dataOff, 0xffff);
    if (perVectorMask) ConfigSpace.set32(cs.wmask, msi.maskOff, (0xffffffff >>> (32 - vectors)) >>> 0);
    dev.addConfigWriteHook((a, v, l) => msi.writeConfig(a, v, l));
    dev.addResetHook(() => msi.reset());
    return msi;
  }

  private get flags(): number {
    return this.dev.cs.get16(this.offset + PCI_MSI_FLAGS);
  }
  private get is64(): boolean {
    return (this.flags & PCI_MSI_FLAGS_64BIT) !== 0;
  }
  private get dataOff(): number {
    return this.offset + (this.is64 ? 12 : 8);
  }
  private get maskOff(): number {
    return this.offset + (this.is64 ? 16 : 12);
  }
  private get pendingOff(): number {
    return this.offset + (this.is64 ? 20 : 16);
  }

  /** msi_enabled. */
  get enabled(): boolean {
    return (this.flags & PCI_MSI_FLAGS_ENABLE) !== 0;
  }

  /** Vectors the guest enabled (Multiple Message Enable). */
  get vectorsEnabled(): number {
    return 1 << ((this.flags & PCI_MSI_FLAGS_QSIZE) >> 4);
  }

  /** Vectors the function can request (Multiple Message Capable). */
  get vectorsAllocated(): number {
    return 1 << ((this.flags & PCI_MSI_FLAGS_QMASK) >> 1);
  }

  isMasked(vector: number): boolean {
    if (!(this.flags & PCI_MSI_FLAGS_MASKBIT)) return false;
    return ((this.dev.cs.get32(this.maskOff) >>> vector) & 1) === 1;
  }

  /** msi_get_message: the low bits of the data carry the vector when several are enabled. */
  message(vector: number): MSIMessage {
    const cs = this.dev.cs;
    let address = BigInt(cs.get32(this.offset + PCI_MSI_ADDRESS_LO));
    if (this.is64) address |= BigInt(cs.get32(this.offset + 8)) << 32n;
    let data = cs.get16(this.dataOff);
    const n = this.vectorsEnabled;
    if (n > 1) data = (data & ~(n - 1)) | vector;
    return { address, data };
  }

  /** msi_set_message (used by platforms that program the message themselves, e.g. sPAPR RTAS). */
  setMessage(msg: MSIMessage): void {
    const cs = this.dev.cs;
    cs.set32(this.offset + PCI_MSI_ADDRESS_LO, Number(msg.address & 0xffffffffn));
    if (this.is64) cs.set32(this.offset + 8, Number(msg.address >> 32n));
    cs.set16(this.dataOff, msg.data);
  }

  /** msi_notify: a masked vector becomes pending; otherwise the message is written. */
  notify(vector: number): void {
    if (this.isMasked(vector)) {
      ConfigSpace.setBits32(this.dev.cs.config, this.pendingOff, 1 << vector);
      return;
    }
    sendMsiMessage(this.dev, this.message(vector));
  }

  /** msi_write_config. */
  private writeConfig(addr: number, _val: number, len: number): void {
    let flags = this.flags;
    if (!rangesOverlap(addr, len, this.offset, capSize(flags)) || !(flags & PCI_MSI_FLAGS_ENABLE)) return;
    // MSI and INTx are mutually exclusive (PCI 3.0 section 6.8.3.3).
    this.dev.deassertIntx();
    const logNum = (flags & PCI_MSI_FLAGS_QSIZE) >> 4;
    const logMax = (flags & PCI_MSI_FLAGS_QMASK) >> 1;
    if (logNum > logMax) {
      flags = (flags & ~PCI_MSI_FLAGS_QSIZE) | (logMax << 4);
      this.dev.cs.set16(this.offset + PCI_MSI_FLAGS, flags);
    }
    if (!(flags & PCI_MSI_FLAGS_MASKBIT)) return;
    const n = this.vectorsEnabled;
    const cs = this.dev.cs;
    const pending = (cs.get32(this.pendingOff) & (0xffffffff >>> (32 - n))) >>> 0;
    cs.set32(this.pendingOff, pending);
    for (let v = 0; v < n; v++) {
      if (this.isMasked(v) || !((pending >>> v) & 1)) continue;
      ConfigSpace.clearBits32(cs.config, this.pendingOff, 1 << v);
      this.notify(v);
    }
  }

  /** msi_reset. */
  private reset(): void {
    const cs = this.dev.cs;
    cs.set16(this.offset + PCI_MSI_FLAGS, this.flags & ~(PCI_MSI_FLAGS_QSIZE | PCI_MSI_FLAGS_ENABLE));
    cs.set32(this.offset + PCI_MSI_ADDRESS_LO, 0);
    if (this.is64) cs.set32(this.offset + 8, 0);
    cs.set16(this.dataOff, 0);
    if (this.flags & PCI_MSI_FLAGS_MASKBIT) {
      cs.set32(this.maskOff, 0);
      cs.set32(this.pendingOff, 0);
    }
  }
}
