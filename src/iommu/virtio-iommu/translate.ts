import { IOMMU_NONE, IOMMU_RO, IOMMU_RW, IOMMU_WO, type IOMMUTLBEntry } from '../../memory/iommu-types.js';
import type { EndpointRegion } from './endpoint-region.js';
import {
  VIRTIO_IOMMU_FAULT_F_ADDRESS, VIRTIO_IOMMU_FAULT_F_READ, VIRTIO_IOMMU_FAULT_F_WRITE, VIRTIO_IOMMU_FAULT_R_DOMAIN,
  VIRTIO_IOMMU_FAULT_R_MAPPING, VIRTIO_IOMMU_FAULT_R_UNKNOWN, VIRTIO_IOMMU_MAP_F_READ, VIRTIO_IOMMU_MAP_F_WRITE,
  VIRTIO_IOMMU_RESV_MEM_T_MSI,
} from './regs.js';
import type { VirtioIommu } from './virtio-iommu.js';

const TWO53 = 2 ** 53;

function entry(dev: VirtioIommu, addr: number, translated: number, perm: number): IOMMUTLBEntry {
  const page = Number(dev.granule);
  return { targetAs: dev.platform.systemAs, iova: addr - (addr % page), translatedAddr: translated, addrMask: page - 1, perm };
}

function fault(dev: VirtioIommu, addr: number, reason: number, flags: number, sid: number): IOMMUTLBEntry {
  dev.counters.faults++;
  dev.platform.reportFault(reason, flags | VIRTIO_IOMMU_FAULT_F_ADDRESS, sid, addr);
  return entry(dev, addr, addr, IOMMU_NONE);
}

/** A reserved region containing addr: -1 none, else its subtype (MSI doorbells translate with the identity). */
function reservedType(dev: VirtioIommu, addr: number): number {
  for (const r of dev.opts.reservedRegions) if (addr >= Number(r.low) && addr <= Number(r.high)) return r.type;
  return -1;
}

/**
 * virtio_iommu_translate for one access of `flag` (IOMMU_RO / IOMMU_WO;
 * IOMMU_NONE asks for the permissions without reporting faults):
 * bypassed endpoints and MSI doorbells get the identity, RESERVED regions
 * and missing or insufficient mappings fault (MAPPING), unattached
 * endpoints fault (DOMAIN; QEMU: UNKNOWN for one it never attached, and
 * it looks at reserved regions only for attached ones). The entry covers
 * one granule; its permission is the mapping's.
 */
export function translate(dev: VirtioIommu, region: EndpointRegion, addr: number, flag: number): IOMMUTLBEntry {
  const sid = region.sid();
  const ep = dev.endpoints.get(sid);
  const report = flag !== IOMMU_NONE;
  if (dev.compat && !ep) {
    if (dev.bypass) return entry(dev, addr, addr, IOMMU_RW);
    return report ? fault(dev, addr, VIRTIO_IOMMU_FAULT_R_UNKNOWN, 0, sid) : entry(dev, addr, addr, IOMMU_NONE);
  }
  const resv = reservedType(dev, addr);
  if (resv === VIRTIO_IOMMU_RESV_MEM_T_MSI) return entry(dev, addr, addr, IOMMU_RW);
  if (resv >= 0) return report ? fault(dev, addr, VIRTIO_IOMMU_FAULT_R_MAPPING, 0, sid) : entry(dev, addr, addr, IOMMU_NONE);
  const domain = ep?.domain;
  if (!domain) {
    if (dev.bypass) return entry(dev, addr, addr, IOMMU_RW);
    return report ? fault(dev, addr, VIRTIO_IOMMU_FAULT_R_DOMAIN, 0, sid) : entry(dev, addr, addr, IOMMU_NONE);
  }
  if (domain.bypass) return entry(dev, addr, addr, IOMMU_RW);
  const tree = domain.mappings;
  const n = tree.findNumber(addr);
  if (n < 0 || !tree.isNumeric(n)) {
    return report ? fault(dev, addr, VIRTIO_IOMMU_FAULT_R_MAPPING, 0, sid) : entry(dev, addr, addr, IOMMU_NONE);
  }
  const mflags = tree.flagsOf(n);
  const perm = (mflags & VIRTIO_IOMMU_MAP_F_READ ? IOMMU_RO : 0) | (mflags & VIRTIO_IOMMU_MAP_F_WRITE ? IOMMU_WO : 0);
  const bad = (flag & IOMMU_RO && !(perm & IOMMU_RO) ? VIRTIO_IOMMU_FAULT_F_READ : 0)
    | (flag & IOMMU_WO && !(perm & IOMMU_WO) ? VIRTIO_IOMMU_FAULT_F_WRITE : 0);
  if (bad) return fault(dev, addr, VIRTIO_IOMMU_FAULT_R_MAPPING, bad, sid);
  const translated = addr - tree.startOf(n) + tree.physOf(n);
  return translated < TWO53 ? entry(dev, addr, translated, perm) : entry(dev, addr, addr, IOMMU_NONE);
}
