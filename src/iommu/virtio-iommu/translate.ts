import { hex } from '../../base/trace.js';
import { IOMMU_NONE, IOMMU_RW, type IOMMUTLBEntry } from '../../memory/iommu-types.js';
import { Iotlb } from '../iotlb/iotlb.js';
import { POW2 } from '../walk/walk-result.js';
import type { ViommuDomain } from './domain.js';
import type { EndpointRegion } from './endpoint-region.js';
import {
  VIRTIO_IOMMU_FAULT_F_ADDRESS, VIRTIO_IOMMU_FAULT_F_READ, VIRTIO_IOMMU_FAULT_F_WRITE, VIRTIO_IOMMU_FAULT_R_DOMAIN,
  VIRTIO_IOMMU_FAULT_R_MAPPING, VIRTIO_IOMMU_FAULT_R_UNKNOWN, VIRTIO_IOMMU_RESV_MEM_T_MSI,
} from './regs.js';
import { mappingPerm } from './viommu-notify.js';
import { VIOMMU_TRACK } from './trace-track.js';
import type { VirtioIommu } from './virtio-iommu.js';

const TWO53 = 2 ** 53;
/** The largest IOTLB block filled from a mapping (1 GiB). */
const MAX_BLOCK_SHIFT = 30;

/** The entry the memory core reads at once; one per device, so the hot path allocates nothing. */
function entry(dev: VirtioIommu, addr: number, translated: number, perm: number): IOMMUTLBEntry {
  const page = dev.granulePage;
  const e = dev.scratch;
  e.targetAs = dev.platform.systemAs;
  e.iova = addr - (addr % page);
  e.translatedAddr = translated;
  e.addrMask = page - 1;
  e.perm = perm;
  return e;
}

function fault(dev: VirtioIommu, addr: number, reason: number, flags: number, sid: number, report: boolean): IOMMUTLBEntry {
  if (report) {
    dev.counters.faults++;
    dev.platform.reportFault(reason, flags | VIRTIO_IOMMU_FAULT_F_ADDRESS, sid, addr);
  }
  return entry(dev, addr, addr, IOMMU_NONE);
}

/** A reserved region containing addr: -1 none, else its subtype (MSI doorbells translate with the identity). */
function reservedType(dev: VirtioIommu, addr: number): number {
  const r = dev.reservedNumeric;
  for (let i = 0; i < r.length; i += 3) if (addr >= r[i]! && addr <= r[i + 1]!) return r[i + 2]!;
  return -1;
}

/**
 * Fills the IOTLB with the largest naturally aligned block (4 KiB to 1 GiB)
 * around addr that lies inside the mapping, translates to an equally
 * aligned address and touches no reserved region.
 */
function fill(dev: VirtioIommu, d: ViommuDomain, addr: number, start: number, end: number, delta: number, perm: number): void {
  let shift = 12;
  // No block larger than the mapping can fit in it.
  const top = Math.min(MAX_BLOCK_SHIFT, Math.floor(Math.log2(end - start + 1)));
  for (let s = top; s > 12; s--) {
    const size = POW2[s]!;
    const b = addr - (addr % size);
    if (b >= start && b + size - 1 <= end && (b + delta) % size === 0 && !dev.overlapsReserved(b, size)) {
      shift = s;
      break;
    }
  }
  const size = POW2[shift]!;
  const b = addr - (addr % size);
  // A mapping that is not page-aligned (QEMU's compat mode allows it) is not cached.
  if (b < start || b + size - 1 > end || (b + delta) % 4096 !== 0) return;
  dev.iotlb.insert(d.tag, addr, shift, b + delta, perm);
}

/**
 * virtio_iommu_translate for one access of `flag` (IOMMU_RO / IOMMU_WO;
 * IOMMU_NONE asks for the permissions without reporting faults). The
 * IOTLB answers translated domains first; on a miss: bypassed endpoints
 * and MSI doorbells get the identity, RESERVED regions and missing or
 * insufficient mappings fault (MAPPING), unattached endpoints fault
 * (DOMAIN; QEMU: UNKNOWN for one it never attached, and it looks at
 * reserved regions only for known endpoints). The entry covers one
 * granule; its permission is the mapping's.
 */
export function translate(dev: VirtioIommu, region: EndpointRegion, addr: number, flag: number): IOMMUTLBEntry {
  const sid = region.sid();
  const ep = dev.endpoints.get(sid);
  const domain = ep?.domain;
  const tlb = dev.iotlb;
  if (domain && !domain.bypass) {
    const s = tlb.lookup(domain.tag, addr);
    if (s >= 0 && (tlb.perm(s) & flag) === flag) {
      tlb.count(1, 0);
      return entry(dev, addr, tlb.translated(s, addr), tlb.perm(s));
    }
    tlb.count(0, 1);
  }
  const tracer = dev.platform.tracer;
  if (tracer === undefined || !tracer.on) return translateMiss(dev, region, addr, flag, sid, ep, domain);
  const e = translateMiss(dev, region, addr, flag, sid, ep, domain);
  tracer.complete(VIOMMU_TRACK, 'iotlb', 'IOTLB miss', { endpoint: sid, iova: hex(addr), flag });
  tracer.instant(VIOMMU_TRACK, 'iotlb', e.perm === IOMMU_NONE ? 'translation fault' : 'IOTLB fill',
    { endpoint: sid, iova: hex(addr), addr: hex(Number(e.translatedAddr)), perm: e.perm });
  return e;
}

/** The miss side of translate(): bypass, reserved regions, the mapping tree, fill or fault. */
function translateMiss(dev: VirtioIommu, region: EndpointRegion, addr: number, flag: number, sid: number,
  ep: ReturnType<VirtioIommu['endpoints']['get']>, domain: ViommuDomain | undefined): IOMMUTLBEntry {
  const report = flag !== IOMMU_NONE;
  if (dev.compat && !ep) {
    if (dev.bypass) return entry(dev, addr, addr, IOMMU_RW);
    return fault(dev, addr, VIRTIO_IOMMU_FAULT_R_UNKNOWN, 0, sid, report);
  }
  const resv = reservedType(dev, addr);
  if (resv === VIRTIO_IOMMU_RESV_MEM_T_MSI) return entry(dev, addr, addr, IOMMU_RW);
  if (resv >= 0) return fault(dev, addr, VIRTIO_IOMMU_FAULT_R_MAPPING, 0, sid, report);
  if (!domain) {
    if (dev.bypass) return entry(dev, addr, addr, IOMMU_RW);
    return fault(dev, addr, VIRTIO_IOMMU_FAULT_R_DOMAIN, 0, sid, report);
  }
  if (domain.bypass) return entry(dev, addr, addr, IOMMU_RW);
  const tree = domain.mappings;
  const n = tree.findNumber(addr);
  if (n < 0 || !tree.isNumeric(n)) return fault(dev, addr, VIRTIO_IOMMU_FAULT_R_MAPPING, 0, sid, report);
  const perm = mappingPerm(tree.flagsOf(n));
  const bad = (flag & ~perm & 1 ? VIRTIO_IOMMU_FAULT_F_READ : 0) | (flag & ~perm & 2 ? VIRTIO_IOMMU_FAULT_F_WRITE : 0);
  if (bad) return fault(dev, addr, VIRTIO_IOMMU_FAULT_R_MAPPING, bad, sid, true);
  const start = tree.startOf(n);
  const delta = tree.physOf(n) - start;
  if (addr + delta >= TWO53) return entry(dev, addr, addr, IOMMU_NONE);
  if (perm) fill(dev, domain, addr, start, tree.endOf(n), delta, perm);
  return entry(dev, addr, addr + delta, perm);
}

/**
 * Translates iovas[from..to) of one endpoint into out (the translated
 * address, or -1 for a fault): the IOTLB probe inline, the full translate
 * (tree walk, fill, fault report) on a miss. Returns the faults.
 */
export function translateBatch(dev: VirtioIommu, region: EndpointRegion, access: number, iovas: Float64Array, from: number,
  to: number, out: Float64Array): number {
  const domain = dev.endpoints.get(region.sid())?.domain;
  const tlb = dev.iotlb;
  const tag = (domain && !domain.bypass ? domain.tag : -1) | 0;
  // The 4 KiB probe inline (as the engine's hit pass): tags and contexts of a set, then its delta and meta.
  const ent = tlb.ent;
  const mask = tlb.setMask | 0;
  const w = tlb.ways | 0;
  const stride = (w * 4) | 0;
  const salt = Iotlb.salt(tag, 12) | 0;
  const acc = access | 0;
  let faults = 0;
  let hits = 0;
  for (let k = from; k < to; k++) {
    const iova = iovas[k]!;
    if (tag >= 0) {
      const vpn = Math.floor(iova / 4096);
      const b = (((vpn | 0) ^ salt) & mask) * stride;
      let s = -1;
      for (let j = b; j < b + w; j++) {
        if (ent[j] === vpn && ent[j + w] === tag) {
          s = j;
          break;
        }
      }
      if (s < 0 && tlb.hasLarge) s = tlb.lookupLarge(tag, iova);
      if (s >= 0 && (tlb.perm(s) & acc) === acc) {
        hits++;
        out[k] = iova + ent[s + 2 * w]!;
        continue;
      }
    }
    const e = translate(dev, region, iova, access);
    if (e.perm & access) out[k] = e.translatedAddr;
    else {
      out[k] = -1;
      faults++;
    }
  }
  tlb.count(hits, 0);
  return faults;
}
