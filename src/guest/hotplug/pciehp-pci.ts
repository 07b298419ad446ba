import { GuestDevice } from '../device.js';
import { EEXIST, ENODEV } from '../errno.js';
import type { GuestKernel } from '../kernel.js';
import { pciEnableAcs } from '../pci-core/acs.js';
import { assignBridgeResources } from '../pci-core/bridge-windows.js';
import type { PciFunction } from '../pci-core/device.js';
import { scanSlot } from '../pci-core/enumerate.js';
import { PCI_VENDOR_ID } from '../pci-core/regs.js';
import { pciStopAndRemoveFunction } from './remove-function.js';

/** pci_bus_check_dev: does function 0 below the port answer (vendor ID not all ones or zero)? */
export function slotDeviceAnswers(k: GuestKernel, port: PciFunction): boolean {
  const bus = port.subordinate;
  if (!bus || !k.pci) return false;
  const v = k.pci.access.read(bus.number, 0, PCI_VENDOR_ID, 2);
  return v !== 0xffff && v !== 0;
}

/**
 * pciehp_configure_device (drivers/pci/hotplug/pciehp_pci.c): scan slot 0
 * of the port's secondary bus, assign the new functions' BARs inside the
 * port's windows, then add them (pci_bus_add_devices: the IOMMU core probes
 * each one into a group with a default domain, and the driver core binds a
 * driver). Returns 0, -EEXIST when a device is already there, or -ENODEV.
 */
export function configureSlotDevices(k: GuestKernel, port: PciFunction): number {
  const bus = port.subordinate;
  if (!bus || !k.pci) return -ENODEV;
  if (bus.devices.some((f) => f.devfn === 0)) return -EEXIST;
  const fns = scanSlot(k.pci.access, bus, 0, k.log);
  if (fns.length === 0) {
    k.log.err(`pcieport ${port.name}`, 'pciehp: No new device found');
    return -ENODEV;
  }
  for (const fn of fns) {
    // pci_hp_add_bridge is not modelled: a bridge behind a hot-plug slot gets no bus numbers.
    if (fn.isBridge) k.log.warn(`pci ${fn.name}`, 'hot-added bridge: its secondary bus is not scanned');
  }
  assignBridgeResources(port, fns, k.firmware.windows, k.log);
  const added: GuestDevice[] = [];
  for (const fn of fns) {
    k.pci.functions.push(fn);
    if (k.acsRequested) pciEnableAcs(fn);
    const dev = new GuestDevice(fn.name, fn);
    k.devices.push(dev);
    k.iommu.addDevice(dev);
    added.push(dev);
  }
  for (const dev of added) k.drivers.bind(dev);
  k.drivers.retryDeferred();
  return 0;
}

/**
 * pciehp_unconfigure_device: every function below the port, last first,
 * goes through pci_stop_and_remove_bus_device: its driver is unbound (the
 * driver unmaps what it mapped), the lazy flush queue of its DMA domain is
 * drained so its unmaps are invalidated before it leaves, and the IOMMU
 * core releases it (the group and its domains go with the last device).
 */
export function unconfigureSlotDevices(k: GuestKernel, port: PciFunction): void {
  const bus = port.subordinate;
  const topo = k.pci;
  if (!bus || !topo) return;
  for (const fn of [...bus.devices].reverse()) {
    pciStopAndRemoveFunction(k, fn, (dev) => {
      k.iommu.removeDevice(dev);
      k.devices.splice(k.devices.indexOf(dev), 1);
    });
  }
}
