import {
  VIRTIO_IOMMU_PROBE_T_RESV_MEM, VIRTIO_IOMMU_REQ_SIZE, VIRTIO_IOMMU_REQ_TAIL_SIZE, VIRTIO_IOMMU_RESV_MEM_SIZE,
  VIRTIO_IOMMU_S_INVAL, VIRTIO_IOMMU_S_NOENT, VIRTIO_IOMMU_S_OK, VIRTIO_IOMMU_T_PROBE,
} from './regs.js';
import type { RequestOutcome, VirtioIommu } from './virtio-iommu.js';

/**
 * The properties of an endpoint (section 5.13.6.8): one RESV_MEM per
 * reserved region (header type 1, length 20, subtype, start, end), then
 * zeros up to probe_size. Null when they do not fit (QEMU: INVAL).
 */
export function probeProperties(dev: VirtioIommu): Uint8Array | null {
  const size = dev.opts.probeSize;
  const props = new Uint8Array(size);
  const v = new DataView(props.buffer);
  let at = 0;
  for (const r of dev.opts.reservedRegions) {
    if (at + VIRTIO_IOMMU_RESV_MEM_SIZE > size) return null;
    v.setUint16(at, VIRTIO_IOMMU_PROBE_T_RESV_MEM, true);
    v.setUint16(at + 2, VIRTIO_IOMMU_RESV_MEM_SIZE - 4, true);
    v.setUint8(at + 4, r.type);
    v.setBigUint64(at + 8, r.low, true);
    v.setBigUint64(at + 16, r.high, true);
    at += VIRTIO_IOMMU_RESV_MEM_SIZE;
  }
  return props;
}

/**
 * PROBE: properties[probe_size] then the tail (used length probe_size + 4).
 * An endpoint that does not exist is NOENT; a short request INVAL. A
 * writable part smaller than probe_size + 4 gets INVAL in its last four
 * bytes and no property (the spec; QEMU would overrun it).
 */
export function probeReply(dev: VirtioIommu, out: Uint8Array, outLen: number, inLen: number): RequestOutcome {
  const size = dev.opts.probeSize;
  const total = size + VIRTIO_IOMMU_REQ_TAIL_SIZE;
  if (inLen < total) {
    const data = new Uint8Array(VIRTIO_IOMMU_REQ_TAIL_SIZE);
    data[0] = VIRTIO_IOMMU_S_INVAL;
    return { kind: 'reply', offset: inLen - VIRTIO_IOMMU_REQ_TAIL_SIZE, data, status: VIRTIO_IOMMU_S_INVAL };
  }
  const data = new Uint8Array(total);
  let status = VIRTIO_IOMMU_S_INVAL;
  if (outLen >= VIRTIO_IOMMU_REQ_SIZE[VIRTIO_IOMMU_T_PROBE]!) {
    const endpoint = new DataView(out.buffer, out.byteOffset, out.byteLength).getUint32(4, true);
    if (!dev.platform.endpointRegion(endpoint)) {
      status = VIRTIO_IOMMU_S_NOENT;
    } else {
      const props = probeProperties(dev);
      if (props) {
        data.set(props, 0);
        status = VIRTIO_IOMMU_S_OK;
      }
    }
  }
  data[size] = status;
  return { kind: 'reply', offset: 0, data, status };
}
