import { IOMMU_NONE, IOMMU_RO, IOMMU_WO } from '../../memory/iommu-types.js';
import { IOMMU_NOTIFIER_MAP, IOMMU_NOTIFIER_UNMAP, type IOMMUNotifier, type IOMMUTLBEvent } from '../notifier.js';
import type { ViommuEndpoint } from './domain.js';
import type { EndpointRegion } from './endpoint-region.js';
import type { Mapping } from './mapping-tree.js';
import { pow2Chunks } from './notify.js';
import { VIRTIO_IOMMU_MAP_F_MMIO, VIRTIO_IOMMU_MAP_F_READ, VIRTIO_IOMMU_MAP_F_WRITE } from './regs.js';

/** IOMMU_ACCESS_FLAG of a mapping's READ/WRITE flags. */
export function mappingPerm(flags: number): number {
  return (flags & VIRTIO_IOMMU_MAP_F_READ ? IOMMU_RO : 0) | (flags & VIRTIO_IOMMU_MAP_F_WRITE ? IOMMU_WO : 0);
}

/**
 * virtio_iommu_notify_map / _unmap on one endpoint region: nothing unless
 * a notifier there asked for the event type; MAP is not sent for MMIO
 * mappings or mappings with no permission; the range goes out as aligned
 * power-of-two chunks (UNMAP with perm NONE). With `only`, the events go to
 * that notifier alone (replay); otherwise to every notifier of the region.
 */
export function notifyMapping(region: EndpointRegion, m: Mapping, isMap: boolean, only?: IOMMUNotifier): void {
  const flags = only ? only.notifierFlags : region.iommuNotifyFlags;
  const perm = mappingPerm(m.flags);
  if (isMap ? !(flags & IOMMU_NOTIFIER_MAP) || m.flags & VIRTIO_IOMMU_MAP_F_MMIO || !perm : !(flags & IOMMU_NOTIFIER_UNMAP)) return;
  for (const c of pow2Chunks(m.start, m.end, m.phys, isMap)) {
    const event: IOMMUTLBEvent = {
      type: isMap ? IOMMU_NOTIFIER_MAP : IOMMU_NOTIFIER_UNMAP,
      entry: { targetAs: region.targetAs, iova: c.iova, translatedAddr: c.translated, addrMask: c.addrMask, perm: isMap ? perm : IOMMU_NONE },
    };
    if (only) region.deliver(only, event);
    else region.notify(0, event);
  }
}

/** Sends every mapping to every endpoint's region, in order (attach replay, detach, MAP/UNMAP). */
export function notifyMappings(eps: readonly ViommuEndpoint[], mappings: readonly Mapping[], isMap: boolean): void {
  for (const ep of eps) for (const m of mappings) notifyMapping(ep.region, m, isMap);
}
