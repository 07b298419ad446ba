/**
 * The VFIO sPAPR TCE user ABI (Linux include/uapi/linux/vfio.h; ref A9):
 * ioctl numbers _IO(VFIO_TYPE ';', VFIO_BASE 100 + n), extensions, and the
 * argument structures with their byte offsets. Structures are in the
 * CPU's byte order (big-endian on this ppc64 target).
 */
const VFIO_TYPE = 0x3b;
const VFIO_BASE = 100;
const io = (n: number): number => (VFIO_TYPE << 8) | (VFIO_BASE + n);

export const VFIO_CHECK_EXTENSION = io(1);
export const VFIO_SET_IOMMU = io(2);
export const VFIO_IOMMU_SPAPR_TCE_GET_INFO = io(12);
export const VFIO_IOMMU_MAP_DMA = io(13);
export const VFIO_IOMMU_UNMAP_DMA = io(14);
export const VFIO_IOMMU_ENABLE = io(15);
export const VFIO_IOMMU_DISABLE = io(16);
export const VFIO_IOMMU_SPAPR_REGISTER_MEMORY = io(17);
export const VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY = io(18);
export const VFIO_IOMMU_SPAPR_TCE_CREATE = io(19);
export const VFIO_IOMMU_SPAPR_TCE_REMOVE = io(20);

/** Extensions (IOMMU types). */
export const VFIO_SPAPR_TCE_IOMMU = 2;
export const VFIO_EEH = 5;
export const VFIO_SPAPR_TCE_v2_IOMMU = 7;

/** struct vfio_iommu_spapr_tce_info: argsz@0 flags@4 dma32_window_start@8 dma32_window_size@12 ddw{pgsizes u64@16, max_dynamic_windows_supported@24, levels@28}. */
export const VFIO_IOMMU_SPAPR_INFO_DDW = 1;
export const TCE_INFO_MINSZ = 16;
export const TCE_INFO_SIZE = 32;
/** struct vfio_iommu_type1_dma_map: argsz flags vaddr@8 iova@16 size@24; unmap: argsz flags iova@8 size@16. */
export const VFIO_DMA_MAP_FLAG_READ = 1;
export const VFIO_DMA_MAP_FLAG_WRITE = 2;
export const DMA_MAP_SIZE = 32;
export const DMA_UNMAP_SIZE = 24;
/** struct vfio_iommu_spapr_register_memory: argsz flags vaddr@8 size@16. */
export const REGISTER_MEMORY_SIZE = 24;
/** struct vfio_iommu_spapr_tce_create: argsz flags page_shift@8 __resv1 window_size@16 levels@24 __resv2 start_addr@32 (out). */
export const TCE_CREATE_SIZE = 40;
/** struct vfio_iommu_spapr_tce_remove: argsz flags start_addr@8. */
export const TCE_REMOVE_SIZE = 16;

/** An ioctl argument buffer in the CPU's byte order. */
export class IoctlArg {
  readonly dv: DataView;
  constructor(readonly bytes: Uint8Array, readonly littleEndian: boolean) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  static alloc(size: number, littleEndian: boolean): IoctlArg {
    return new IoctlArg(new Uint8Array(size), littleEndian);
  }
  get length(): number {
    return this.bytes.byteLength;
  }
  u32(off: number): number {
    return off + 4 <= this.length ? this.dv.getUint32(off, this.littleEndian) : 0;
  }
  u64(off: number): bigint {
    return off + 8 <= this.length ? this.dv.getBigUint64(off, this.littleEndian) : 0n;
  }
  set32(off: number, v: number): this {
    if (off + 4 <= this.length) this.dv.setUint32(off, v >>> 0, this.littleEndian);
    return this;
  }
  set64(off: number, v: bigint): this {
    if (off + 8 <= this.length) this.dv.setBigUint64(off, BigInt.asUintN(64, v), this.littleEndian);
    return this;
  }
}
