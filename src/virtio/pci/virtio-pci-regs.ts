/**
 * The virtio-pci modern transport's layout (virtio 1.2 section 4.1.4;
 * linux/virtio_pci.h) and where QEMU 7.2 puts the structures
 * (hw/virtio/virtio-pci.c virtio_pci_modern_regions_init).
 */

/** Red Hat / Qumranet, and device ID 0x1040 + virtio device ID for non-transitional devices. */
export const PCI_VENDOR_ID_REDHAT_QUMRANET = 0x1af4;
export const PCI_DEVICE_ID_VIRTIO_10_BASE = 0x1040;
/** Revision of a modern-only device (QEMU pcidev_k->revision = VIRTIO_PCI_ABI_VERSION = 1 there). */
export const VIRTIO_PCI_MODERN_REVISION = 1;

// virtio_pci_cap (16 bytes): cap_vndr, cap_next, cap_len, cfg_type, bar, id, padding[2], offset, length.
export const VIRTIO_PCI_CAP_CFG_TYPE = 3;
export const VIRTIO_PCI_CAP_BAR = 4;
export const VIRTIO_PCI_CAP_ID = 5;
export const VIRTIO_PCI_CAP_OFFSET = 8;
export const VIRTIO_PCI_CAP_LENGTH = 12;
export const VIRTIO_PCI_CAP_SIZE = 16;
/** virtio_pci_notify_cap adds notify_off_multiplier at 16. */
export const VIRTIO_PCI_NOTIFY_CAP_MULT = 16;
export const VIRTIO_PCI_NOTIFY_CAP_SIZE = 20;
/** virtio_pci_cfg_cap adds pci_cfg_data[4] at 16. */
export const VIRTIO_PCI_CFG_CAP_DATA = 16;
export const VIRTIO_PCI_CFG_CAP_SIZE = 20;

// cfg_type values.
export const VIRTIO_PCI_CAP_COMMON_CFG = 1;
export const VIRTIO_PCI_CAP_NOTIFY_CFG = 2;
export const VIRTIO_PCI_CAP_ISR_CFG = 3;
export const VIRTIO_PCI_CAP_DEVICE_CFG = 4;
export const VIRTIO_PCI_CAP_PCI_CFG = 5;

// Common configuration structure (section 4.1.4.3).
export const VIRTIO_PCI_COMMON_DFSELECT = 0;
export const VIRTIO_PCI_COMMON_DF = 4;
export const VIRTIO_PCI_COMMON_GFSELECT = 8;
export const VIRTIO_PCI_COMMON_GF = 12;
export const VIRTIO_PCI_COMMON_MSIX = 16;
export const VIRTIO_PCI_COMMON_NUMQ = 18;
export const VIRTIO_PCI_COMMON_STATUS = 20;
export const VIRTIO_PCI_COMMON_CFGGENERATION = 21;
export const VIRTIO_PCI_COMMON_Q_SELECT = 22;
export const VIRTIO_PCI_COMMON_Q_SIZE = 24;
export const VIRTIO_PCI_COMMON_Q_MSIX = 26;
export const VIRTIO_PCI_COMMON_Q_ENABLE = 28;
export const VIRTIO_PCI_COMMON_Q_NOFF = 30;
export const VIRTIO_PCI_COMMON_Q_DESCLO = 32;
export const VIRTIO_PCI_COMMON_Q_DESCHI = 36;
export const VIRTIO_PCI_COMMON_Q_AVAILLO = 40;
export const VIRTIO_PCI_COMMON_Q_AVAILHI = 44;
export const VIRTIO_PCI_COMMON_Q_USEDLO = 48;
export const VIRTIO_PCI_COMMON_Q_USEDHI = 52;
export const VIRTIO_PCI_COMMON_Q_RESET = 58;

// QEMU's BAR layout: BAR 4, 64-bit prefetchable, 4 KiB per structure.
export const VIRTIO_PCI_MODERN_BAR = 4;
export const VIRTIO_PCI_MSIX_BAR = 1;
export const VIRTIO_PCI_REGION_SIZE = 0x1000;
export const VIRTIO_PCI_COMMON_OFFSET = 0x0;
export const VIRTIO_PCI_ISR_OFFSET = 0x1000;
export const VIRTIO_PCI_DEVICE_OFFSET = 0x2000;
export const VIRTIO_PCI_NOTIFY_OFFSET = 0x3000;
/** virtio_pci_queue_mem_mult without page-per-vq: queue n notifies at notify + 4n. */
export const VIRTIO_PCI_QUEUE_MEM_MULT = 4;
/** pow2ceil(notify.offset + notify.size). */
export const VIRTIO_PCI_MODERN_BAR_SIZE = 0x4000;
