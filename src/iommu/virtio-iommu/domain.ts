import type { EndpointRegion } from './endpoint-region.js';
import { MappingTree } from './mapping-tree.js';

/** A virtio-iommu endpoint (QEMU VirtIOIOMMUEndpoint): its ID, its domain and the IOMMU region its DMA enters. */
export class ViommuEndpoint {
  domain: ViommuDomain | undefined;
  constructor(readonly id: number, readonly region: EndpointRegion) {}
}

/**
 * A domain (QEMU VirtIOIOMMUDomain): created by the first ATTACH naming
 * it, gone with its last endpoint. A bypass domain (ATTACH_F_BYPASS) lets
 * its endpoints through with the identity and holds no mappings.
 */
export class ViommuDomain {
  readonly mappings = new MappingTree();
  /** Attached endpoints, newest first (QLIST_INSERT_HEAD). */
  readonly endpoints: ViommuEndpoint[] = [];
  /** The IOTLB context tag of this domain (allocated by the device). */
  readonly tag: number;

  constructor(readonly id: number, readonly bypass: boolean, tag: number) {
    this.tag = tag;
  }
}
