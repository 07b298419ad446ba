/**
 * virtio-iommu as the guest driver reads the specification (virtio 1.2
 * section 5.13; Linux include/uapi/linux/virtio_iommu.h): its own copy,
 * never shared with the device model.
 */
export const VIRTIO_IOMMU_PCI_DEVICE = 0x1057;

export const VIOMMU_F_INPUT_RANGE = 0;
export const VIOMMU_F_DOMAIN_RANGE = 1;
export const VIOMMU_F_MAP_UNMAP = 2;
export const VIOMMU_F_PROBE = 4;
export const VIOMMU_F_MMIO = 5;
export const VIOMMU_F_BYPASS_CONFIG = 6;
/** viommu's built-in topology description (seed 003's v1 layout); see fw topology parsing. */
export const VIOMMU_F_X_TOPOLOGY = 23;

export const VIOMMU_T_ATTACH = 1;
export const VIOMMU_T_DETACH = 2;
export const VIOMMU_T_MAP = 3;
export const VIOMMU_T_UNMAP = 4;
export const VIOMMU_T_PROBE = 5;

export const VIOMMU_S_OK = 0;
export const VIOMMU_S_IOERR = 1;
export const VIOMMU_S_UNSUPP = 2;
export const VIOMMU_S_DEVERR = 3;
export const VIOMMU_S_INVAL = 4;
export const VIOMMU_S_RANGE = 5;
export const VIOMMU_S_NOENT = 6;
export const VIOMMU_S_FAULT = 7;
export const VIOMMU_S_NOMEM = 8;

export const VIOMMU_ATTACH_F_BYPASS = 1;
export const VIOMMU_MAP_F_READ = 1;
export const VIOMMU_MAP_F_WRITE = 2;
export const VIOMMU_MAP_F_MMIO = 4;

/** Readable sizes of the requests (head included) and the tail. */
export const VIOMMU_ATTACH_SIZE = 20;
export const VIOMMU_DETACH_SIZE = 20;
export const VIOMMU_MAP_SIZE = 36;
export const VIOMMU_UNMAP_SIZE = 28;
export const VIOMMU_PROBE_SIZE = 72;
export const VIOMMU_TAIL_SIZE = 4;

export const VIOMMU_PROBE_T_NONE = 0;
export const VIOMMU_PROBE_T_RESV_MEM = 1;
export const VIOMMU_PROBE_T_MASK = 0xfff;
export const VIOMMU_RESV_MEM_T_RESERVED = 0;
export const VIOMMU_RESV_MEM_T_MSI = 1;

/** struct virtio_iommu_fault: u8 reason, reserved[3], le32 flags, le32 endpoint, reserved[4], le64 address. */
export const VIOMMU_FAULT_SIZE = 24;
export const VIOMMU_FAULT_R_DOMAIN = 1;
export const VIOMMU_FAULT_R_MAPPING = 2;
export const VIOMMU_FAULT_F_READ = 1;
export const VIOMMU_FAULT_F_WRITE = 2;
export const VIOMMU_FAULT_F_EXEC = 4;
export const VIOMMU_FAULT_F_ADDRESS = 0x100;

/** struct virtio_iommu_config offsets. */
export const VIOMMU_CFG_PAGE_SIZE_MASK = 0;
export const VIOMMU_CFG_INPUT_START = 8;
export const VIOMMU_CFG_INPUT_END = 16;
export const VIOMMU_CFG_DOMAIN_START = 24;
export const VIOMMU_CFG_DOMAIN_END = 28;
export const VIOMMU_CFG_PROBE_SIZE = 32;
export const VIOMMU_CFG_BYPASS = 36;
/** The topology description after bypass: topo_config {le32 offset, le32 num_items, le32 item_length}. */
export const VIOMMU_CFG_TOPO_CONFIG = 40;
export const VIOMMU_TOPO_PCI_RANGE = 1;
export const VIOMMU_TOPO_ENDPOINT = 2;
