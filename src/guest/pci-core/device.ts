import type { PciConfigAccess } from './config-access.js';
import {
  bdfName, PCI_COMMAND, PCI_COMMAND_MASTER, PCI_EXP_FLAGS, PCI_EXP_FLAGS_TYPE, pciDevId, pciSlot,
} from './regs.js';

export interface PciCap {
  readonly id: number;
  readonly offset: number;
}

export interface PciExtCap {
  readonly id: number;
  readonly version: number;
  readonly offset: number;
}

/** A virtio vendor capability (virtio 1.2 section 4.1.4). */
export interface VirtioPciCap {
  readonly capOffset: number;
  readonly cfgType: number;
  readonly bar: number;
  readonly id: number;
  readonly offset: number;
  readonly length: number;
  /** Only for the notify capability (cfg_type 2). */
  readonly notifyOffMultiplier?: number;
}

export type BarKind = 'io' | 'mem32' | 'mem64';

export interface PciBar {
  readonly index: number;
  readonly kind: BarKind;
  readonly prefetchable: boolean;
  readonly size: number;
  /** Address on the PCI bus as programmed in the BAR (0 when unassigned). */
  busAddress: number;
  /** The same address as the CPU reaches it (host-bridge window translation applied). */
  cpuAddress: number;
}

/** A PCI bus (Linux struct pci_bus): the root bus has no parent and no bridge. */
export class PciBus {
  readonly devices: PciFunction[] = [];
  readonly children: PciBus[] = [];

  constructor(readonly number: number, readonly parent: PciBus | undefined, readonly self: PciFunction | undefined) {}

  get isRoot(): boolean {
    return this.parent === undefined;
  }
}

/**
 * One PCI function as the guest found it (Linux struct pci_dev): identity,
 * BARs, capabilities and its place in the bus tree. Config access goes
 * through the mechanism it was found with.
 */
export class PciFunction {
  vendor = 0xffff;
  device = 0xffff;
  revision = 0;
  classCode = 0;
  headerType = 0;
  multifunction = false;
  subsystemVendor = 0;
  subsystemId = 0;
  readonly bars: PciBar[] = [];
  caps: PciCap[] = [];
  extCaps: PciExtCap[] = [];
  virtioCaps: VirtioPciCap[] = [];
  /** The child bus of a bridge (Linux pdev->subordinate). */
  subordinate: PciBus | undefined;
  /** Set by a platform quirk or the test harness (Linux pdev->untrusted: external-facing). */
  untrusted = false;

  constructor(readonly cfg: PciConfigAccess, readonly bus: PciBus, readonly devfn: number) {}

  get segment(): number {
    return this.cfg.segment;
  }
  get busNumber(): number {
    return this.bus.number;
  }
  /** Requester ID, bus[15:8] devfn[7:0]. */
  get devId(): number {
    return pciDevId(this.bus.number, this.devfn);
  }
  get name(): string {
    return bdfName(this.segment, this.bus.number, this.devfn);
  }
  get slot(): number {
    return pciSlot(this.devfn);
  }
  get isBridge(): boolean {
    return (this.headerType & 0x7f) === 1;
  }
  get idString(): string {
    const h = (v: number): string => v.toString(16).padStart(4, '0');
    return `${h(this.vendor)}:${h(this.device)}`;
  }

  cap(id: number): PciCap | undefined {
    return this.caps.find((c) => c.id === id);
  }
  extCap(id: number): PciExtCap | undefined {
    return this.extCaps.find((c) => c.id === id);
  }

  /** Offset of the PCI Express capability (Linux pdev->pcie_cap), or undefined for conventional PCI. */
  pcieCap: number | undefined;
  get isPcie(): boolean {
    return this.pcieCap !== undefined;
  }
  /** Device/port type from PCI_EXP_FLAGS[7:4] (Linux pci_pcie_type). */
  get pcieType(): number | undefined {
    if (this.pcieCap === undefined) return undefined;
    return (this.read(this.pcieCap + PCI_EXP_FLAGS, 2) & PCI_EXP_FLAGS_TYPE) >> 4;
  }

  read(offset: number, size: 1 | 2 | 4): number {
    return this.cfg.read(this.bus.number, this.devfn, offset, size);
  }
  write(offset: number, size: 1 | 2 | 4, value: number): void {
    this.cfg.write(this.bus.number, this.devfn, offset, size, value);
  }
  /** Read-modify-write of the command register. */
  setCommand(set: number, clear = 0): void {
    const cmd = this.read(PCI_COMMAND, 2);
    const next = (cmd & ~clear) | set;
    if (next !== cmd) this.write(PCI_COMMAND, 2, next);
  }

  /** pci_set_master: bus mastering on the function and on every bridge above it. */
  setMaster(): void {
    for (let b: PciBus | undefined = this.bus; b && b.self; b = b.parent) b.self.setCommand(PCI_COMMAND_MASTER);
    this.setCommand(PCI_COMMAND_MASTER);
  }
  clearMaster(): void {
    this.setCommand(0, PCI_COMMAND_MASTER);
  }
}
