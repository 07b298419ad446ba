import type { GuestDevice } from '../device.js';
import type { GuestKernel } from '../kernel.js';
import type { PciFunction } from '../pci-core/device.js';

/**
 * pci_stop_and_remove_bus_device for one function (Linux
 * drivers/pci/remove.c), shared by pciehp and the pseries DLPAR path: the
 * driver goes (it unmaps what it mapped), the lazy flush queue of the
 * function's DMA domain is drained so its unmaps are invalidated before it
 * leaves, `release` takes the device out of its IOMMU group and the
 * kernel's list (each hot-plug driver's own way), and the function leaves
 * its bus and the PCI topology.
 */
export function pciStopAndRemoveFunction(k: GuestKernel, fn: PciFunction, release: (dev: GuestDevice) => void): void {
  const dev = k.devices.find((d) => d.pci === fn);
  if (dev) {
    k.drivers.removeDevice(dev);
    const group = k.iommu.groupOf(dev);
    const dom = group?.defaultDomain;
    if (dom) k.dma.iommu?.cookieOf(dom)?.fq?.flush();
    if (group) k.log.info(`pci ${fn.name}`, `Removing from iommu group ${group.id}`);
    release(dev);
  }
  const at = fn.bus.devices.indexOf(fn);
  if (at >= 0) fn.bus.devices.splice(at, 1);
  const topo = k.pci;
  const i = topo ? topo.functions.indexOf(fn) : -1;
  if (topo && i >= 0) topo.functions.splice(i, 1);
  k.log.info(`pci ${fn.name}`, 'removed');
}
