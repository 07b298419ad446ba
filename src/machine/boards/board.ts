import { IrqLine } from '../../base/irq.js';
import type { PCIBus } from '../../pci/bus.js';
import type { PCIDevice } from '../../pci/device.js';
import type { PropDef, Props } from '../properties.js';
import type { Machine } from '../machine.js';
import type { FirmwareIommu } from '../firmware/description.js';

/** A guest-physical range. */
export interface Range {
  readonly name: string;
  readonly base: number;
  readonly size: number;
}

/** A PCI host bridge as firmware needs to describe it (ACPI MCFG/_CRS, DT pcie node). */
export interface PCIHostDescription {
  readonly name: string;
  /** The root bus's QEMU name ("pcie.0"). */
  readonly rootBus: string;
  readonly busRange: readonly [number, number];
  /** ECAM window, when mapped (q35: only once firmware enables PCIEXBAR). */
  readonly ecam?: Range & { readonly enabled: boolean };
  /** x86 configuration mechanism #1 ports. */
  readonly cf8?: { readonly address: number; readonly data: number };
  /** CPU-side windows onto PCI memory / I/O, with the PCI address they start at. */
  readonly windows: readonly (Range & { readonly kind: 'mmio32' | 'mmio64' | 'io'; readonly pciBase: number })[];
  /** Wired interrupt of each root-bus swizzle index (INTA..INTD of slot 0), as the board routes them. */
  readonly intx: readonly number[];
  /** sPAPR: BUID and PHB index. */
  readonly buid?: bigint;
  readonly index?: number;
  /** sPAPR: the default DMA window (ibm,dma-window) once the TCE room models it; QEMU's default when absent. */
  readonly dmaWindow?: { readonly liobn: number; readonly busAddr: number; readonly size: number };
  /** sPAPR: dynamic DMA windows offered (ibm,ddw-applicable); QEMU's default (on) when absent. */
  readonly ddw?: boolean;
  /** sPAPR: the device-tree node of each function on the root bus, devfn order (spapr_dt_pci_device). */
  readonly deviceNodes?: readonly SpaprDeviceNode[];
}

/** A PCI function's device-tree node as sPAPR firmware describes it: its name and properties, in order. */
export interface SpaprDeviceNode {
  readonly name: string;
  readonly props: readonly (readonly [string, Uint8Array])[];
}

/** Where firmware hand-off pieces attach (the firmware room fills them). */
export interface FirmwareSlots {
  /** fw_cfg: x86 I/O ports 0x510/0x511, or virt MMIO 0x09020000. */
  readonly fwCfg?: { readonly kind: 'io' | 'mmio'; readonly base: number };
  /** Where the board loads a flattened device tree, if it uses one. */
  readonly dtbAddress?: number;
  /** q35: the ICH9 PM I/O base the firmware programmed (PMBASE & 0xff80; 0 before it did). */
  readonly acpiPmBase?: number;
}

/** A PCI function as the firmware finds it (Machine.describe()). */
export interface BoardDeviceDescription {
  readonly id?: string;
  /** QEMU driver name ("edu", "pcie-root-port"; board functions by their QOM type, e.g. "ICH9-LPC"). */
  readonly driver: string;
  /** Its bus's QEMU name, and the root bus above it (which host bridge). */
  readonly bus: string;
  readonly rootBus: string;
  /** "bb:dd.f" and the bus number as the firmware programmed them now. */
  readonly bdf: string;
  readonly busNumber: number;
  readonly devfn: number;
  /** Identity from its config space: vendor, device, 24-bit class code. */
  readonly vendorId: number;
  readonly deviceId: number;
  readonly classCode: number;
  /** Bridges: the secondary and subordinate bus numbers programmed now. */
  readonly bridge?: { readonly secondary: number; readonly subordinate: number };
}

/** Plain data a firmware builder needs (board.describe()). */
export interface BoardDescription {
  readonly board: string;
  readonly machineType: string;
  readonly bigEndian: boolean;
  readonly ram: readonly Range[];
  readonly pciHosts: readonly PCIHostDescription[];
  /** The interrupt controller wired lines are numbered on, and where MSIs are written. */
  readonly interrupts: { readonly controller: string; readonly lines: number; readonly msi?: Range };
  /** Address ranges left free for devices added by later rooms (intel-iommu, smmuv3). */
  readonly reserved: readonly Range[];
  readonly firmware: FirmwareSlots;
  readonly devices: readonly BoardDeviceDescription[];
  /**
   * vIOMMUs the firmware tables describe (DMAR, IORT, VIOT, DT nodes): from
   * the board (virt iommu=smmuv3) and from devices that report one
   * (FirmwareIommuSource).
   */
  readonly iommus: readonly FirmwareIommu[];
}

/** What a board describes itself; the Machine adds identity, devices and device-reported vIOMMUs. */
export type BoardOwnDescription = Omit<BoardDescription, 'devices' | 'board' | 'machineType' | 'bigEndian' | 'iommus'>
  & { readonly iommus?: readonly FirmwareIommu[] };

/**
 * An interrupt controller's input lines (q35 I/O APIC GSIs, virt GIC SPIs,
 * sPAPR interrupt sources), numbered as qtest's irq_intercept_in reports
 * them. Listeners see every level change.
 */
export class InterruptLines {
  readonly lines: IrqLine[];
  private readonly listeners: ((n: number, level: number) => void)[] = [];

  constructor(readonly name: string, readonly paths: readonly string[], count: number) {
    this.lines = Array.from({ length: count }, (_, n) => {
      const l = new IrqLine(`${name}[${n}]`);
      l.connect((level) => {
        for (const f of this.listeners) f(n, level);
      });
      return l;
    });
  }

  /** Adds a listener; returns the function that removes it. */
  listen(f: (n: number, level: number) => void): () => void {
    this.listeners.push(f);
    return () => {
      const i = this.listeners.indexOf(f);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }
}

/** A built board: its root PCI bus and interrupt controller, owned by a Machine. */
export interface Board {
  readonly name: string;
  readonly rootBus: PCIBus;
  readonly intc: InterruptLines;
  /** Guest RAM as the memory map reports it. */
  readonly ram: readonly Range[];
  reset(): void;
  /** Runs after every device was reset (QEMU's board-level work in machine reset, e.g. sPAPR's bus numbering). */
  afterDeviceReset?(): void;
  describe(): BoardOwnDescription;
  /** The hot-plug handler of a bus the board itself owns (sPAPR: the PHB's DRCs on its root bus). */
  pciHotplugHandler?(bus: PCIBus): PciHotplugHandler | undefined;
}

/**
 * A bus's hot-plug handler (QEMU HotplugHandler for PCI: pre_plug, plug,
 * unplug_request): PCIe slots of root and downstream ports, or the sPAPR
 * PHB's dynamic-reconfiguration connectors.
 */
export interface PciHotplugHandler {
  /** The log tag of the handler's messages ("pcieport", "spapr-pci"). */
  readonly tag: string;
  /** Who handles it, for log lines. */
  readonly where: string;
  /** pre_plug for a hot-add at `devfn` (undefined: the bus picks); an error text, or undefined. */
  prePlug(devfn: number | undefined): string | undefined;
  /** plug of a hot-added, realized and reset function; an error text undoes the add. */
  plugged(dev: PCIDevice): string | undefined;
  /** unplug_request: 'done' (gone already), 'requested' (the guest must act), or an error text. */
  unplugRequest(dev: PCIDevice): string;
  /**
   * Whether QMP's own pending check applies (qdev's pending_deleted_event,
   * set by PCIe hot-plug only; sPAPR reports its own "already in progress").
   */
  readonly pendingDeletedEvent: boolean;
}

/** A machine type: names, QOM type (for property errors), properties, defaults. */
export interface BoardType {
  /** -machine names; the first is the canonical short name. */
  readonly names: readonly string[];
  /** QEMU's machine QOM type, e.g. "pc-q35-7.2-machine". */
  readonly qomType: string;
  readonly desc: string;
  readonly props: readonly PropDef[];
  readonly defaultRamSize: number;
  readonly bigEndian: boolean;
  /** MachineClass.pci_allow_0_address. */
  readonly allowZeroBar: boolean;
  /**
   * Hot-plug below PCIe root ports: q35 7.2 uses ACPI PCI hot-plug there
   * (ICH9-LPC acpi-pci-hotplug-with-bridge-support=on), virt uses native
   * PCIe hot-plug.
   */
  readonly pcieHotplug: 'native' | 'acpi';
  /** Checks the RAM size (QEMU's board-specific refusals). */
  checkRam?(size: number): string | undefined;
  build(machine: Machine, props: Props): Board;
}
