import {
  VIRTIO_IOMMU_T_ATTACH, VIRTIO_IOMMU_T_DETACH, VIRTIO_IOMMU_T_MAP, VIRTIO_IOMMU_T_PROBE, VIRTIO_IOMMU_T_UNMAP,
} from './regs.js';

/** Requests as the device reads them (layouts in regs.ts; 64-bit fields as bigint: control path). */
export interface AttachReq {
  readonly type: typeof VIRTIO_IOMMU_T_ATTACH;
  readonly domain: number;
  readonly endpoint: number;
  readonly flags: number;
  readonly reserved: boolean;
}
export interface DetachReq {
  readonly type: typeof VIRTIO_IOMMU_T_DETACH;
  readonly domain: number;
  readonly endpoint: number;
}
export interface MapReq {
  readonly type: typeof VIRTIO_IOMMU_T_MAP;
  readonly domain: number;
  readonly virtStart: bigint;
  readonly virtEnd: bigint;
  readonly physStart: bigint;
  readonly flags: number;
}
export interface UnmapReq {
  readonly type: typeof VIRTIO_IOMMU_T_UNMAP;
  readonly domain: number;
  readonly virtStart: bigint;
  readonly virtEnd: bigint;
  readonly reserved: boolean;
}
export interface ProbeReq {
  readonly type: typeof VIRTIO_IOMMU_T_PROBE;
  readonly endpoint: number;
}
export type ViommuRequest = AttachReq | DetachReq | MapReq | UnmapReq | ProbeReq;

function nonZero(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i]) return true;
  return false;
}

/** Decodes the device-readable part of a request of a known type (the caller checked its length). */
export function decodeRequest(b: Uint8Array): ViommuRequest {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u32 = (o: number): number => v.getUint32(o, true);
  const u64 = (o: number): bigint => v.getBigUint64(o, true);
  switch (b[0]) {
    case VIRTIO_IOMMU_T_ATTACH:
      return { type: VIRTIO_IOMMU_T_ATTACH, domain: u32(4), endpoint: u32(8), flags: u32(12), reserved: nonZero(b, 16, 20) };
    case VIRTIO_IOMMU_T_DETACH:
      return { type: VIRTIO_IOMMU_T_DETACH, domain: u32(4), endpoint: u32(8) };
    case VIRTIO_IOMMU_T_MAP:
      return { type: VIRTIO_IOMMU_T_MAP, domain: u32(4), virtStart: u64(8), virtEnd: u64(16), physStart: u64(24), flags: u32(32) };
    case VIRTIO_IOMMU_T_UNMAP:
      return { type: VIRTIO_IOMMU_T_UNMAP, domain: u32(4), virtStart: u64(8), virtEnd: u64(16), reserved: nonZero(b, 24, 28) };
    default:
      return { type: VIRTIO_IOMMU_T_PROBE, endpoint: u32(4) };
  }
}
