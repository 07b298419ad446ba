import type { ViommuDomain, ViommuEndpoint } from './domain.js';
import type { Mapping } from './mapping-tree.js';

/**
 * Where the device logic sends what other parts must learn: MAP and UNMAP
 * notifications per endpoint region (the IOMMU notifier API) and the
 * invalidations of cached translations (the IOTLB in front of the mapping
 * trees). The binding to the IOMMU core implements it.
 */
export interface ViommuNotifySink {
  /** A mapping appeared (MAP) or went (UNMAP) for an endpoint (virtio_iommu_notify_map / _unmap). */
  notify(ep: ViommuEndpoint, isMap: boolean, m: Mapping): void;
  /** Cached translations of the endpoint are stale (detach, bypass switch). */
  invalidateEndpoint(ep: ViommuEndpoint): void;
  /** The domain is gone. */
  invalidateDomain(domain: ViommuDomain): void;
  /** A range of the domain was unmapped. */
  invalidateRange(domain: ViommuDomain, start: bigint, end: bigint): void;
}

/** Sends every mapping to every endpoint, in order (attach replay, detach, MAP/UNMAP). */
export function notifyMappings(dev: { readonly notifySink: ViommuNotifySink | undefined }, eps: readonly ViommuEndpoint[],
  mappings: readonly Mapping[], isMap: boolean): void {
  const sink = dev.notifySink;
  if (!sink) return;
  for (const ep of eps) for (const m of mappings) sink.notify(ep, isMap, m);
}
