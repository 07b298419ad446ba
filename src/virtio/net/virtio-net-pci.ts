import { VirtioPciProxy } from '../pci/virtio-pci.js';
import { VirtioNet, type VirtioNetOptions } from './virtio-net.js';

/** PCI class of an Ethernet controller (PCI Code and ID Assignment 1.11, class 02h subclass 00h). */
export const PCI_CLASS_NETWORK_ETHERNET = 0x0200;
/** QEMU's virtio-net-pci default: 2 * queue pairs + 2 MSI-X vectors. */
export const VIRTIO_NET_PCI_VECTORS = 4;

export interface VirtioNetPciOptions extends VirtioNetOptions {
  /** ats=on: an ATS capability (on a PCI Express bus that is not a root bus, as QEMU). */
  readonly ats: boolean;
}

/**
 * virtio-net-pci (QEMU hw/virtio/virtio-net-pci.c): 1af4:1041, class
 * 0x0200. The guest's ATS Enable reaches the device as QEMU's
 * virtio_pci_ats_ctrl_trigger does: vdev->device_iotlb_enabled and the
 * backend's toggle_device_iotlb. Unplug ends the backend (its thread).
 */
export class VirtioNetPci extends VirtioPciProxy {
  readonly net: VirtioNet;

  constructor(opts: VirtioNetPciOptions) {
    const net = new VirtioNet(opts);
    super(net, { typeName: 'virtio-net-pci', classId: PCI_CLASS_NETWORK_ETHERNET, vectors: VIRTIO_NET_PCI_VECTORS, ats: opts.ats });
    this.net = net;
  }

  protected override realizeDevice(): void {
    super.realizeDevice();
    if (this.ats) this.ats.onChange = (enabled) => this.net.atsChanged(enabled);
  }

  override unrealize(): void {
    // The backend's work in flight completes while the function still has its bus-master address space.
    this.net.backend?.quiesce?.();
    super.unrealize();
    this.net.backend?.close();
  }
}
