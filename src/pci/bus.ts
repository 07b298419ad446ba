import type { AddressSpace } from '../memory/address-space.js';
import type { MemorySystem } from '../memory/memory-system.js';
import type { MemoryRegion } from '../memory/region.js';
import type { VirtualClock } from '../base/clock.js';
import type { EventLog } from '../base/event-log.js';
import type { IrqLine } from '../base/irq.js';
import type { SettlePoint } from '../base/settle-point.js';
import type { PCIDevice } from './device.js';
import { iommuAlias, type PCIIOMMUOps } from './iommu.js';
import { PCI_BRIDGE_CONTROL, PCI_BRIDGE_CTL_BUS_RESET, PCI_DEVFN, PCI_FUNC, PCI_SECONDARY_BUS, PCI_SLOT, PCI_SUBORDINATE_BUS } from './regs.js';

/** What PCI functions need from their machine. */
export interface PCIBusContext {
  readonly mem: MemorySystem;
  readonly clock: VirtualClock;
  readonly log: EventLog;
  /** address_space_memory: where DMA goes when no IOMMU is attached. */
  readonly systemMemory: AddressSpace;
  /** Where backends that run on other threads (vhost) have their work completed; absent, they complete each kick at once. */
  readonly settle?: SettlePoint;
  /** MachineClass.pci_allow_0_address (true on virt and pseries). */
  readonly allowZeroBar: boolean;
  /**
   * QEMU's standard output: a few device models printf() there (edu's DMA
   * clamping message); with -qtest stdio it shares the stream with qtest.
   */
  readonly console: (text: string) => void;
  /** Target byte order: DEVICE_NATIVE_ENDIAN devices (edu) follow it. */
  readonly targetBigEndian: boolean;
  /** pcie_chassis_add_slot: false when (chassis, slot) is taken. */
  claimChassisSlot(chassis: number, slot: number): boolean;
  releaseChassisSlot(chassis: number, slot: number): void;
  /** QEMU's automatic bus names: "pci.N" / "pcie.N" with a counter per bus type. */
  autoBusName(kind: 'pci' | 'pcie'): string;
  /** A function was removed (hot-unplug): the machine forgets it and reports DEVICE_DELETED. */
  deviceUnplugged?(dev: PCIDevice): void;
}

/** A placement or topology mistake (QEMU's realize errors); the machine turns it into a ConfigError. */
export class PCIError extends Error {
  override readonly name = 'PCIError';
}

/** INTx routing of a root bus (QEMU pci_bus_irqs / pci_bus_map_irqs). */
export interface IntxRouting {
  /** map_irq(dev, pin index 0..3) -> the bus's IRQ number. */
  mapIrq(dev: PCIDevice, pinIndex: number): number;
  /** One line per bus IRQ number, connected by the board. */
  readonly lines: readonly IrqLine[];
}

/**
 * A PCI bus (QEMU PCIBus): up to 256 functions by devfn, the containers
 * BARs map into, child buses behind bridges, INTx routing, and on a root
 * bus the IOMMU hook. Bus numbers are not stored: a secondary bus's number
 * is whatever the guest programmed into its bridge (pci_bus_num).
 */
export class PCIBus {
  readonly devices: (PCIDevice | undefined)[] = new Array<PCIDevice | undefined>(256).fill(undefined);
  readonly children: PCIBus[] = [];
  iommuOps: PCIIOMMUOps | undefined;
  private routing: IntxRouting | undefined;
  private readonly irqCount: number[] = [];

  constructor(
    readonly name: string,
    readonly ctx: PCIBusContext,
    readonly express: boolean,
    readonly addressSpaceMem: MemoryRegion,
    readonly addressSpaceIo: MemoryRegion,
    /** The bridge whose secondary side this is; undefined on a root bus. */
    readonly parentDev?: PCIDevice,
    /** The root bus number (host bridges with a bus range start above 0). */
    private readonly rootNumber = 0,
    /**
     * Whether functions on this bus expose config space beyond 256 bytes
     * (pci_bus_allows_extended_config_space): PCIe buses do, and so does
     * the sPAPR PHB's conventional root bus.
     */
    readonly allowsExtendedConfig = express,
  ) {
    parentDev?.bus.children.push(this);
  }

  get isRoot(): boolean {
    return this.parentDev === undefined;
  }

  get root(): PCIBus {
    let b: PCIBus = this;
    while (b.parentDev) b = b.parentDev.bus;
    return b;
  }

  /** pci_bus_num: the secondary bus number its bridge holds, or the root number. */
  get number(): number {
    return this.parentDev ? this.parentDev.cs.get8(PCI_SECONDARY_BUS) : this.rootNumber;
  }

  /** pci_secondary_bus_in_range, for the bridge above this bus. */
  private inRange(busNum: number): boolean {
    const p = this.parentDev!;
    return !(p.cs.get16(PCI_BRIDGE_CONTROL) & PCI_BRIDGE_CTL_BUS_RESET)
      && busNum > p.cs.get8(PCI_SECONDARY_BUS) && busNum <= p.cs.get8(PCI_SUBORDINATE_BUS);
  }

  /** pci_find_bus_nr: routes by the secondary/subordinate numbers programmed now. */
  findBus(busNum: number): PCIBus | undefined {
    if (this.number === busNum) return this;
    if (!this.isRoot && !this.inRange(busNum)) return undefined;
    for (let bus: PCIBus | undefined = this; bus;) {
      let next: PCIBus | undefined;
      for (const sec of bus.children) {
        if (sec.number === busNum) return sec;
        if (sec.inRange(busNum)) {
          next = sec;
          break;
        }
      }
      bus = next;
    }
    return undefined;
  }

  /** pci_find_device. */
  findDevice(busNum: number, devfn: number): PCIDevice | undefined {
    return this.findBus(busNum)?.devices[devfn];
  }

  /** Every function on this bus and below, depth first. */
  *allDevices(): Generator<PCIDevice> {
    for (const d of this.devices) if (d) yield d;
    for (const c of this.children) yield* c.allDevices();
  }

  /** Finds a bus in this hierarchy by name (the -device bus= property). */
  findBusByName(name: string): PCIBus | undefined {
    if (this.name === name) return this;
    for (const c of this.children) {
      const b = c.findBusByName(name);
      if (b) return b;
    }
    return undefined;
  }

  /**
   * do_pci_register_device's placement: an explicit devfn must be free; no
   * devfn takes the first free slot's function 0. Then the multifunction
   * rules (pci_init_multifunction), then realize. Errors carry QEMU's texts.
   */
  plug(dev: PCIDevice, devfn?: number): void {
    const name = dev.typeName;
    if (devfn === undefined) {
      let found = -1;
      for (let d = 0; d < 256; d += 8) {
        if (!this.devices[d]) {
          found = d;
          break;
        }
      }
      if (found < 0) throw new PCIError(`PCI: no slot/function available for ${name}, all in use or reserved`);
      devfn = found;
    } else if (this.devices[devfn]) {
      const other = this.devices[devfn]!;
      throw new PCIError(`PCI: slot ${PCI_SLOT(devfn)} function ${PCI_FUNC(devfn)} not available for ${name}, in use by ${other.typeName},id=${other.id ?? '(null)'}`);
    }
    const slot = PCI_SLOT(devfn);
    if (PCI_FUNC(devfn)) {
      const f0 = this.devices[PCI_DEVFN(slot, 0)];
      if (f0 && !f0.multifunction) {
        throw new PCIError(`PCI: single function device can't be populated in function ${slot.toString(16)}.${PCI_FUNC(devfn).toString(16)}`);
      }
    } else if (!dev.multifunction) {
      for (let f = 1; f < 8; f++) {
        if (this.devices[PCI_DEVFN(slot, f)]) {
          throw new PCIError(`PCI: ${slot.toString(16)}.0 indicates single function, but ${slot.toString(16)}.${f.toString(16)} is already populated.`);
        }
      }
    }
    this.devices[devfn] = dev;
    try {
      dev.realize(this, devfn);
    } catch (e) {
      this.devices[devfn] = undefined;
      dev.abortRealize();
      throw e;
    }
    this.parentDev?.childPlugged(dev);
  }

  /** Removes a function (unplug): unrealize, then tell the IOMMU. */
  unplug(dev: PCIDevice): void {
    if (this.devices[dev.devfn] !== dev) throw new PCIError(`${dev.typeName} is not on bus ${this.name}`);
    const alias = iommuAlias(dev);
    dev.unrealize();
    this.devices[dev.devfn] = undefined;
    alias.iommuBus?.iommuOps?.deviceRemoved?.(alias.bus, alias.devfn, dev);
    this.ctx.deviceUnplugged?.(dev);
  }

  /** The address space a function's "bus master" alias points into (pci_device_iommu_address_space). */
  dmaAddressSpaceFor(dev: PCIDevice): AddressSpace {
    const a = iommuAlias(dev);
    const ops = a.iommuBus?.iommuOps;
    return ops ? ops.getAddressSpace(a.bus, a.devfn) : this.ctx.systemMemory;
  }

  /**
   * pci_setup_iommu on a root bus. An IOMMU attached after devices exist
   * re-points every function's "bus master" alias below this bus.
   */
  setIommu(ops: PCIIOMMUOps | undefined): void {
    if (!this.isRoot) throw new Error('the IOMMU hook belongs to a root bus');
    this.iommuOps = ops;
    this.ctx.mem.transaction(() => {
      for (const d of this.allDevices()) d.busMaster.attach(this.dmaAddressSpaceFor(d));
    });
  }

  // INTx (pci_change_irq_level): secondary buses swizzle and pass up.
  setIntxRouting(r: IntxRouting): void {
    this.routing = r;
    this.irqCount.length = 0;
    for (let i = 0; i < r.lines.length; i++) this.irqCount.push(0);
  }

  /** pci_swizzle_map_irq_fn: (pin + slot) % 4 (PCI-to-PCI Bridge 1.2 table 9-1). */
  static swizzle(dev: PCIDevice, pinIndex: number): number {
    return (pinIndex + PCI_SLOT(dev.devfn)) % 4;
  }

  changeIrqLevel(dev: PCIDevice, pinIndex: number, change: number): void {
    let bus: PCIBus = this;
    let d = dev;
    let irq = pinIndex;
    while (!bus.routing) {
      if (!bus.parentDev) return; // a root bus the board did not wire
      irq = PCIBus.swizzle(d, irq);
      d = bus.parentDev;
      bus = d.bus;
    }
    irq = bus.routing.mapIrq(d, irq);
    bus.irqCount[irq] = (bus.irqCount[irq] ?? 0) + change;
    bus.routing.lines[irq]?.set(bus.irqCount[irq]! !== 0 ? 1 : 0);
  }

  /** The level a root bus drives on bus IRQ `n`. */
  irqLevel(n: number): number {
    return (this.irqCount[n] ?? 0) !== 0 ? 1 : 0;
  }

  /** Clears INTx counts (pcibus_reset). */
  resetIrqs(): void {
    for (let i = 0; i < this.irqCount.length; i++) {
      if (this.irqCount[i]) {
        this.irqCount[i] = 0;
        this.routing?.lines[i]?.set(0);
      }
    }
  }
}
