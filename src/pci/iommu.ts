import type { AddressSpace } from '../memory/address-space.js';
import type { PCIBus } from './bus.js';
import type { PCIDevice } from './device.js';
import { PCI_BUILD_BDF, PCI_DEVFN } from './regs.js';
import { PCI_EXP_TYPE_PCI_BRIDGE } from './pcie-regs.js';

/**
 * The root-bus IOMMU hook (QEMU PCIIOMMUOps, pci_setup_iommu): a board's
 * vIOMMU says which address space a (bus, devfn) DMAs into. The IOMMU keys
 * its per-device state by (bus object, devfn) and derives the requester ID
 * from the bus number the guest programmed, at translation time
 * (bus.number), since bus numbers change during enumeration.
 */
export interface PCIIOMMUOps {
  /** get_address_space(bus, opaque, devfn). */
  getAddressSpace(bus: PCIBus, devfn: number): AddressSpace;
  /**
   * A function under this IOMMU went away (unplug). QEMU has no such hook
   * (ref qemu-core.md section 5); viommu offers it so an IOMMU can drop
   * cached state for the requester ID.
   */
  deviceRemoved?(bus: PCIBus, devfn: number, dev: PCIDevice): void;
}

/** Where a function's DMA enters the IOMMU: the (bus, devfn) alias and the root bus that holds the hook. */
export interface IommuAlias {
  /** The bus whose number forms the requester ID the IOMMU sees. */
  readonly bus: PCIBus;
  readonly devfn: number;
  /** The bus with the IOMMU hook, if any. */
  readonly iommuBus: PCIBus | undefined;
}

/**
 * pci_device_iommu_address_space's walk (QEMU hw/pci/pci.c; ref
 * smmuv3-vtd.md A3): going up from the function's bus, a conventional
 * (non-express) bus aliases its functions: behind a PCIe-to-PCI bridge to
 * (secondary bus, 00.0) as the PCIe-to-PCI/PCI-X Bridge spec 1.0 section 2.3
 * says, behind any other bridge to the bridge's own (bus, devfn).
 */
export function iommuAlias(dev: PCIDevice): IommuAlias {
  let bus = dev.bus;
  let devfn = dev.devfn;
  let iommuBus: PCIBus | undefined = bus;
  while (iommuBus && !iommuBus.iommuOps && iommuBus.parentDev) {
    const parent: PCIDevice = iommuBus.parentDev;
    const parentBus = parent.bus;
    if (!iommuBus.express) {
      if (parent.expressType() === PCI_EXP_TYPE_PCI_BRIDGE) {
        devfn = PCI_DEVFN(0, 0);
        bus = iommuBus;
      } else {
        devfn = parent.devfn;
        bus = parentBus;
      }
    }
    iommuBus = parentBus;
  }
  return { bus, devfn, iommuBus: iommuBus?.iommuOps ? iommuBus : undefined };
}

/** The requester ID the IOMMU sees for a function's DMA (bus number programmed now). */
export function iommuRequesterId(dev: PCIDevice): number {
  const a = iommuAlias(dev);
  return PCI_BUILD_BDF(a.bus.number, a.devfn);
}

/**
 * pci_requester_id (QEMU pci_req_id_cache_get): the requester ID on the
 * function's own transactions (MSI writes): its BDF, or the upstream
 * legacy bridge's BDF, or (secondary bus, 00.0) behind a PCIe-to-PCI bridge.
 */
export function pciRequesterId(dev: PCIDevice): number {
  let who: PCIDevice = dev;
  let secondary = false;
  for (let d: PCIDevice = dev; !d.bus.isRoot;) {
    const parent: PCIDevice = d.bus.parentDev!;
    if (parent.isExpress) {
      if (parent.expressType() === PCI_EXP_TYPE_PCI_BRIDGE) {
        who = d;
        secondary = true;
      }
    } else {
      who = parent;
      secondary = false;
    }
    d = parent;
  }
  return secondary ? PCI_BUILD_BDF(who.bus.number, 0) : PCI_BUILD_BDF(who.bus.number, who.devfn);
}
