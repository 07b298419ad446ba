import type { PCIDevice } from '../pci/device.js';
import { VirtioNetPci } from '../virtio/net/virtio-net-pci.js';
import { VhostNet } from './vhost-net.js';

/** The QEMU device type of viommu's virtio-net (emulated or vhost). */
export const VIRTIO_NET_PCI = 'virtio-net-pci';

/** The -device properties of one virtio-net consumer. */
export interface VirtioNetConsumer {
  /** vhost=on: a vhost-net backend on a worker thread with a device IOTLB; off: the device model moves the packets. */
  readonly vhost: boolean;
  /** iommu_platform=on (default): DMA goes through the vIOMMU. */
  readonly iommuPlatform?: boolean;
  /** ats=on: an ATS capability (only on a PCIe slot that is not a root bus, e.g. behind pcie-root-port). */
  readonly ats?: boolean;
  /** x-vhost-iotlb-fallback (default true); false reproduces the pre-fix behaviour (a DEVIOTLB veto fails the device). */
  readonly fallback?: boolean;
  readonly id?: string;
  readonly bus?: string;
}

/** The raw -device properties (QEMU spelling) for a consumer, e.g. for device_add or a MachineConfig device. */
export function virtioNetDeviceProps(c: VirtioNetConsumer): Record<string, string> {
  return {
    ...(c.id !== undefined ? { id: c.id } : {}),
    ...(c.bus !== undefined ? { bus: c.bus } : {}),
    vhost: c.vhost ? 'on' : 'off',
    iommu_platform: c.iommuPlatform === false ? 'off' : 'on',
    ats: c.ats ? 'on' : 'off',
    ...(c.fallback === false ? { 'x-vhost-iotlb-fallback': 'off' } : {}),
  };
}

/** The vhost-net backend of a device, when it is a virtio-net-pci with vhost=on. */
export function vhostNetOf(dev: PCIDevice): VhostNet | undefined {
  return dev instanceof VirtioNetPci && dev.net.backend instanceof VhostNet ? dev.net.backend : undefined;
}

/** What vhost registered with the vIOMMU, for a matrix cell. */
export interface VhostRegistration {
  /** Notifier flags per IOMMU section in use now (e.g. ['DEVIOTLB_UNMAP', 'DEVIOTLB_UNMAP'] on VT-d: two sections around the interrupt window). */
  readonly flags: readonly string[];
  /** The vIOMMU's veto of DEVIOTLB_UNMAP when vhost fell back to UNMAP (its own text), else undefined. */
  readonly fallbackReason: string | undefined;
  /** The device failed: the vIOMMU's refusal message (x-vhost-iotlb-fallback=off with a veto), else undefined. */
  readonly refusal: string | undefined;
  /** The backend is running (between DRIVER_OK and reset). */
  readonly started: boolean;
}

/** The notifier flags in use and any fallback or refusal, for one vhost-net device. */
export function vhostRegistration(v: VhostNet): VhostRegistration {
  const n = v.notifiers;
  return {
    flags: n.map((e) => e.flags), fallbackReason: n.find((e) => e.fallback !== undefined)?.fallback, refusal: v.failure,
    started: v.started,
  };
}

/** "DEVIOTLB_UNMAP", "UNMAP (fallback: SMMUv3 does not support dev-iotlb yet)", "none": a short cell text. */
export function formatVhostRegistration(r: VhostRegistration): string {
  if (r.refusal !== undefined) return `refused: ${r.refusal}`;
  const flags = [...new Set(r.flags)].join('+') || 'none';
  return r.fallbackReason !== undefined ? `${flags} (fallback: ${r.fallbackReason})` : flags;
}
