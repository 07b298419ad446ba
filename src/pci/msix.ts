import type { MemoryRegion } from '../memory/region.js';
import { addCapability } from './capability.js';
import { ConfigSpace, rangeCoversByte } from './config-space.js';
import type { PCIDevice } from './device.js';
import { sendMsiMessage, type MSIMessage } from './msi.js';
import { PCI_BASE_ADDRESS_SPACE_MEMORY, PCI_CAP_ID_MSIX } from './regs.js';

/**
 * MSI-X (PCI 3.0 section 6.8.2; QEMU hw/pci/msix.c). Capability: +2
 * Message Control (table size - 1 [10:0], Function Mask bit 14, Enable bit
 * 15), +4 table offset | BIR, +8 PBA offset | BIR. Each 16-byte table
 * entry: address low, address high, data, vector control (bit 0 masked).
 * The PBA holds one pending bit per vector.
 */
export const PCI_MSIX_FLAGS = 2;
export const PCI_MSIX_FLAGS_MASKALL = 0x4000;
export const PCI_MSIX_FLAGS_ENABLE = 0x8000;
export const PCI_MSIX_TABLE = 4;
export const PCI_MSIX_PBA = 8;
export const PCI_MSIX_ENTRY_SIZE = 16;
export const PCI_MSIX_ENTRY_VECTOR_CTRL = 12;
export const PCI_MSIX_ENTRY_CTRL_MASKBIT = 0x1;
const MSIX_CAP_LENGTH = 12;
/** The control byte (high byte of Message Control). */
const MSIX_CONTROL_OFFSET = 3;
const MSIX_ENABLE_MASK = PCI_MSIX_FLAGS_ENABLE >> 8;
const MSIX_MASKALL_MASK = PCI_MSIX_FLAGS_MASKALL >> 8;

export class MsixCapability {
  readonly table: Uint8Array;
  readonly pba: Uint8Array;
  private functionMasked = true;

  private constructor(private readonly dev: PCIDevice, readonly offset: number, readonly entries: number) {
    this.table = new Uint8Array(entries * PCI_MSIX_ENTRY_SIZE);
    this.pba = new Uint8Array(((entries + 63) & ~63) / 8);
  }

  /** msix_init: table and PBA become MMIO subregions of the given BAR regions. */
  static init(dev: PCIDevice, entries: number, tableBar: MemoryRegion, tableBarNr: number, tableOffset: number,
    pbaBar: MemoryRegion, pbaBarNr: number, pbaOffset: number, capPos: number): MsixCapability {
    if (entries < 1 || entries > 2048) throw new Error(`MSI-X: bad vector count ${entries}`);
    const pos = addCapability(dev.cs, PCI_CAP_ID_MSIX, capPos, MSIX_CAP_LENGTH);
    const m = new MsixCapability(dev, pos, entries);
    dev.msix = m;
    const cs = dev.cs;
    cs.set16(pos + PCI_MSIX_FLAGS, entries - 1);
    cs.set32(pos + PCI_MSIX_TABLE, (tableOffset | tableBarNr) >>> 0);
    cs.set32(pos + PCI_MSIX_PBA, (pbaOffset | pbaBarNr) >>> 0);
    cs.wmask[pos + MSIX_CONTROL_OFFSET] = cs.wmask[pos + MSIX_CONTROL_OFFSET]! | MSIX_ENABLE_MASK | MSIX_MASKALL_MASK;
    m.maskAll();
    const mem = dev.ctx.mem;
    tableBar.addSubregion(mem.mmio('msix-table', m.table.length, {
      read: (off) => ConfigSpace.get32(m.table, off),
      write: (off, _size, value) => m.tableWrite(off, value),
      valid: { min: 4, max: 4 },
      impl: { min: 4, max: 4 },
    }), tableOffset);
    pbaBar.addSubregion(mem.mmio('msix-pba', m.pba.length, {
      read: (off) => ConfigSpace.get32(m.pba, off),
      write: () => undefined,
      valid: { min: 4, max: 4 },
      impl: { min: 4, max: 4 },
    }), pbaOffset);
    dev.addConfigWriteHook((a, v, l) => m.writeConfig(a, v, l));
    dev.addResetHook(() => m.reset());
    return m;
  }

  /**
   * msix_init_exclusive_bar: a 4 KiB (or larger) 32-bit memory BAR named
   * "<dev>-msix" with the table at 0 and the PBA in the upper half.
   */
  static initExclusiveBar(dev: PCIDevice, entries: number, barNr: number): MsixCapability {
    let barSize = 4096;
    let pbaOffset = barSize / 2;
    const pbaSize = ((entries + 63) & ~63) / 8;
    if (entries * PCI_MSIX_ENTRY_SIZE > pbaOffset) pbaOffset = entries * PCI_MSIX_ENTRY_SIZE;
    if (pbaOffset + pbaSize > 4096) barSize = pbaOffset + pbaSize;
    barSize = 2 ** Math.ceil(Math.log2(barSize));
    const bar = dev.ctx.mem.container(`${dev.typeName}-msix`, barSize);
    const m = MsixCapability.init(dev, entries, bar, barNr, 0, bar, barNr, pbaOffset, 0);
    dev.registerBar(barNr, PCI_BASE_ADDRESS_SPACE_MEMORY, bar);
    return m;
  }

  private get control(): number {
    return this.dev.cs.config[this.offset + MSIX_CONTROL_OFFSET]!;
  }

  /** msix_enabled. */
  get enabled(): boolean {
    return (this.control & MSIX_ENABLE_MASK) !== 0;
  }

  private vectorMasked(vector: number, fmask: boolean): boolean {
    return fmask || (this.table[vector * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL]! & PCI_MSIX_ENTRY_CTRL_MASKBIT) !== 0;
  }

  isMasked(vector: number): boolean {
    return this.vectorMasked(vector, this.functionMasked);
  }

  isPending(vector: number): boolean {
    return ((this.pba[vector >> 3]! >> (vector & 7)) & 1) === 1;
  }

  private setPending(vector: number, on: boolean): void {
    const b = vector >> 3;
    const bit = 1 << (vector & 7);
    this.pba[b] = on ? this.pba[b]! | bit : this.pba[b]! & ~bit;
  }

  /** msix_get_message. */
  message(vector: number): MSIMessage {
    const o = vector * PCI_MSIX_ENTRY_SIZE;
    const address = BigInt(ConfigSpace.get32(this.table, o)) | (BigInt(ConfigSpace.get32(this.table, o + 4)) << 32n);
    return { address, data: ConfigSpace.get32(this.table, o + 8) };
  }

  /** msix_notify: masked vectors become pending in the PBA. */
  notify(vector: number): void {
    if (!this.enabled || vector >= this.entries) return;
    if (this.isMasked(vector)) {
      this.setPending(vector, true);
      return;
    }
    sendMsiMessage(this.dev, this.message(vector));
  }

  /** msix_handle_mask_update: unmasking a pending vector delivers it. */
  private handleMaskUpdate(vector: number, wasMasked: boolean): void {
    const masked = this.isMasked(vector);
    if (masked === wasMasked) return;
    if (!masked && this.isPending(vector)) {
      this.setPending(vector, false);
      this.notify(vector);
    }
  }

  private tableWrite(off: number, value: number): void {
    const vector = Math.floor(off / PCI_MSIX_ENTRY_SIZE);
    const was = this.isMasked(vector);
    ConfigSpace.set32(this.table, off, value);
    this.handleMaskUpdate(vector, was);
  }

  /** msix_write_config: Enable and Function Mask changes. */
  private writeConfig(addr: number, _val: number, len: number): void {
    if (!rangeCoversByte(addr, len, this.offset + MSIX_CONTROL_OFFSET)) return;
    const was = this.functionMasked;
    this.functionMasked = !this.enabled || (this.control & MSIX_MASKALL_MASK) !== 0;
    if (!this.enabled) return;
    this.dev.deassertIntx();
    if (this.functionMasked === was) return;
    for (let v = 0; v < this.entries; v++) this.handleMaskUpdate(v, this.vectorMasked(v, was));
  }

  private maskAll(): void {
    for (let v = 0; v < this.entries; v++) {
      const o = v * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL;
      this.table[o] = this.table[o]! | PCI_MSIX_ENTRY_CTRL_MASKBIT;
    }
  }

  /** msix_reset. */
  private reset(): void {
    const cs = this.dev.cs;
    cs.config[this.offset + MSIX_CONTROL_OFFSET] = this.control & ~cs.wmask[this.offset + MSIX_CONTROL_OFFSET]!;
    this.table.fill(0);
    this.pba.fill(0);
    this.maskAll();
    this.functionMasked = true;
  }
}
