import { MEMTX_OK, type MemTxAttrs, type MemTxResult } from '../memory/attrs.js';
import type { MemoryRegion } from '../memory/region.js';
import { BAR_UNMAPPED, barAddress, barIsIo, initBarRegister, type PCIIORegion } from './bar.js';
import type { PCIBus, PCIBusContext } from './bus.js';
import { BusMaster } from './bus-master.js';
import { findCapability } from './capability.js';
import { initStandardMasks, resetStandardRegisters } from './config-init.js';
import { ConfigSpace, rangeCoversByte, rangesOverlap } from './config-space.js';
import { pciRequesterId } from './iommu.js';
import type { MsiCapability } from './msi.js';
import type { MsixCapability } from './msix.js';
import { PCI_EXP_FLAGS, PCI_EXP_FLAGS_TYPE, PCI_EXP_FLAGS_TYPE_SHIFT } from './pcie-regs.js';
import {
  PCI_BASE_ADDRESS_0, PCI_CAP_ID_EXP, PCI_CLASS_DEVICE, PCI_CLASS_PROG, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE,
  PCI_COMMAND_MASTER, PCI_DEVICE_ID, PCI_HEADER_TYPE, PCI_HEADER_TYPE_BRIDGE, PCI_HEADER_TYPE_MULTI_FUNCTION,
  PCI_INTERRUPT_PIN, PCI_NUM_REGIONS, PCI_REVISION_ID, PCI_ROM_ADDRESS, PCI_ROM_ADDRESS1, PCI_STATUS,
  PCI_STATUS_INTERRUPT, PCI_SUBDEVICE_ID_QEMU, PCI_SUBSYSTEM_ID, PCI_SUBSYSTEM_VENDOR_ID, PCI_SUBVENDOR_ID_REDHAT_QUMRANET,
  PCI_VENDOR_ID, PCIE_CONFIG_SPACE_SIZE, PCI_CONFIG_SPACE_SIZE,
} from './regs.js';

/** What identifies a PCI function (QEMU PCIDeviceClass ids). */
export interface PCIDeviceIdentity {
  readonly vendorId: number;
  readonly deviceId: number;
  readonly revision?: number;
  /** Class and subclass, e.g. 0x0604 (PCI_CLASS_BRIDGE_PCI). */
  readonly classId: number;
  readonly progIf?: number;
  /** Type 0 only; QEMU defaults to 1af4:1100. */
  readonly subsystemVendorId?: number;
  readonly subsystemId?: number;
  /** Type 1 header (PCI-to-PCI bridge). */
  readonly bridge?: boolean;
  /** A PCI Express function: 4 KiB configuration space (QEMU_PCI_CAP_EXPRESS). */
  readonly express?: boolean;
}

/** Observes guest config writes after the masks applied (capabilities, devices). */
export type ConfigWriteHook = (addr: number, val: number, len: number) => void;

/**
 * A PCI function (QEMU PCIDevice): configuration space with write masks,
 * BARs mapped into the bus's memory / I/O containers while decode is on, a
 * bus-master address space gated by Command.BME, INTx and DMA helpers.
 * Subclasses build their capabilities and BARs in realizeDevice() and
 * extend reset through deviceReset(). Capability modules (MSI, MSI-X, ATS,
 * slots) observe config writes through addConfigWriteHook.
 */
export abstract class PCIDevice {
  /** QEMU type name ("edu"); also the bus-master address space's name. */
  abstract readonly typeName: string;
  abstract readonly identity: PCIDeviceIdentity;
  /** The -device id= property, if any. */
  id: string | undefined;
  /** The multifunction=on property. */
  multifunction = false;
  bus!: PCIBus;
  devfn = -1;
  cs!: ConfigSpace;
  busMaster!: BusMaster;
  readonly ioRegions: (PCIIORegion | undefined)[] = new Array<PCIIORegion | undefined>(PCI_NUM_REGIONS).fill(undefined);
  /** Offset of the PCI Express capability, 0 if none. */
  expCap = 0;
  /** Set by MsiCapability.init / MsixCapability.init. */
  msi: MsiCapability | undefined;
  msix: MsixCapability | undefined;
  private irqState = 0;
  private power = true;
  private readonly writeHooks: ConfigWriteHook[] = [];
  private readonly resetHooks: (() => void)[] = [];
  private dmaAttrs: MemTxAttrs = {};

  get realized(): boolean {
    return this.devfn >= 0 && this.cs !== undefined;
  }
  get ctx(): PCIBusContext {
    return this.bus.ctx;
  }
  get isExpress(): boolean {
    return this.identity.express === true;
  }
  get isBridge(): boolean {
    return this.identity.bridge === true;
  }
  /** PCIDevice.has_power: false while the slot above has its power controller off. */
  get hasPower(): boolean {
    return this.power;
  }

  /** pci_set_power: losing power unmaps the BARs, stops DMA and resets the function. */
  setPower(on: boolean): void {
    if (this.power === on) return;
    this.power = on;
    this.updateMappings();
    this.updateBusMaster();
    if (!on) this.reset();
  }

  private updateBusMaster(): void {
    this.busMaster.setEnabled((this.cs.get16(PCI_COMMAND) & PCI_COMMAND_MASTER) !== 0 && this.power);
  }
  /** The PCIe Device/Port Type, or -1 without a PCI Express capability. */
  expressType(): number {
    if (!this.expCap) return -1;
    return (this.cs.get16(this.expCap + PCI_EXP_FLAGS) & PCI_EXP_FLAGS_TYPE) >> PCI_EXP_FLAGS_TYPE_SHIFT;
  }

  /** do_pci_register_device + the class realize: called by PCIBus.plug. */
  realize(bus: PCIBus, devfn: number): void {
    this.bus = bus;
    this.devfn = devfn;
    const id = this.identity;
    const cs = new ConfigSpace(id.express ? PCIE_CONFIG_SPACE_SIZE : PCI_CONFIG_SPACE_SIZE);
    this.cs = cs;
    cs.set16(PCI_VENDOR_ID, id.vendorId);
    cs.set16(PCI_DEVICE_ID, id.deviceId);
    cs.set8(PCI_REVISION_ID, id.revision ?? 0);
    cs.set8(PCI_CLASS_PROG, id.progIf ?? 0);
    cs.set16(PCI_CLASS_DEVICE, id.classId);
    if (id.bridge) {
      cs.set8(PCI_HEADER_TYPE, PCI_HEADER_TYPE_BRIDGE);
    } else {
      cs.set16(PCI_SUBSYSTEM_VENDOR_ID, id.subsystemVendorId ?? PCI_SUBVENDOR_ID_REDHAT_QUMRANET);
      cs.set16(PCI_SUBSYSTEM_ID, id.subsystemId ?? PCI_SUBDEVICE_ID_QEMU);
    }
    if (this.multifunction) cs.set8(PCI_HEADER_TYPE, cs.get8(PCI_HEADER_TYPE) | PCI_HEADER_TYPE_MULTI_FUNCTION);
    initStandardMasks(cs);
    this.busMaster = new BusMaster(this.ctx.mem, this.typeName);
    this.busMaster.attach(bus.dmaAddressSpaceFor(this));
    this.realizeDevice();
  }

  /** The class realize: capabilities, BARs, timers. */
  protected abstract realizeDevice(): void;

  /** A function was plugged into this bridge's secondary bus (slots track presence). */
  childPlugged(_dev: PCIDevice): void {}

  /** The class reset (runs before the generic PCI reset, as in QEMU). */
  protected deviceReset(): void {}

  /** Undo realize: unmap BARs, drop the bus-master address space. */
  unrealize(): void {
    this.deassertIntx();
    this.ctx.mem.transaction(() => {
      for (const r of this.ioRegions) if (r && r.addr !== BAR_UNMAPPED) this.barSpace(r).removeSubregion(r.region);
    });
    this.busMaster.destroy();
  }

  /** Undoes what a realize that threw left behind (called by PCIBus.plug). */
  abortRealize(): void {
    if (this.busMaster) this.busMaster.destroy();
  }

  addConfigWriteHook(hook: ConfigWriteHook): void {
    this.writeHooks.push(hook);
  }
  addResetHook(hook: () => void): void {
    this.resetHooks.push(hook);
  }

  /** PCIDeviceClass.config_read (pci_default_read_config). */
  configRead(addr: number, len: number): number {
    return this.cs.read(addr, len);
  }

  /** PCIDeviceClass.config_write (pci_default_write_config). */
  configWrite(addr: number, val: number, len: number): void {
    this.defaultWriteConfig(addr, val, len);
  }

  protected defaultWriteConfig(addr: number, val: number, len: number): void {
    const wasIrqDisabled = this.irqDisabled();
    this.cs.maskedWrite(addr, val, len);
    if (rangesOverlap(addr, len, PCI_BASE_ADDRESS_0, 24) || rangesOverlap(addr, len, PCI_ROM_ADDRESS, 4)
      || rangesOverlap(addr, len, PCI_ROM_ADDRESS1, 4) || rangeCoversByte(addr, len, PCI_COMMAND)) {
      this.updateMappings();
    }
    if (rangesOverlap(addr, len, PCI_COMMAND, 2)) {
      this.updateIrqDisabled(wasIrqDisabled);
      this.updateBusMaster();
    }
    for (const h of this.writeHooks) h(addr, val, len);
  }

  // BARs (pci_register_bar, pci_update_mappings).
  registerBar(n: number, type: number, region: MemoryRegion): PCIIORegion {
    if (this.isBridge && n >= 2 && n !== 6) throw new Error(`${this.typeName}: a type 1 header has only BAR0 and BAR1`);
    const r: PCIIORegion = { index: n, size: region.size, type, region, addr: BAR_UNMAPPED };
    initBarRegister(this.cs, n, type, region.size);
    this.ioRegions[n] = r;
    return r;
  }

  private barSpace(r: PCIIORegion): MemoryRegion {
    return barIsIo(r) ? this.bus.addressSpaceIo : this.bus.addressSpaceMem;
  }

  updateMappings(): void {
    this.ctx.mem.transaction(() => {
      for (const r of this.ioRegions) {
        if (!r) continue;
        const a = this.power ? barAddress(this.cs, r, this.ctx.allowZeroBar) : BAR_UNMAPPED;
        if (a === r.addr) continue;
        const space = this.barSpace(r);
        if (r.addr !== BAR_UNMAPPED) space.removeSubregion(r.region);
        r.addr = a;
        if (a !== BAR_UNMAPPED) space.addSubregion(r.region, a, 1);
      }
    });
  }

  // INTx (pci_set_irq / pci_irq_handler / pci_update_irq_disabled).
  irqDisabled(): boolean {
    return (this.cs.get16(PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE) !== 0;
  }
  /** INTx pin from config (1 = INTA), 0 when the function has none. */
  get interruptPin(): number {
    return this.cs.get8(PCI_INTERRUPT_PIN);
  }
  intxLevel(pinIndex: number): number {
    return (this.irqState >> pinIndex) & 1;
  }
  /** pci_set_irq: drives the function's own INTx pin. */
  setIrq(level: number): void {
    const pin = this.interruptPin;
    if (pin < 1 || pin > 4) return;
    this.irqHandler(pin - 1, level ? 1 : 0);
  }
  private irqHandler(pinIndex: number, level: number): void {
    const change = level - this.intxLevel(pinIndex);
    if (!change) return;
    this.irqState = level ? this.irqState | (1 << pinIndex) : this.irqState & ~(1 << pinIndex);
    const st = this.cs.get16(PCI_STATUS);
    this.cs.set16(PCI_STATUS, this.irqState ? st | PCI_STATUS_INTERRUPT : st & ~PCI_STATUS_INTERRUPT);
    if (this.irqDisabled()) return;
    this.bus.changeIrqLevel(this, pinIndex, change);
  }
  private updateIrqDisabled(was: boolean): void {
    const now = this.irqDisabled();
    if (now === was) return;
    for (let i = 0; i < 4; i++) {
      const s = this.intxLevel(i);
      if (s) this.bus.changeIrqLevel(this, i, now ? -s : s);
    }
  }
  /** pci_device_deassert_intx. */
  deassertIntx(): void {
    for (let i = 0; i < 4; i++) this.irqHandler(i, 0);
  }

  /** Reset: the class reset, then pci_do_device_reset. */
  reset(): void {
    this.deviceReset();
    this.deassertIntx();
    resetStandardRegisters(this.cs, this.ioRegions);
    this.updateMappings();
    this.updateBusMaster();
    for (const h of this.resetHooks) h();
  }

  /** pci_requester_id: the ID on this function's own requests (MSI). */
  get requesterId(): number {
    return pciRequesterId(this);
  }

  // DMA through the bus-master address space (pci_dma_read / pci_dma_write).
  private attrs(): MemTxAttrs {
    const rid = this.requesterId;
    if (this.dmaAttrs.requesterId !== rid) this.dmaAttrs = Object.freeze({ requesterId: rid });
    return this.dmaAttrs;
  }
  dmaRead(addr: number | bigint, dst: Uint8Array): MemTxResult {
    return this.busMaster.as.readBytes(addr, dst, this.attrs());
  }
  dmaWrite(addr: number | bigint, src: Uint8Array): MemTxResult {
    return this.busMaster.as.writeBytes(addr, src, this.attrs());
  }
  /** ldl_le_pci_dma: the value, or undefined when the access failed. */
  dmaLd32(addr: number | bigint): number | undefined {
    const r = this.busMaster.as.read(addr, 4, this.attrs());
    return r.result === MEMTX_OK ? r.lo : undefined;
  }
  dmaSt32(addr: number | bigint, value: number): MemTxResult {
    return this.busMaster.as.write(addr, 4, value >>> 0, 0, this.attrs());
  }
  dmaLd64(addr: number | bigint): { lo: number; hi: number } | undefined {
    const r = this.busMaster.as.read(addr, 8, this.attrs());
    return r.result === MEMTX_OK ? { lo: r.lo, hi: r.hi } : undefined;
  }
  dmaSt64(addr: number | bigint, lo: number, hi: number): MemTxResult {
    return this.busMaster.as.write(addr, 8, lo >>> 0, hi >>> 0, this.attrs());
  }

  /** Standard capability lookup. */
  findCapability(capId: number): number {
    return findCapability(this.cs, capId);
  }
  hasExpressCapability(): boolean {
    return this.findCapability(PCI_CAP_ID_EXP) !== 0;
  }

  /** "00:01.0"-style address with the bus number programmed now. */
  get bdfString(): string {
    const h2 = (n: number) => n.toString(16).padStart(2, '0');
    return `${h2(this.bus.number)}:${h2(this.devfn >> 3)}.${this.devfn & 7}`;
  }
}
