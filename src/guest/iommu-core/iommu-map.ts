import { EINVAL, ENODEV } from '../errno.js';
import type { IommuCore } from './core.js';
import { IOMMU_DOMAIN_IDENTITY, isPaging } from './domain-types.js';
import type { IommuDomain } from './driver.js';
import { IotlbGather } from './gather.js';

/**
 * iommu_pgsize: the largest supported page size that fits `size` and the
 * alignment of both addresses, and how many of them to map before a larger
 * page size becomes possible. Written with division instead of bit
 * operations, since addresses exceed 32 bits.
 */
export function iommuPgsize(pgsizes: readonly number[], iova: number, paddr: number, size: number): { pgsize: number; count: number } {
  let pgsize = 0;
  for (const p of pgsizes) if (p <= size && iova % p === 0 && paddr % p === 0) pgsize = Math.max(pgsize, p);
  if (pgsize === 0) return { pgsize: 0, count: 0 };
  const next = pgsizes.find((p) => p > pgsize);
  let span = size;
  if (next !== undefined && iova % next === paddr % next) {
    const offset = next - (iova % next);
    if (offset + next <= size) span = offset;
  }
  return { pgsize, count: Math.floor(span / pgsize) };
}

/** A gather whose add-page syncs go through the core (so observers see them). */
export function newGather(core: IommuCore, domain: IommuDomain): IotlbGather {
  return new IotlbGather((g) => iommuIotlbSync(core, domain, g));
}

function mapRaw(core: IommuCore, domain: IommuDomain, iova: number, paddr: number, size: number, prot: number): number {
  if (!isPaging(domain.type)) return -EINVAL;
  const map = domain.ops.mapPages;
  if (!map || domain.pgsizes.length === 0) return -ENODEV;
  const min = domain.pgsizes[0]!;
  if (iova % min || paddr % min || size % min) {
    core.log.err('iommu', `unaligned: iova 0x${iova.toString(16)} pa 0x${paddr.toString(16)} size 0x${size.toString(16)} min_pagesz 0x${min.toString(16)}`);
    return -EINVAL;
  }
  let left = size;
  let at = iova;
  let pa = paddr;
  let ret = 0;
  while (left > 0) {
    const { pgsize, count } = iommuPgsize(domain.pgsizes, at, pa, left);
    const r = map(domain, at, pa, pgsize, count, prot);
    if (r.mapped > 0) for (const o of core.observers) o.mapped?.(domain, at, pa, r.mapped, prot);
    left -= r.mapped;
    at += r.mapped;
    pa += r.mapped;
    if (r.ret) {
      ret = r.ret;
      break;
    }
    if (r.mapped === 0) {
      ret = -EINVAL;
      break;
    }
  }
  if (ret) iommuUnmap(core, domain, iova, size - left);
  return ret;
}

/** iommu_map: map, then iotlb_sync_map; on failure whatever was mapped is unmapped again. */
export function iommuMap(core: IommuCore, domain: IommuDomain, iova: number, paddr: number, size: number, prot: number): number {
  let ret = mapRaw(core, domain, iova, paddr, size, prot);
  if (ret === 0 && domain.ops.iotlbSyncMap) {
    ret = domain.ops.iotlbSyncMap(domain, iova, size);
    if (ret) iommuUnmap(core, domain, iova, size);
  }
  if (ret === 0) core.stats.maps++;
  return ret;
}

/** iommu_map_sg: physically contiguous runs mapped back to back from `iova`; returns bytes mapped or a negative errno. */
export function iommuMapSg(core: IommuCore, domain: IommuDomain, iova: number, sg: readonly { paddr: number; length: number }[], prot: number): number {
  let mapped = 0;
  let start = 0;
  let len = 0;
  for (let i = 0; i <= sg.length; i++) {
    const s = sg[i];
    if (len && (!s || s.paddr !== start + len)) {
      const ret = mapRaw(core, domain, iova + mapped, start, len, prot);
      if (ret) {
        iommuUnmap(core, domain, iova, mapped);
        return ret;
      }
      mapped += len;
      len = 0;
    }
    if (!s) break;
    if (len) len += s.length;
    else {
      len = s.length;
      start = s.paddr;
    }
  }
  if (domain.ops.iotlbSyncMap) {
    const ret = domain.ops.iotlbSyncMap(domain, iova, mapped);
    if (ret) {
      iommuUnmap(core, domain, iova, mapped);
      return ret;
    }
  }
  core.stats.maps++;
  return mapped;
}

/** __iommu_unmap: page by page until `size` is gone or nothing more is mapped; returns bytes unmapped. */
export function iommuUnmapFast(core: IommuCore, domain: IommuDomain, iova: number, size: number, gather: IotlbGather): number {
  if (!isPaging(domain.type)) return 0;
  const unmap = domain.ops.unmapPages;
  if (!unmap || domain.pgsizes.length === 0) return 0;
  const min = domain.pgsizes[0]!;
  if (iova % min || size % min) {
    core.log.err('iommu', `unaligned: iova 0x${iova.toString(16)} size 0x${size.toString(16)} min_pagesz 0x${min.toString(16)}`);
    return 0;
  }
  let unmapped = 0;
  while (unmapped < size) {
    const { pgsize, count } = iommuPgsize(domain.pgsizes, iova + unmapped, iova + unmapped, size - unmapped);
    const n = unmap(domain, iova + unmapped, pgsize, count, gather);
    if (!n) break;
    for (const o of core.observers) o.unmapped?.(domain, iova + unmapped, n);
    unmapped += n;
  }
  if (unmapped > 0) core.stats.unmaps++;
  return unmapped;
}

/** iommu_iotlb_sync: invalidate what the gather holds and wait; observers learn the range is clean. */
export function iommuIotlbSync(core: IommuCore, domain: IommuDomain, gather: IotlbGather): void {
  if (gather.empty) return;
  domain.ops.iotlbSync?.(domain, gather);
  core.stats.iotlbSyncs++;
  for (const o of core.observers) o.invalidated?.(domain, gather.start, gather.end);
  gather.reset();
}

/** iommu_unmap: unmap_fast then iotlb_sync (strict). */
export function iommuUnmap(core: IommuCore, domain: IommuDomain, iova: number, size: number): number {
  const g = newGather(core, domain);
  const n = iommuUnmapFast(core, domain, iova, size, g);
  iommuIotlbSync(core, domain, g);
  return n;
}

/** iommu_flush_iotlb_all. */
export function iommuFlushIotlbAll(core: IommuCore, domain: IommuDomain): void {
  domain.ops.flushIotlbAll?.(domain);
  core.stats.flushAlls++;
  for (const o of core.observers) o.invalidatedAll?.(domain);
}

/** iommu_iova_to_phys. */
export function iommuIovaToPhys(domain: IommuDomain, iova: number): number {
  if (!isPaging(domain.type)) return domain.type === IOMMU_DOMAIN_IDENTITY ? iova : 0;
  return domain.ops.iovaToPhys?.(domain, iova) ?? 0;
}
