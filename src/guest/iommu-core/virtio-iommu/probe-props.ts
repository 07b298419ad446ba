import { IOMMU_MMIO, IOMMU_NOEXEC, IOMMU_WRITE } from '../domain-types.js';
import type { ResvRegion } from '../driver.js';
import { VIOMMU_PROBE_T_MASK, VIOMMU_PROBE_T_NONE, VIOMMU_PROBE_T_RESV_MEM, VIOMMU_RESV_MEM_T_MSI, VIOMMU_RESV_MEM_T_RESERVED } from './regs.js';

/**
 * viommu_probe_endpoint's property walk (section 5.13.6.8): each property
 * is {le16 type:12 reserved:4, le16 length} and the next starts length + 4
 * bytes later; NONE or the end of the buffer stops. RESV_MEM {u8 subtype,
 * reserved[3], le64 start, le64 end} becomes a reserved region: MSI as an
 * MSI doorbell, RESERVED and unknown subtypes as reserved. Properties with
 * reserved bits set are ignored; unknown types are skipped.
 */
export function parseProbe(props: Uint8Array, warn: (m: string) => void): ResvRegion[] {
  const v = new DataView(props.buffer, props.byteOffset, props.byteLength);
  const out: ResvRegion[] = [];
  for (let cur = 0; cur + 4 <= props.length;) {
    const head = v.getUint16(cur, true);
    const type = head & VIOMMU_PROBE_T_MASK;
    if (type === VIOMMU_PROBE_T_NONE) break;
    const len = v.getUint16(cur + 2, true) + 4;
    if (head & ~VIOMMU_PROBE_T_MASK) {
      warn(`ignoring viommu prop 0x${type.toString(16)} with reserved bits set`);
    } else if (type === VIOMMU_PROBE_T_RESV_MEM) {
      if (len < 24 || cur + 24 > props.length) {
        warn('failed to parse viommu prop 0x1');
      } else {
        const subtype = v.getUint8(cur + 4);
        const start = Number(v.getBigUint64(cur + 8, true));
        const end = Number(v.getBigUint64(cur + 16, true));
        if (subtype !== VIOMMU_RESV_MEM_T_MSI && subtype !== VIOMMU_RESV_MEM_T_RESERVED) warn(`unknown resv mem subtype 0x${subtype.toString(16)}`);
        out.push(subtype === VIOMMU_RESV_MEM_T_MSI
          ? { start, length: end - start + 1, prot: IOMMU_WRITE | IOMMU_NOEXEC | IOMMU_MMIO, type: 'msi' }
          : { start, length: end - start + 1, prot: 0, type: 'reserved' });
      }
    } else {
      warn(`unknown viommu prop 0x${type.toString(16)}`);
    }
    cur += len;
  }
  return out.sort((a, b) => a.start - b.start);
}
