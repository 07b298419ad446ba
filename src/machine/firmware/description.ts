/**
 * What a board tells its firmware generators: plain data, no device
 * objects. The ACPI, device-tree and fw_cfg generators read only this, so a
 * board (or a test) builds one of these and gets QEMU's tables for it.
 * Addresses are numbers (exact below 2^53; QEMU's maps stay far below).
 * presets.ts builds QEMU 7.2's defaults for q35, virt and pseries.
 */

/** A guest-physical range. */
export interface MemRange {
  readonly base: number;
  readonly size: number;
}

/** A window of a PCI host bridge: CPU address, PCI (bus) address, size. */
export interface PciWindow {
  readonly kind: 'io' | 'mem32' | 'mem64';
  readonly cpuBase: number;
  readonly pciBase: number;
  readonly size: number;
}

/** A DMA window of an sPAPR PHB (ibm,dma-window: LIOBN, bus address, size). */
export interface SpaprDmaWindow {
  readonly liobn: number;
  readonly busAddr: number;
  readonly size: number;
}

/** sPAPR facts of a PHB (hw/ppc/spapr_pci.c). */
export interface SpaprPhbFacts {
  readonly index: number;
  /** The PHB's BUID, also its unit address (0x800000020000000 + index; above 2^53). */
  readonly buid: bigint;
  /** Default 32-bit DMA window (LIOBN 0x80000000 | index << 8, 1 GiB at 0). */
  readonly dmaWindow: SpaprDmaWindow;
  /** Dynamic DMA windows offered (ibm,ddw-applicable / ibm,ddw-extensions). */
  readonly ddw: boolean;
  /** First LSI of the PHB's INTx (SPAPR_IRQ_PCI_LSI + index * 4). */
  readonly lsiBase: number;
  /** The nodes of the functions on the root bus, devfn order (absent: none described). */
  readonly deviceNodes?: readonly { readonly name: string; readonly props: readonly (readonly [string, Uint8Array])[] }[];
}

/** A PCI host bridge and the bus numbers below it. */
export interface PciHostBridge {
  readonly name: string;
  readonly segment: number;
  readonly busStart: number;
  readonly busEnd: number;
  /** ECAM / MMCONFIG window (absent: no MCFG entry, e.g. q35 before PCIEXBAR is enabled). */
  readonly ecam?: MemRange;
  readonly windows: readonly PciWindow[];
  /** pxb `bypass_iommu=on`: vIOMMU tables leave this bridge's buses out. */
  readonly bypassIommu?: boolean;
  readonly spapr?: SpaprPhbFacts;
}

/** A PCI function present when the tables are built. */
export interface PciFunction {
  /** Segment of its host bridge. */
  readonly segment: number;
  /** bus << 8 | device << 3 | function, with the bus number the firmware programmed. */
  readonly bdf: number;
  readonly vendorId: number;
  readonly deviceId: number;
  /** 24-bit class code (class << 16 | subclass << 8 | prog-if). */
  readonly classCode: number;
  /** Bridges (type 1 headers) with the secondary..subordinate range behind them. */
  readonly bridge?: { readonly secondary: number; readonly subordinate: number };
  /** QEMU driver name and id, when the board knows them (e.g. "virtio-iommu-pci"). */
  readonly driver?: string;
  readonly id?: string;
}

/** x86 platform facts for FADT and MADT (hw/i386/acpi-build.c, acpi-common.c). */
export interface X86Facts {
  readonly lapicBase: number;
  readonly ioapic: { readonly id: number; readonly base: number; readonly gsiBase: number };
  /** ICH9 PMBASE as the firmware programmed it (SeaBIOS: 0x600; 0 before). */
  readonly pmBase: number;
  readonly sciIrq: number;
  readonly smiCmd: number;
  /** Legacy IRQs routed level/active-high (MADT interrupt source overrides). */
  readonly pciIrqs: readonly number[];
}

/** Arm virt facts for MADT, GTDT, FADT and the device tree (hw/arm/virt.c). */
export interface ArmVirtFacts {
  readonly gic: {
    readonly version: 2;
    readonly distBase: number;
    readonly cpuBase: number;
    readonly hypBase: number;
    readonly vcpuBase: number;
    readonly v2m: { readonly base: number; readonly spiBase: number; readonly spiCount: number };
  };
  /** Generic-timer PPIs: secure EL1, non-secure EL1, virtual, non-secure EL2. */
  readonly timerPpis: { readonly s: number; readonly ns: number; readonly virt: number; readonly hyp: number };
  /** PMU PPI (MADT GICC performance interrupt = PPI + 16), or undefined. */
  readonly pmuPpi?: number;
  readonly psciConduit: 'hvc' | 'smc';
  /** CPU compatible string (default "arm,cortex-a15", QEMU virt's default CPU). */
  readonly cpuCompatible?: string;
}

/** pseries facts (hw/ppc/spapr.c, spapr_rtas.c). */
export interface SpaprFacts {
  /** RTAS call names and tokens, in token order. */
  readonly rtasTokens: readonly (readonly [string, number])[];
}

/**
 * A vIOMMU as the firmware tables describe it: DMAR (intel-iommu), IORT and
 * the DT smmuv3 node (smmuv3), VIOT and the DT virtio,pci-iommu node
 * (virtio-iommu-pci). Plain data; the device model reports it
 * (FirmwareIommuSource) or the board does (virt iommu=smmuv3).
 */
export interface FirmwareIommu {
  /** QEMU's name: the -device driver ("intel-iommu", "virtio-iommu-pci") or the virt iommu= value ("smmuv3"). */
  readonly model: string;
  readonly id?: string;
  /** Its register block, for platform vIOMMUs (intel-iommu 0xfed90000, smmuv3 0x09050000). */
  readonly mmio?: MemRange;
  /** A PCI vIOMMU's own segment and BDF (virtio-iommu-pci). */
  readonly segment?: number;
  readonly bdf?: number;
  /** Wired interrupts it signals, as the board numbers them (smmuv3: SPIs eventq, priq, cmdq-sync, gerror). */
  readonly irqs?: readonly number[];
  /** Model options the tables depend on, by QEMU property name (aw-bits, intremap, device-iotlb, ...). */
  readonly options: Readonly<Record<string, string | number | boolean>>;
}

/** A device (system or PCI) that is a vIOMMU reports itself to the firmware builders through this method. */
export interface FirmwareIommuSource {
  firmwareIommu(): FirmwareIommu;
}

export function isFirmwareIommuSource(x: object): x is FirmwareIommuSource {
  return typeof (x as Partial<FirmwareIommuSource>).firmwareIommu === 'function';
}

/** The firmware-visible description of a machine. */
export interface FirmwareDescription {
  readonly machine: 'q35' | 'virt' | 'pseries';
  readonly ram: readonly MemRange[];
  readonly cpus: number;
  readonly pciHosts: readonly PciHostBridge[];
  readonly devices: readonly PciFunction[];
  /** vIOMMUs to describe (none on a machine without one). */
  readonly iommus?: readonly FirmwareIommu[];
  readonly fwCfg?: { readonly kind: 'io'; readonly base: number } | { readonly kind: 'mmio'; readonly base: number; readonly size: number };
  readonly oem: { readonly id: string; readonly tableId: string };
  readonly x86?: X86Facts;
  readonly arm?: ArmVirtFacts;
  readonly spapr?: SpaprFacts;
}

/** QEMU's default ACPI OEM fields (hw/acpi/aml-build.h ACPI_BUILD_APPNAME6/8). */
export const QEMU_OEM = Object.freeze({ id: 'BOCHS ', tableId: 'BXPC    ' });
