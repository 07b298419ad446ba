/**
 * virtio-iommu (virtio 1.2 section 5.13, device ID 23; linux/virtio_iommu.h):
 * feature bits, request types and layouts, status codes, PROBE properties,
 * fault reports and the device configuration.
 */
export const VIRTIO_ID_IOMMU = 23;

// Feature bits (section 5.13.3).
export const VIRTIO_IOMMU_F_INPUT_RANGE = 0;
export const VIRTIO_IOMMU_F_DOMAIN_RANGE = 1;
export const VIRTIO_IOMMU_F_MAP_UNMAP = 2;
export const VIRTIO_IOMMU_F_BYPASS = 3;
export const VIRTIO_IOMMU_F_PROBE = 4;
export const VIRTIO_IOMMU_F_MMIO = 5;
export const VIRTIO_IOMMU_F_BYPASS_CONFIG = 6;
/**
 * viommu's bit for the built-in topology description (seed 003, the v1
 * proposal's VIRTIO_IOMMU_F_TOPOLOGY, which used bit 6: that bit became
 * BYPASS_CONFIG). Bit 23 is the last of the low device-specific range
 * (0..23); bits 7..9 are taken by later proposals (MQ, ATTACH_TABLE,
 * POSTED_MAP). Never offered unless the topology is described in the
 * configuration space.
 */
export const VIRTIO_IOMMU_F_X_TOPOLOGY = 23;

// Request types.
export const VIRTIO_IOMMU_T_ATTACH = 1;
export const VIRTIO_IOMMU_T_DETACH = 2;
export const VIRTIO_IOMMU_T_MAP = 3;
export const VIRTIO_IOMMU_T_UNMAP = 4;
export const VIRTIO_IOMMU_T_PROBE = 5;

// Status codes (section 5.13.6).
export const VIRTIO_IOMMU_S_OK = 0;
export const VIRTIO_IOMMU_S_IOERR = 1;
export const VIRTIO_IOMMU_S_UNSUPP = 2;
export const VIRTIO_IOMMU_S_DEVERR = 3;
export const VIRTIO_IOMMU_S_INVAL = 4;
export const VIRTIO_IOMMU_S_RANGE = 5;
export const VIRTIO_IOMMU_S_NOENT = 6;
export const VIRTIO_IOMMU_S_FAULT = 7;
export const VIRTIO_IOMMU_S_NOMEM = 8;
export const STATUS_NAMES = ['OK', 'IOERR', 'UNSUPP', 'DEVERR', 'INVAL', 'RANGE', 'NOENT', 'FAULT', 'NOMEM'] as const;

/** virtio_iommu_req_head {u8 type; u8 reserved[3]} and _tail {u8 status; u8 reserved[3]}. */
export const VIRTIO_IOMMU_REQ_HEAD_SIZE = 4;
export const VIRTIO_IOMMU_REQ_TAIL_SIZE = 4;

/**
 * Device-readable sizes (head included, tail excluded):
 * ATTACH {domain le32 @4, endpoint le32 @8, flags le32 @12, reserved[4] @16};
 * DETACH {domain @4, endpoint @8, reserved[8] @12};
 * MAP {domain @4, virt_start le64 @8, virt_end le64 @16, phys_start le64 @24, flags le32 @32};
 * UNMAP {domain @4, virt_start @8, virt_end @16, reserved[4] @24};
 * PROBE {endpoint le32 @4, reserved[64] @8}.
 */
export const VIRTIO_IOMMU_REQ_SIZE: Readonly<Record<number, number>> = { 1: 20, 2: 20, 3: 36, 4: 28, 5: 72 };

export const VIRTIO_IOMMU_ATTACH_F_BYPASS = 1 << 0;
export const VIRTIO_IOMMU_MAP_F_READ = 1 << 0;
export const VIRTIO_IOMMU_MAP_F_WRITE = 1 << 1;
export const VIRTIO_IOMMU_MAP_F_MMIO = 1 << 2;
export const VIRTIO_IOMMU_MAP_F_MASK = VIRTIO_IOMMU_MAP_F_READ | VIRTIO_IOMMU_MAP_F_WRITE | VIRTIO_IOMMU_MAP_F_MMIO;

// PROBE properties (section 5.13.6.8): header le16 {type:12, reserved:4}, le16 length.
export const VIRTIO_IOMMU_PROBE_T_NONE = 0;
export const VIRTIO_IOMMU_PROBE_T_RESV_MEM = 1;
export const VIRTIO_IOMMU_PROBE_T_MASK = 0xfff;
/** virtio_iommu_probe_resv_mem: header, u8 subtype @4, reserved[3], le64 start @8, le64 end @16. */
export const VIRTIO_IOMMU_RESV_MEM_SIZE = 24;
export const VIRTIO_IOMMU_RESV_MEM_T_RESERVED = 0;
export const VIRTIO_IOMMU_RESV_MEM_T_MSI = 1;

// Fault reports (section 5.13.6.9): u8 reason @0, reserved[3], le32 flags @4, le32 endpoint @8, reserved @12, le64 address @16.
export const VIRTIO_IOMMU_FAULT_SIZE = 24;
export const VIRTIO_IOMMU_FAULT_R_UNKNOWN = 0;
export const VIRTIO_IOMMU_FAULT_R_DOMAIN = 1;
export const VIRTIO_IOMMU_FAULT_R_MAPPING = 2;
export const VIRTIO_IOMMU_FAULT_F_READ = 1 << 0;
export const VIRTIO_IOMMU_FAULT_F_WRITE = 1 << 1;
export const VIRTIO_IOMMU_FAULT_F_EXEC = 1 << 2;
export const VIRTIO_IOMMU_FAULT_F_ADDRESS = 1 << 8;

/**
 * virtio_iommu_config (40 bytes): le64 page_size_mask @0, input_range
 * {le64 start @8, le64 end @16}, domain_range {le32 start @24, le32 end
 * @28}, le32 probe_size @32, u8 bypass @36, reserved[3].
 */
export const VIRTIO_IOMMU_CFG_PAGE_SIZE_MASK = 0;
export const VIRTIO_IOMMU_CFG_INPUT_START = 8;
export const VIRTIO_IOMMU_CFG_INPUT_END = 16;
export const VIRTIO_IOMMU_CFG_DOMAIN_START = 24;
export const VIRTIO_IOMMU_CFG_DOMAIN_END = 28;
export const VIRTIO_IOMMU_CFG_PROBE_SIZE = 32;
export const VIRTIO_IOMMU_CFG_BYPASS = 36;
export const VIRTIO_IOMMU_CONFIG_SIZE = 40;
