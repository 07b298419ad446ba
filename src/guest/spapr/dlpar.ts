import { GuestDevice } from '../device.js';
import type { GuestKernel } from '../kernel.js';
import type { PciFunction } from '../pci-core/device.js';
import { spaprTceDriverOf } from './module.js';

/**
 * DLPAR add of a PCI function (pseries dlpar / rpaphp: configure-connector,
 * then pci_hp_add_devices -> pcibios_add_device ->
 * pci_dma_dev_setup_pSeriesLP): the function has no node in the boot
 * device tree. Linux finds a device's DMA window by walking its node's
 * parents for "ibm,dma-window"; a device without a node, or one added
 * while its PE's property is gone (the window removed for a VFIO owner
 * or a single-window DDW), finds none ("no DMA window found") and has no
 * table (seed 004's known limitation). Here the device joins its PE's
 * table group, which keeps the firmware's description of the default
 * window and restores it from there (PseriesPe.defaultWindow), so the
 * device gets whatever the group translates with now, and the default
 * window when the group is given back. Returns the device and the bind's
 * result (-EBUSY while a user owns the group).
 */
export function pseriesDlparAdd(k: GuestKernel, fn: PciFunction): { dev: GuestDevice; bind: number } {
  const dev = new GuestDevice(fn.name, fn);
  k.devices.push(dev);
  k.iommu.addDevice(dev);
  const drv = spaprTceDriverOf(k);
  const g = drv?.groupOf(dev);
  if (g) {
    const how = g.pe.liveWindow ? 'ibm,dma-window' : g.pe.ddw ? 'the PE\'s DDW' : 'the window description its table group keeps';
    k.log.info(`pci ${dev.name}`, `DLPAR add: no device-tree entry at boot; DMA window of ${g.pe.node.path} from ${how}`);
  }
  return { dev, bind: k.drivers.bind(dev) };
}

/** DLPAR remove: the driver goes, then the device leaves its IOMMU group and the kernel. */
export function pseriesDlparRemove(k: GuestKernel, dev: GuestDevice): void {
  k.drivers.unbind(dev);
  k.iommu.removeDevice(dev);
  const i = k.devices.indexOf(dev);
  if (i >= 0) k.devices.splice(i, 1);
  k.log.info(`pci ${dev.name}`, 'DLPAR remove');
}
