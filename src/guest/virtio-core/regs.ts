/**
 * The guest's own reading of virtio 1.2 for its drivers (section 2 basic
 * facilities, 4.1 PCI transport): status bits, transport feature bits,
 * the common configuration layout and split-ring descriptor flags. Written
 * from the specification; nothing is shared with the device models.
 */
export const VIRTIO_STATUS_ACKNOWLEDGE = 1;
export const VIRTIO_STATUS_DRIVER = 2;
export const VIRTIO_STATUS_DRIVER_OK = 4;
export const VIRTIO_STATUS_FEATURES_OK = 8;
export const VIRTIO_STATUS_NEEDS_RESET = 0x40;
export const VIRTIO_STATUS_FAILED = 0x80;

export const VIRTIO_F_VERSION_1 = 32;
export const VIRTIO_F_ACCESS_PLATFORM = 33;

export const VIRTIO_MSI_NO_VECTOR = 0xffff;

// struct virtio_pci_common_cfg (section 4.1.4.3).
export const VCOMMON_DFSELECT = 0;
export const VCOMMON_DF = 4;
export const VCOMMON_GFSELECT = 8;
export const VCOMMON_GF = 12;
export const VCOMMON_MSIX = 16;
export const VCOMMON_NUMQ = 18;
export const VCOMMON_STATUS = 20;
export const VCOMMON_CFGGENERATION = 21;
export const VCOMMON_Q_SELECT = 22;
export const VCOMMON_Q_SIZE = 24;
export const VCOMMON_Q_MSIX = 26;
export const VCOMMON_Q_ENABLE = 28;
export const VCOMMON_Q_NOFF = 30;
export const VCOMMON_Q_DESC = 32;
export const VCOMMON_Q_AVAIL = 40;
export const VCOMMON_Q_USED = 48;

// Split virtqueue (section 2.7): 16-byte descriptors {le64 addr, le32 len, le16 flags, le16 next}.
export const VRING_DESC_F_NEXT = 1;
export const VRING_DESC_F_WRITE = 2;
export const VRING_DESC_SIZE = 16;
export const VRING_USED_ELEM_SIZE = 8;
