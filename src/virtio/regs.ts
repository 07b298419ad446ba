/**
 * Virtio 1.x constants shared by every device and transport (virtio 1.2;
 * Linux uapi linux/virtio_config.h, virtio_ring.h, virtio_pci.h).
 */

// Device status (virtio 1.2 section 2.1).
export const VIRTIO_CONFIG_S_ACKNOWLEDGE = 1;
export const VIRTIO_CONFIG_S_DRIVER = 2;
export const VIRTIO_CONFIG_S_DRIVER_OK = 4;
export const VIRTIO_CONFIG_S_FEATURES_OK = 8;
export const VIRTIO_CONFIG_S_NEEDS_RESET = 0x40;
export const VIRTIO_CONFIG_S_FAILED = 0x80;

// Transport feature bits (section 6: bits 28..41).
export const VIRTIO_F_NOTIFY_ON_EMPTY = 24;
export const VIRTIO_F_ANY_LAYOUT = 27;
export const VIRTIO_RING_F_INDIRECT_DESC = 28;
export const VIRTIO_RING_F_EVENT_IDX = 29;
export const VIRTIO_F_VERSION_1 = 32;
export const VIRTIO_F_ACCESS_PLATFORM = 33;
export const VIRTIO_F_RING_PACKED = 34;
export const VIRTIO_F_IN_ORDER = 35;
export const VIRTIO_F_ORDER_PLATFORM = 36;
export const VIRTIO_F_SR_IOV = 37;
export const VIRTIO_F_NOTIFICATION_DATA = 38;
export const VIRTIO_F_RING_RESET = 40;

/** A feature bit as a 64-bit mask (features are control-path bigints). */
export function featureBit(bit: number): bigint {
  return 1n << BigInt(bit);
}
export function hasFeature(features: bigint, bit: number): boolean {
  return (features & featureBit(bit)) !== 0n;
}

/** "Not connected to any vector" (section 4.1.4.3, VIRTIO_MSI_NO_VECTOR). */
export const VIRTIO_NO_VECTOR = 0xffff;

/** QEMU's VIRTIO_QUEUE_MAX (include/hw/virtio/virtio.h): queue indexes the transport decodes. */
export const VIRTIO_QUEUE_MAX = 1024;
/** QEMU's VIRTQUEUE_MAX_SIZE: the largest ring a driver may ask for there. */
export const VIRTQUEUE_MAX_SIZE = 1024;
/** Split-ring maximum of the specification (section 2.7). */
export const VIRTQ_SPLIT_MAX_SIZE = 32768;

// Split virtqueue (section 2.7): descriptor flags, ring flags, sizes.
export const VIRTQ_DESC_F_NEXT = 1;
export const VIRTQ_DESC_F_WRITE = 2;
export const VIRTQ_DESC_F_INDIRECT = 4;
export const VIRTQ_DESC_SIZE = 16;
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
export const VIRTQ_USED_F_NO_NOTIFY = 1;
export const VIRTQ_USED_ELEM_SIZE = 8;

// ISR status bits (section 4.1.4.5).
export const VIRTIO_ISR_QUEUE = 0x1;
export const VIRTIO_ISR_CONFIG = 0x2;

export function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}
