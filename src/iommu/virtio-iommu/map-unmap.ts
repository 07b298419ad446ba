import type { ViommuDomain } from './domain.js';
import type { Mapping } from './mapping-tree.js';
import {
  VIRTIO_IOMMU_F_MMIO, VIRTIO_IOMMU_MAP_F_MASK, VIRTIO_IOMMU_MAP_F_READ,
  VIRTIO_IOMMU_MAP_F_WRITE, VIRTIO_IOMMU_S_INVAL, VIRTIO_IOMMU_S_NOENT, VIRTIO_IOMMU_S_NOMEM, VIRTIO_IOMMU_S_OK,
  VIRTIO_IOMMU_S_RANGE,
} from './regs.js';
import type { MapReq, UnmapReq } from './requests.js';
import type { VirtioIommu } from './virtio-iommu.js';
import { notifyMappings } from './viommu-notify.js';

/** The domain a MAP/UNMAP names, or its status: RANGE outside domain_range (strict), NOENT, INVAL for bypass. */
function mapDomain(dev: VirtioIommu, id: number): ViommuDomain | number {
  if (!dev.compat && !dev.inDomainRange(id)) return VIRTIO_IOMMU_S_RANGE;
  const d = dev.domains.get(id);
  if (!d) return VIRTIO_IOMMU_S_NOENT;
  if (d.bypass) return VIRTIO_IOMMU_S_INVAL;
  return d;
}

/**
 * MAP (section 5.13.6.5). Strict: unknown flags (MMIO without
 * VIRTIO_IOMMU_F_MMIO) INVAL, virt_end below virt_start INVAL, a
 * virt_start / phys_start / virt_end + 1 off the granule RANGE, outside
 * input_range RANGE, over a reserved region RANGE, overlap INVAL, no room
 * NOMEM. QEMU checks only the flags, the domain and overlap.
 */
export function mapRequest(dev: VirtioIommu, req: MapReq): number {
  const known = dev.compat || dev.negotiatedFeature(VIRTIO_IOMMU_F_MMIO)
    ? VIRTIO_IOMMU_MAP_F_MASK : VIRTIO_IOMMU_MAP_F_READ | VIRTIO_IOMMU_MAP_F_WRITE;
  if (req.flags & ~known) return VIRTIO_IOMMU_S_INVAL;
  const d = mapDomain(dev, req.domain);
  if (typeof d === 'number') return d;
  const { virtStart: s, virtEnd: e, physStart: p } = req;
  if (!dev.compat) {
    if (e < s) return VIRTIO_IOMMU_S_INVAL;
    const g = dev.granule - 1n;
    if (s & g || p & g || (e + 1n) & g) return VIRTIO_IOMMU_S_RANGE;
    if (s < dev.opts.inputStart || e > dev.opts.inputEnd) return VIRTIO_IOMMU_S_RANGE;
    if (dev.opts.reservedRegions.some((r) => s <= r.high && e >= r.low)) return VIRTIO_IOMMU_S_RANGE;
  }
  if (d.mappings.overlapping(s, e).length > 0) return VIRTIO_IOMMU_S_INVAL;
  if (dev.mappingCount >= dev.opts.maxMappings) return VIRTIO_IOMMU_S_NOMEM;
  d.mappings.insert(s, e, p, req.flags);
  dev.mappingCount++;
  notifyMappings(d.endpoints, [{ start: s, end: e, phys: p, flags: req.flags }], true);
  return VIRTIO_IOMMU_S_OK;
}

function removeMapping(dev: VirtioIommu, d: ViommuDomain, m: Mapping): void {
  d.mappings.remove(m.start);
  dev.mappingCount--;
  dev.invalidateRange(d, m.start, m.end);
  notifyMappings(d.endpoints, [m], false);
}

/**
 * UNMAP (section 5.13.6.6): every mapping the range covers goes; a mapping
 * the range would split makes it RANGE with nothing removed (strict), or,
 * as QEMU does, RANGE after removing the covered mappings met before it
 * (in address order here; QEMU meets them in its tree's search order). A
 * non-zero reserved field is INVAL with nothing removed (strict; QEMU
 * ignores it).
 */
export function unmapRequest(dev: VirtioIommu, req: UnmapReq): number {
  if (!dev.compat && req.reserved) return VIRTIO_IOMMU_S_INVAL;
  const d = mapDomain(dev, req.domain);
  if (typeof d === 'number') return d;
  const { virtStart: s, virtEnd: e } = req;
  const hit = d.mappings.overlapping(s, e);
  const covered = (m: Mapping): boolean => s <= m.start && e >= m.end;
  if (!dev.compat && !hit.every(covered)) return VIRTIO_IOMMU_S_RANGE;
  for (const m of hit) {
    if (!covered(m)) return VIRTIO_IOMMU_S_RANGE;
    removeMapping(dev, d, m);
  }
  return VIRTIO_IOMMU_S_OK;
}
