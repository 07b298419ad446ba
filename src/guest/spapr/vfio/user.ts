import { cpuBigEndian } from '../../native-mmio.js';
import type { VfioSpaprTceContainer } from './container.js';
import { vfioIoctl } from './container-ioctl.js';
import {
  DMA_MAP_SIZE, DMA_UNMAP_SIZE, IoctlArg, REGISTER_MEMORY_SIZE, TCE_CREATE_SIZE, TCE_INFO_SIZE, TCE_REMOVE_SIZE,
  VFIO_IOMMU_MAP_DMA, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, VFIO_IOMMU_SPAPR_TCE_CREATE, VFIO_IOMMU_SPAPR_TCE_GET_INFO,
  VFIO_IOMMU_SPAPR_TCE_REMOVE, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, VFIO_IOMMU_UNMAP_DMA,
} from './uapi.js';

export interface SpaprTceInfo {
  readonly flags: number;
  readonly dma32WindowStart: number;
  readonly dma32WindowSize: number;
  readonly ddw: { readonly pgsizes: bigint; readonly maxDynamicWindowsSupported: number; readonly levels: number };
}

/**
 * What a VFIO user program (QEMU's hw/vfio/spapr.c, a test) does with the
 * container: fill the uapi structures in the CPU's byte order, issue the
 * ioctl, read the results back. Every call returns the ioctl's value.
 */
export class VfioSpaprUser {
  constructor(readonly c: VfioSpaprTceContainer) {}

  private arg(size: number, argsz = size): IoctlArg {
    return IoctlArg.alloc(size, !cpuBigEndian(this.c.k.port.board)).set32(0, argsz);
  }

  getInfo(argsz = TCE_INFO_SIZE): { ret: number; info: SpaprTceInfo } {
    const a = this.arg(TCE_INFO_SIZE, argsz);
    const ret = vfioIoctl(this.c, VFIO_IOMMU_SPAPR_TCE_GET_INFO, a.bytes);
    return {
      ret,
      info: { flags: a.u32(4), dma32WindowStart: a.u32(8), dma32WindowSize: a.u32(12), ddw: { pgsizes: a.u64(16), maxDynamicWindowsSupported: a.u32(24), levels: a.u32(28) } },
    };
  }

  registerMemory(vaddr: bigint, size: bigint, flags = 0): number {
    return vfioIoctl(this.c, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, this.arg(REGISTER_MEMORY_SIZE).set32(4, flags).set64(8, vaddr).set64(16, size).bytes);
  }
  unregisterMemory(vaddr: bigint, size: bigint): number {
    return vfioIoctl(this.c, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, this.arg(REGISTER_MEMORY_SIZE).set64(8, vaddr).set64(16, size).bytes);
  }

  createWindow(pageShift: number, windowSize: bigint, levels = 1, flags = 0): { ret: number; start: bigint } {
    const a = this.arg(TCE_CREATE_SIZE).set32(4, flags).set32(8, pageShift).set64(16, windowSize).set32(24, levels);
    const ret = vfioIoctl(this.c, VFIO_IOMMU_SPAPR_TCE_CREATE, a.bytes);
    return { ret, start: a.u64(32) };
  }
  removeWindow(start: bigint, flags = 0): number {
    return vfioIoctl(this.c, VFIO_IOMMU_SPAPR_TCE_REMOVE, this.arg(TCE_REMOVE_SIZE).set32(4, flags).set64(8, start).bytes);
  }

  /** flags: VFIO_DMA_MAP_FLAG_READ 1 | WRITE 2. */
  mapDma(iova: bigint, vaddr: bigint, size: bigint, flags: number, argsz = DMA_MAP_SIZE): number {
    return vfioIoctl(this.c, VFIO_IOMMU_MAP_DMA, this.arg(DMA_MAP_SIZE, argsz).set32(4, flags).set64(8, vaddr).set64(16, iova).set64(24, size).bytes);
  }
  unmapDma(iova: bigint, size: bigint, flags = 0): number {
    return vfioIoctl(this.c, VFIO_IOMMU_UNMAP_DMA, this.arg(DMA_UNMAP_SIZE).set32(4, flags).set64(8, iova).set64(16, size).bytes);
  }
}
