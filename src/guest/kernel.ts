import type { EventLog } from '../base/event-log.js';
import { GuestClock } from './clock.js';
import type { GuestDevice } from './device.js';
import { DmaApi, type DmaApiOptions } from './dma/dma-api.js';
import { DriverCore } from './drivers/driver-core.js';
import type { AcpiParsers } from './fw/acpi/registry.js';
import type { AcpiWalk } from './fw/acpi/walk.js';
import type { FdtNode, FdtTree } from './fw/fdt/fdt.js';
import type { FwCfgClient } from './fw/fw-cfg.js';
import type { Pciehp } from './hotplug/pciehp.js';
import type { SpaprPciHotplug } from './hotplug/spapr-hotplug.js';
import { IommuCore, type RegressionSwitch } from './iommu-core/core.js';
import type { DomainType } from './iommu-core/domain-types.js';
import { MsiDomain } from './irq/msi-domain.js';
import { DmaOracle } from './oracle/oracle.js';
import { PageAllocator } from './page-alloc.js';
import type { PciTopology } from './pci-core/enumerate.js';
import type { HostWindows } from './pci-core/resources.js';
import type { GuestPort } from './port.js';
import { VfioBindings } from './vfio/bindings.js';

export interface KernelOptions {
  /** iommu_def_domain_type for groups whose driver has no opinion. */
  readonly defaultDomainType: DomainType;
  /** CONFIG_IOMMU_DMA. */
  readonly iommuDma: boolean;
  readonly regress: readonly RegressionSwitch[];
  readonly dma: DmaApiOptions;
  /** An oracle the machine already feeds; a new one otherwise. */
  readonly oracle?: DmaOracle;
}

/** What the firmware stage found, for the IOMMU modules and the report. */
export interface FirmwareInfo {
  kind: 'acpi' | 'dt' | 'none';
  fdt?: FdtTree;
  acpi?: AcpiWalk;
  fwCfg?: FwCfgClient;
  windows: HostWindows;
  /** The device-tree node of the PCI host bridge the kernel enumerated through (the PHB on pseries). */
  hostNode?: FdtNode;
  /** Problems found in firmware tables; each is reported and its table not used. */
  readonly errors: string[];
}

/**
 * The synthetic guest kernel: its clock, physical memory, the IOMMU core,
 * the DMA API, the driver core, MSI, PCIe hot-plug and the DMA oracle,
 * over one GuestPort.
 */
export class GuestKernel {
  readonly clock: GuestClock;
  readonly log: EventLog;
  readonly mem: PageAllocator;
  readonly iommu: IommuCore;
  readonly dma: DmaApi;
  readonly oracle: DmaOracle;
  readonly drivers: DriverCore;
  readonly devices: GuestDevice[] = [];
  readonly firmware: FirmwareInfo = { kind: 'none', windows: {}, errors: [] };
  pci: PciTopology | undefined;
  /** Set by an IOMMU module that wants ACS enabled on every port (pci_request_acs). */
  acsRequested = false;
  /** The MSI doorbell and vector dispatch. */
  readonly msi: MsiDomain;
  /** The PCI Express native hot-plug driver, once probed. */
  pciehp: Pciehp | undefined;
  /** pseries PCI hot-plug through DRCs (RAS hot-plug events, drmgr, rpadlpar_io), once probed. */
  spaprHotplug: SpaprPciHotplug | undefined;
  /** Devices bound to the guest's vfio-pci driver, with their users (src/guest/vfio). */
  readonly vfio = new VfioBindings();

  constructor(readonly port: GuestPort, readonly opts: KernelOptions, readonly acpiParsers: AcpiParsers) {
    this.log = port.log;
    this.clock = new GuestClock(port);
    this.msi = new MsiDomain(port);
    const lowest = Math.min(...port.ramRanges.map((r) => r.base));
    // The real-mode/BIOS area on x86 (IVT, EBDA, VGA, option ROMs, BIOS), elsewhere a 2 MiB firmware/kernel-image area.
    const reserved = port.board === 'q35' || port.board === 'pc'
      ? [{ base: 0, size: 0x1000 }, { base: 0xa0000, size: 0x60000 }]
      : [{ base: lowest, size: 2 << 20 }];
    this.mem = new PageAllocator(port.ramRanges, reserved);
    this.oracle = opts.oracle ?? new DmaOracle(() => port.now(), port.log);
    this.iommu = new IommuCore({ log: this.log, defaultDomainType: opts.defaultDomainType, iommuDma: opts.iommuDma, regress: new Set(opts.regress) });
    this.iommu.observers.push(this.oracle);
    this.dma = new DmaApi(this.iommu, port, this.clock, this.mem, opts.dma, () => this.iovaHoles());
    this.drivers = new DriverCore(this.log, this.dma, this.iommu);
  }

  /** PCI host windows as bus addresses: IOVAs there would be claimed by peer devices (iova_reserve_pci_windows). */
  private iovaHoles(): { start: number; size: number }[] {
    const w = this.firmware.windows;
    return [w.mem32, w.mem64].filter((x) => x !== undefined).map((x) => ({ start: x.pciBase, size: x.size }));
  }

  deviceByName(name: string): GuestDevice | undefined {
    return this.devices.find((d) => d.name === name);
  }
}
