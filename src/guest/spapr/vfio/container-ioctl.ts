import { EBUSY, EFAULT, EINVAL, ENOTTY, ENXIO, EPERM } from '../../errno.js';
import { cpuBigEndian } from '../../native-mmio.js';
import type { VfioSpaprTceContainer } from './container.js';
import {
  DMA_MAP_SIZE, DMA_UNMAP_SIZE, IoctlArg, REGISTER_MEMORY_SIZE, TCE_CREATE_SIZE, TCE_INFO_MINSZ, TCE_INFO_SIZE, TCE_REMOVE_SIZE,
  VFIO_CHECK_EXTENSION, VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE, VFIO_IOMMU_DISABLE, VFIO_IOMMU_ENABLE,
  VFIO_IOMMU_MAP_DMA, VFIO_IOMMU_SPAPR_INFO_DDW, VFIO_IOMMU_SPAPR_REGISTER_MEMORY, VFIO_IOMMU_SPAPR_TCE_CREATE,
  VFIO_IOMMU_SPAPR_TCE_GET_INFO, VFIO_IOMMU_SPAPR_TCE_REMOVE, VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, VFIO_IOMMU_UNMAP_DMA,
  VFIO_SET_IOMMU, VFIO_SPAPR_TCE_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU,
} from './uapi.js';

/** copy_from_user of `minsz` bytes (-EFAULT past the buffer), then argsz >= minsz (-EINVAL). */
function header(a: IoctlArg, minsz: number): number {
  if (a.length < minsz) return -EFAULT;
  return a.u32(0) < minsz ? -EINVAL : 0;
}

/**
 * The container's ioctls (tce_iommu_ioctl), with the argument checks in
 * Linux's order: each returns 0 (or the extension answer) or a negative
 * errno. `arg` is the structure in the CPU's byte order, or the integer
 * argument of CHECK_EXTENSION / SET_IOMMU. Window addresses are absolute
 * bus addresses: windows filter IOVAs, they do not offset them.
 */
export function vfioIoctl(c: VfioSpaprTceContainer, cmd: number, arg: Uint8Array | number): number {
  if (cmd === VFIO_CHECK_EXTENSION) return arg === VFIO_SPAPR_TCE_IOMMU || arg === VFIO_SPAPR_TCE_v2_IOMMU ? 1 : 0;
  if (cmd === VFIO_SET_IOMMU) return typeof arg === 'number' ? c.setIommu(arg) : -EINVAL;
  if (!c.iommuSet) return -EINVAL;
  if (typeof arg === 'number') return cmd === VFIO_IOMMU_ENABLE || cmd === VFIO_IOMMU_DISABLE ? enableDisable(c, cmd) : -EFAULT;
  const a = new IoctlArg(arg, !cpuBigEndian(c.k.port.board));
  switch (cmd) {
    case VFIO_IOMMU_SPAPR_TCE_GET_INFO: return getInfo(c, a);
    case VFIO_IOMMU_MAP_DMA: return mapDma(c, a);
    case VFIO_IOMMU_UNMAP_DMA: return unmapDma(c, a);
    case VFIO_IOMMU_ENABLE:
    case VFIO_IOMMU_DISABLE: return enableDisable(c, cmd);
    case VFIO_IOMMU_SPAPR_REGISTER_MEMORY:
    case VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY: {
      if (!c.v2) return -ENOTTY;
      const h = header(a, REGISTER_MEMORY_SIZE);
      if (h) return h;
      if (a.u32(4)) return -EINVAL;
      if (cmd === VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY) return c.user.unregister(a.u64(8), a.u64(16));
      const ret = c.user.register(a.u64(8), a.u64(16));
      if (ret === 0) c.enabled = true;
      return ret;
    }
    case VFIO_IOMMU_SPAPR_TCE_CREATE: {
      if (!c.v2) return -ENOTTY;
      if (c.groups.length === 0) return -ENXIO;
      const h = header(a, TCE_CREATE_SIZE);
      if (h) return h;
      if (a.u32(4)) return -EINVAL;
      const d = c.createDefaultWindow();
      if (d) return d;
      const r = c.createWindow(a.u32(8), a.u64(16), a.u32(24));
      if (typeof r === 'number') return r;
      a.set64(32, r);
      return 0;
    }
    case VFIO_IOMMU_SPAPR_TCE_REMOVE: {
      if (!c.v2) return -ENOTTY;
      if (c.groups.length === 0) return -ENXIO;
      const h = header(a, TCE_REMOVE_SIZE);
      if (h) return h;
      if (a.u32(4)) return -EINVAL;
      const start = a.u64(8);
      if (c.defWindowPending && start === 0n) {
        c.defWindowPending = false;
        return 0;
      }
      return c.removeWindow(start);
    }
    default:
      return -ENOTTY;
  }
}

/** VFIO_IOMMU_SPAPR_TCE_GET_INFO: the default window and, for v2 with DDW, the DDW facts (copied only if argsz reaches them). */
function getInfo(c: VfioSpaprTceContainer, a: IoctlArg): number {
  const tg = c.groups[0] ? c.tableGroupOf(c.groups[0]) : undefined;
  if (!tg) return -ENXIO;
  const h = header(a, TCE_INFO_MINSZ);
  if (h) return h;
  const ddw = c.v2 && tg.maxDynamicWindowsSupported > 0;
  a.set32(4, ddw ? VFIO_IOMMU_SPAPR_INFO_DDW : 0);
  a.set32(8, Number(tg.tce32Start & 0xffff_ffffn));
  a.set32(12, Number(tg.tce32Size & 0xffff_ffffn));
  if (a.u32(0) >= TCE_INFO_SIZE) {
    a.set64(16, ddw ? tg.pgsizes : 0n);
    a.set32(24, ddw ? tg.maxDynamicWindowsSupported : 0);
    a.set32(28, ddw ? tg.maxLevels : 0);
  }
  return 0;
}

function enableDisable(c: VfioSpaprTceContainer, cmd: number): number {
  if (c.groups.length === 0) return -ENXIO;
  if (cmd === VFIO_IOMMU_DISABLE) {
    c.enabled = false;
    return 0;
  }
  if (c.enabled) return -EBUSY;
  c.enabled = true;
  return 0;
}

/** Where a request lands: the window of `iova`, its page size, and the range check of iommu_tce_check_ioba over all pages. */
function window(c: VfioSpaprTceContainer, iova: bigint, size: bigint): { num: number; ps: bigint } | number {
  const num = c.findTable(iova);
  if (num < 0) return -ENXIO;
  const t = c.tables[num]!;
  const ps = BigInt(t.pageSize);
  if (size % ps || iova % ps || iova + size > t.busStart + t.busSize) return -EINVAL;
  return { num, ps };
}

/** VFIO_IOMMU_MAP_DMA: EPERM until enabled (v2: REGISTER_MEMORY), flag checks, the default window on first use, then the exchange. */
function mapDma(c: VfioSpaprTceContainer, a: IoctlArg): number {
  if (!c.enabled) return -EPERM;
  const h = header(a, DMA_MAP_SIZE);
  if (h) return h;
  const flags = a.u32(4);
  if (flags & ~(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)) return -EINVAL;
  const d = c.createDefaultWindow();
  if (d) return d;
  const vaddr = a.u64(8);
  const iova = a.u64(16);
  const size = a.u64(24);
  const w = window(c, iova, size);
  if (typeof w === 'number') return w;
  if (vaddr % w.ps) return -EINVAL;
  if (!(flags & (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE))) return -EINVAL;
  return c.build(c.tables[w.num]!, iova, vaddr, Number(size / w.ps), (flags & VFIO_DMA_MAP_FLAG_READ) !== 0, (flags & VFIO_DMA_MAP_FLAG_WRITE) !== 0);
}

/** VFIO_IOMMU_UNMAP_DMA: flags must be 0; same window and alignment checks; the TCEs go. */
function unmapDma(c: VfioSpaprTceContainer, a: IoctlArg): number {
  if (!c.enabled) return -EPERM;
  const h = header(a, DMA_UNMAP_SIZE);
  if (h) return h;
  if (a.u32(4)) return -EINVAL;
  const d = c.createDefaultWindow();
  if (d) return d;
  const iova = a.u64(8);
  const size = a.u64(16);
  const w = window(c, iova, size);
  if (typeof w === 'number') return w;
  const t = c.tables[w.num]!;
  c.clear(t, Number(iova / w.ps), Number(size / w.ps));
  return 0;
}
