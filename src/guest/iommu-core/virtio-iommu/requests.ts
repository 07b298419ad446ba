import {
  VIOMMU_ATTACH_SIZE, VIOMMU_DETACH_SIZE, VIOMMU_MAP_SIZE, VIOMMU_PROBE_SIZE, VIOMMU_T_ATTACH, VIOMMU_T_DETACH,
  VIOMMU_T_MAP, VIOMMU_T_PROBE, VIOMMU_T_UNMAP, VIOMMU_UNMAP_SIZE,
} from './regs.js';

/** The device-readable part of each request, laid out as the specification says (tail excluded). */
function req(type: number, size: number, fill: (v: DataView) => void): Uint8Array {
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  v.setUint8(0, type);
  fill(v);
  return b;
}
const u64 = (v: DataView, at: number, n: number): void => v.setBigUint64(at, BigInt(n), true);

export const attachRequest = (domain: number, endpoint: number, flags: number): Uint8Array => req(VIOMMU_T_ATTACH, VIOMMU_ATTACH_SIZE, (v) => {
  v.setUint32(4, domain, true);
  v.setUint32(8, endpoint, true);
  v.setUint32(12, flags, true);
});
export const detachRequest = (domain: number, endpoint: number): Uint8Array => req(VIOMMU_T_DETACH, VIOMMU_DETACH_SIZE, (v) => {
  v.setUint32(4, domain, true);
  v.setUint32(8, endpoint, true);
});
export const mapRequest = (domain: number, start: number, end: number, phys: number, flags: number): Uint8Array =>
  req(VIOMMU_T_MAP, VIOMMU_MAP_SIZE, (v) => {
    v.setUint32(4, domain, true);
    u64(v, 8, start);
    u64(v, 16, end);
    u64(v, 24, phys);
    v.setUint32(32, flags, true);
  });
export const unmapRequest = (domain: number, start: number, end: number): Uint8Array => req(VIOMMU_T_UNMAP, VIOMMU_UNMAP_SIZE, (v) => {
  v.setUint32(4, domain, true);
  u64(v, 8, start);
  u64(v, 16, end);
});
export const probeRequest = (endpoint: number): Uint8Array => req(VIOMMU_T_PROBE, VIOMMU_PROBE_SIZE, (v) => v.setUint32(4, endpoint, true));
