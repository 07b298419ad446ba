import { ConfigError } from '../base/config-error.js';
import { formatLogLine } from '../base/event-log.js';
import { DEFAULT_DMA_API } from './dma/dma-api.js';
import type { FlushQueueOptions } from './dma/flush-queue.js';
import type { PciDriver } from './drivers/driver-core.js';
import { EduDriver } from './drivers/edu.js';
import { parseMadt } from './fw/acpi/madt.js';
import { parseMcfg } from './fw/acpi/mcfg.js';
import { AcpiParsers } from './fw/acpi/registry.js';
import { bootDt } from './fw/dt-platform.js';
import { bootQ35, Q35_WINDOWS } from './fw/q35.js';
import { REGRESSION_SWITCHES, type RegressionSwitch } from './iommu-core/core.js';
import { IOMMU_DOMAIN_DMA, IOMMU_DOMAIN_DMA_FQ, IOMMU_DOMAIN_IDENTITY } from './iommu-core/domain-types.js';
import { Pciehp, type PciehpOptions } from './hotplug/pciehp.js';
import { SpaprPciHotplug, type SpaprHotplugOptions } from './hotplug/spapr-hotplug.js';
import { GuestKernel } from './kernel.js';
import type { IommuModule } from './module.js';
import { builtinIommuModules } from './iommu-modules.js';
import type { DmaOracle } from './oracle/oracle.js';
import { pciEnableAcs } from './pci-core/acs.js';
import { ecamAccess, type PciConfigAccess } from './pci-core/config-access.js';
import { enumeratePci } from './pci-core/enumerate.js';
import { assignResources, LINUX_HOTPLUG_RESERVE } from './pci-core/resources.js';
import { GuestDevice } from './device.js';
import type { GuestPort } from './port.js';
import { buildReport } from './report/build.js';
import type { BootReport } from './report/report.js';
import { eduDmaWorkload } from './workload/edu-dma.js';
import { trafficWorkload } from './workload/traffic.js';
import { VirtioNetDriver } from './drivers/virtio-net.js';
import { WorkloadRunner } from './workload/runner.js';
import type { ParamValue, Workload, WorkloadResult } from './workload/workload.js';

/** Linux's DMA domain policy: iommu.strict=1, lazy (flush queue, the default) or iommu.passthrough=1. */
export type DmaMode = 'strict' | 'lazy' | 'passthrough';
export const DMA_MODES: readonly DmaMode[] = ['strict', 'lazy', 'passthrough'];

/** How the synthetic guest boots: DMA mode, workloads, seed, regression switches, extra drivers. */
export interface BootOptions {
  /** iommu.strict=1 (DMA), lazy (DMA_FQ, the Linux default) or iommu.passthrough=1 (IDENTITY). Default lazy. */
  readonly dmaMode?: DmaMode;
  /** CONFIG_IOMMU_DMA (default true). */
  readonly iommuDma?: boolean;
  /** Historical bugs to reproduce (e.g. 'seed000'). */
  readonly regress?: readonly string[];
  /** Firmware description to use where a board offers both (virt): 'dt' (default) or 'acpi'. */
  readonly firmware?: 'dt' | 'acpi';
  /** Workloads in order; default edu-dma, plus traffic when a virtio-net device is bound. */
  readonly workloads?: readonly { readonly name: string; readonly params?: Readonly<Record<string, ParamValue>> }[];
  readonly seed?: number;
  /** An oracle the machine feeds with DMA observations (see oracle/observation.ts); a fresh one otherwise. */
  readonly oracle?: DmaOracle;
  /** vIOMMU guest drivers (default: all built-in ones, each binding only to hardware the firmware describes). */
  readonly modules?: readonly IommuModule[];
  /** More PCI drivers (virtio, vfio-like users). */
  readonly drivers?: readonly ((k: GuestKernel) => PciDriver)[];
  /** More workloads, available by name. */
  readonly extraWorkloads?: readonly ((k: GuestKernel) => Workload)[];
  readonly fq?: Partial<FlushQueueOptions>;
  readonly swiotlbBytes?: number;
  /** The DMA mask the edu driver asks for, in bits (QEMU's edu dma_mask property; default 28). */
  readonly eduDmaBits?: number;
  /** Runs after driver binding and before the workloads (scripted scenarios, tests). */
  readonly scenario?: (k: GuestKernel) => void;
  /** PCIe native hot-plug (CONFIG_HOTPLUG_PCI_PCIE): its options, or false to leave the ports alone. Default on. */
  readonly pciehp?: PciehpOptions | false;
  /** pseries PCI hot-plug through DRCs (RAS events, drmgr, rpadlpar_io): its options, or false to leave it out. Default on. */
  readonly spaprHotplug?: SpaprHotplugOptions | false;
}

function checkOptions(o: BootOptions): RegressionSwitch[] {
  if (o.dmaMode !== undefined && !DMA_MODES.includes(o.dmaMode)) throw ConfigError.unknown('dmaMode', 'DMA mode', o.dmaMode, DMA_MODES);
  if (o.firmware !== undefined && o.firmware !== 'dt' && o.firmware !== 'acpi') throw ConfigError.unknown('firmware', 'firmware', o.firmware, ['dt', 'acpi']);
  const ack = o.pciehp ? o.pciehp.unplugAck : undefined;
  if (ack !== undefined && ack !== 'script' && ack !== 'linux') throw ConfigError.unknown('pciehp.unplugAck', 'unplug acknowledgement', ack, ['script', 'linux']);
  const sack = o.spaprHotplug ? o.spaprHotplug.unplugAck : undefined;
  if (sack !== undefined && sack !== 'script' && sack !== 'linux') throw ConfigError.unknown('spaprHotplug.unplugAck', 'unplug acknowledgement', sack, ['script', 'linux']);
  const out: RegressionSwitch[] = [];
  for (const r of o.regress ?? []) {
    if (!(REGRESSION_SWITCHES as readonly string[]).includes(r)) throw ConfigError.unknown('regress', 'regression switch', r, REGRESSION_SWITCHES);
    out.push(r as RegressionSwitch);
  }
  return out;
}

export interface BootedGuest {
  readonly kernel: GuestKernel;
  readonly report: BootReport;
  readonly workloads: readonly WorkloadResult[];
}

/**
 * Boots the synthetic guest on a machine through its GuestPort and returns
 * the kernel and the report: firmware (fw_cfg + ACPI table loader on q35;
 * the device tree on virt and pseries), PCI enumeration, IOMMU modules,
 * IOMMU probing with groups and default domains, driver binding (with
 * deferral), the workloads, and the oracle's verdict.
 */
export function bootGuestKernel(port: GuestPort, o: BootOptions = {}): BootedGuest {
  const regress = checkOptions(o);
  const mode = o.dmaMode ?? 'lazy';
  const parsers = new AcpiParsers();
  const k = new GuestKernel(port, {
    defaultDomainType: mode === 'strict' ? IOMMU_DOMAIN_DMA : mode === 'lazy' ? IOMMU_DOMAIN_DMA_FQ : IOMMU_DOMAIN_IDENTITY,
    iommuDma: o.iommuDma ?? true,
    regress,
    dma: { swiotlbBytes: o.swiotlbBytes ?? DEFAULT_DMA_API.swiotlbBytes, fq: { ...DEFAULT_DMA_API.fq, ...o.fq } },
    ...(o.oracle ? { oracle: o.oracle } : {}),
  }, parsers);
  const modules = o.modules ?? builtinIommuModules();
  const mcfgKey = parsers.register('MCFG', parseMcfg);
  parsers.register('APIC', parseMadt);
  for (const m of modules) m.acpiParsers?.(parsers);
  k.log.info('iommu', `Default domain type: ${mode === 'passthrough' ? 'Passthrough' : 'Translated'}`);
  if (mode !== 'passthrough') k.log.info('iommu', `DMA domain TLB invalidation policy: ${mode} mode`);
  for (const r of regress) k.log.warn('iommu', `regression switch '${r}' is on`);

  let access: PciConfigAccess | undefined;
  let assign = false;
  let range: readonly [number, number] = [0, 255];
  if (port.board === 'q35' || port.board === 'pc') {
    access = bootQ35(k);
    k.firmware.windows = Q35_WINDOWS;
  } else {
    const host = bootDt(k, o.firmware === 'acpi');
    if (host) {
      access = host.access;
      assign = true;
      range = host.busRange;
      k.firmware.windows = host.windows;
      k.firmware.hostNode = host.node;
    }
  }
  if (k.firmware.acpi) {
    parsers.parseAll(k.firmware.acpi.tables);
    for (const e of parsers.errors) {
      k.firmware.errors.push(e);
      k.log.err('ACPI', `${e}; table ignored`);
    }
    const m = parsers.get(mcfgKey).flat().find((a) => a.segment === 0 && a.startBus === 0);
    if (m && !assign) {
      access = ecamAccess(port, m);
      k.log.info('PCI', `ECAM [mem 0x${m.base.toString(16)}-0x${(m.base + (m.endBus - m.startBus + 1) * (1 << 20) - 1).toString(16)}] for [bus ${m.startBus.toString(16).padStart(2, '0')}-${m.endBus.toString(16).padStart(2, '0')}]`);
    }
  }
  if (access) {
    k.log.info('PCI', `scanning with ${access.name} config access${assign ? ', assigning buses and BARs' : ''}`);
    k.pci = enumeratePci(access, { assignBuses: assign, rootBus: range[0], maxBus: range[1], log: k.log });
    if (assign) for (const f of assignResources(k.pci.root, k.firmware.windows, k.log, LINUX_HOTPLUG_RESERVE)) k.firmware.errors.push(f);
  }
  for (const m of modules) m.init?.(k);
  for (const fn of k.pci?.functions ?? []) {
    if (k.acsRequested) pciEnableAcs(fn);
    k.devices.push(new GuestDevice(fn.name, fn));
  }
  for (const dev of k.devices) k.iommu.addDevice(dev);
  const edu = new EduDriver(k, o.eduDmaBits);
  k.drivers.register(edu);
  const net = new VirtioNetDriver(k);
  k.drivers.register(net);
  for (const m of modules) for (const d of m.pciDrivers?.(k) ?? []) k.drivers.register(d);
  for (const f of o.drivers ?? []) k.drivers.register(f(k));
  for (const dev of k.devices) k.drivers.bind(dev);
  k.drivers.retryDeferred();
  for (const dev of k.drivers.deferredDevices) k.log.warn(`pci ${dev.name}`, `deferred probe pending${k.iommu.deferred.includes(dev) ? ': its IOMMU never became ready' : ''}`);
  if (o.pciehp !== false) {
    k.pciehp = new Pciehp(k, o.pciehp ?? {});
    k.pciehp.probe();
  }
  if (o.spaprHotplug !== false) k.spaprHotplug = SpaprPciHotplug.probe(k, o.spaprHotplug ?? {});
  o.scenario?.(k);
  const runner = new WorkloadRunner(k, o.seed ?? 1);
  runner.register(eduDmaWorkload(edu));
  runner.register(trafficWorkload(net));
  for (const m of modules) for (const w of m.workloads?.(k) ?? []) runner.register(w);
  for (const f of o.extraWorkloads ?? []) runner.register(f(k));
  const results: WorkloadResult[] = [];
  // Default: edu-dma, and traffic when a virtio-net device is bound (edu-dma alone on a machine without either).
  const defaults: { name: string; params?: Record<string, string> }[] = [
    ...(edu.instances.size > 0 || net.instances.size === 0 ? [{ name: 'edu-dma' }] : []),
    ...(net.instances.size > 0 ? [{ name: 'traffic' }] : []),
  ];
  (o.workloads ?? defaults).forEach((w, i) => results.push(runner.run(w.name, w.params ?? {}, i)));
  const report = buildReport(k, mode, regress, results, port.log.lines.map(formatLogLine));
  return { kernel: k, report, workloads: results };
}

/** bootGuest(port, options) -> report. */
export function bootGuest(port: GuestPort, options: BootOptions = {}): BootReport {
  return bootGuestKernel(port, options).report;
}
