import type { FdtNode } from '../fw/fdt/fdt.js';
import { regOf } from '../fw/fdt/props.js';
import type { GuestKernel } from '../kernel.js';
import type { IommuModule } from '../module.js';
import { ParseError } from '../util/result.js';
import { TceDmaOps } from './dma-ops.js';
import { SpaprTceDriver } from './driver.js';
import { PseriesHv } from './hv.js';
import { DDW_CREATE_PE_DMA_WIN, DDW_EXT_QUERY_OUT_SIZE, DDW_EXT_RESET_DMA_WIN, DDW_QUERY_PE_DMA_WIN, DDW_REMOVE_PE_DMA_WIN, HCALL_MULTI_TCE } from './papr.js';
import { parseDmaWindow, PseriesPe, type DdwTokens } from './pe.js';
import { PseriesTableGroup } from './table-group.js';
import { vfioSpaprWorkload } from './vfio/workload.js';

/** The DDW tokens a PHB node offers: ibm,ddw-applicable <query create remove>, ibm,ddw-extensions <n reset query-out>. */
function ddwTokens(node: FdtNode): DdwTokens | undefined {
  const app = node.cells('ibm,ddw-applicable');
  if (!app || app.length < 3) return undefined;
  const ext = node.cells('ibm,ddw-extensions') ?? [];
  const n = ext[0] ?? 0;
  return {
    query: app[DDW_QUERY_PE_DMA_WIN]!, create: app[DDW_CREATE_PE_DMA_WIN]!, remove: app[DDW_REMOVE_PE_DMA_WIN]!,
    reset: n >= DDW_EXT_RESET_DMA_WIN ? ext[DDW_EXT_RESET_DMA_WIN] : undefined,
    query6: n >= DDW_EXT_QUERY_OUT_SIZE && ext[DDW_EXT_QUERY_OUT_SIZE] === 1,
  };
}

function hx(v: number | bigint): string {
  return `0x${v.toString(16)}`;
}

/**
 * Linux's pseries IOMMU setup (arch/powerpc/platforms/pseries/iommu.c,
 * iommu_init_early_pSeries with the LPAR ops): binds when the device tree
 * has PHBs with "ibm,dma-window" and the hypervisor offers hypercalls.
 * Per PHB (a PE on QEMU) it builds the table group with the default
 * window's table and the DDW facts (query), registers an IOMMU instance,
 * and gives every function below the PHB the platform DMA ops.
 */
export function spaprTceModule(): IommuModule {
  return {
    name: 'spapr-tce',
    init(k: GuestKernel): void {
      const t = k.firmware.fdt;
      const rtas = t?.byPath('/rtas');
      if (!t || !rtas || !k.port.hcall) return;
      try {
        const phbs = [...t.nodes()].filter((n) => n.parent === t.root && n.string('device_type') === 'pci' && n.has('ibm,dma-window'));
        if (phbs.length === 0) return;
        const hv = new PseriesHv(k.port, k.mem, k.log, rtas.strings('ibm,hypertas-functions')?.includes(HCALL_MULTI_TCE) ?? false);
        const driver = new SpaprTceDriver(k, hv);
        for (const node of phbs) {
          const w = parseDmaWindow(node);
          const reg = regOf(node)[0];
          if (!w || !reg) throw new ParseError(`${node.path}: ibm,dma-window or reg unreadable`);
          const pe = new PseriesPe(node, reg.address, ddwTokens(node), hv, w);
          const g = new PseriesTableGroup(driver, pe);
          g.init();
          driver.addGroup(g, { name: `spapr-tce ${node.name}`, fwnode: node.path, driver, maxPasids: 0 });
          k.log.info('pseries-iommu', `${node.path}: default DMA window LIOBN ${hx(w.liobn)} [${hx(w.busAddr)}-${hx(w.busAddr + w.size - 1n)}]`
            + (pe.tokens ? `, DDW: ${g.maxDynamicWindowsSupported} window(s), page sizes mask ${hx(g.pgsizes)}${pe.tokens.reset === undefined ? '' : ', reset'}` : ', no DDW'));
        }
        // The functions the guest enumerated sit below the first PHB (the one bootDt scanned).
        const first = [...t.nodes()].find((n) => n.parent === t.root && n.string('device_type') === 'pci');
        k.iommu.addFwspecProvider((dev) => (dev.pci && first && driver.groups.has(first.path) ? { fwnode: first.path, ids: [dev.pci.devId] } : undefined));
        k.dma.registerPlatformOps(driver.name, (dev) => new TceDmaOps(driver, dev));
        for (const g of driver.groups.values()) k.iommu.registerInstance(g.instance);
      } catch (e) {
        if (!(e instanceof ParseError)) throw e;
        k.firmware.errors.push(`pseries DMA windows: ${e.message}`);
        k.log.err('pseries-iommu', e.message);
      }
    },
    workloads: (k: GuestKernel) => [vfioSpaprWorkload(k, () => spaprTceDriverOf(k))],
  };
}

/** The pseries TCE driver of a booted guest, if it bound. */
export function spaprTceDriverOf(k: GuestKernel): SpaprTceDriver | undefined {
  for (const i of k.iommu.instances) if (i.driver instanceof SpaprTceDriver) return i.driver;
  return undefined;
}
