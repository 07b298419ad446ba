import type { GuestDevice } from '../../device.js';
import type { PciDriver } from '../../drivers/driver-core.js';
import type { AcpiParserKey } from '../../fw/acpi/registry.js';
import { parseViot, viotEndpointId, type Viot } from '../../fw/acpi/viot.js';
import type { GuestKernel } from '../../kernel.js';
import type { IommuModule } from '../../module.js';
import { PCI_VENDOR_ID_REDHAT_QUMRANET } from '../../pci-core/caps.js';
import { dmaAliases } from '../../pci-core/dma-alias.js';
import { bdfName } from '../../pci-core/regs.js';
import type { IommuFwspec } from '../driver.js';
import { VirtioIommuDriver } from './driver.js';
import { probeViommu } from './probe.js';
import { VIRTIO_IOMMU_PCI_DEVICE } from './regs.js';
import { readBuiltinTopology, topoEndpointId, type BuiltinTopology } from './topology.js';

/** Where the topology of each virtio-iommu came from: PCI function name -> the fwnode its endpoints' fwspecs name. */
type Fwnodes = Map<string, string>;

const isViommu = (vendor: number, device: number): boolean => vendor === PCI_VENDOR_ID_REDHAT_QUMRANET && device === VIRTIO_IOMMU_PCI_DEVICE;

/** A fwspec provider over PCI requester IDs (each DMA alias), skipping the IOMMU itself. */
function pciProvider(k: GuestKernel, fwnode: string, iommuName: string, idOf: (segment: number, rid: number) => number | undefined): void {
  k.iommu.addFwspecProvider((dev: GuestDevice): IommuFwspec | undefined => {
    const fn = dev.pci;
    if (!fn || fn.name === iommuName) return undefined;
    const ids: number[] = [];
    for (const rid of dmaAliases(fn)) {
      const id = idOf(fn.segment, rid);
      if (id !== undefined && !ids.includes(id)) ids.push(id);
    }
    return ids.length ? { fwnode, ids } : undefined;
  });
}

/** ACPI: every virtio-pci IOMMU node of a VIOT and the PCI ranges whose output it is (drivers/acpi/viot.c). */
function addViot(k: GuestKernel, viot: Viot, fwnodes: Fwnodes): void {
  for (const io of viot.iommus) {
    if (io.kind !== 'pci') continue;
    const name = bdfName(io.segment, io.bdf >> 8, io.bdf & 0xff);
    const fwnode = `VIOT:${name}`;
    fwnodes.set(name, fwnode);
    const ranges = viot.pciRanges.filter((r) => r.output === io);
    pciProvider(k, fwnode, name, (seg, rid) => {
      for (const r of ranges) {
        const id = viotEndpointId(r, seg, rid);
        if (id !== undefined) return id;
      }
      return undefined;
    });
    k.log.info('ACPI', `VIOT: virtio-iommu at ${name} translates ${ranges.length} PCI range(s)`);
  }
  if (viot.skipped.length) k.log.warn('ACPI', `VIOT: unknown node types ${viot.skipped.join(', ')} skipped`);
  k.acsRequested = true;
}

/** Device tree: `virtio,pci-iommu` nodes; the host bridge's iommu-map provider (fw/dt-iommu.ts) names their paths. */
function addDt(k: GuestKernel, fwnodes: Fwnodes): void {
  const fdt = k.firmware.fdt;
  if (!fdt) return;
  for (const node of fdt.findCompatible('virtio,pci-iommu')) {
    const hi = node.cells('reg')?.[0];
    if (hi === undefined) continue;
    const seg = node.parent?.u32('linux,pci-domain') ?? 0;
    const bdf = (hi >>> 8) & 0xffff;
    fwnodes.set(bdfName(seg, bdf >> 8, bdf & 0xff), node.path);
    k.acsRequested = true;
  }
}

/** The PCI fixup of seed 003: the configuration-space description of each virtio-iommu not described otherwise. */
function addBuiltin(k: GuestKernel, fwnodes: Fwnodes): void {
  for (const fn of k.pci?.functions ?? []) {
    if (!isViommu(fn.vendor, fn.device) || fwnodes.has(fn.name)) continue;
    const topo = readBuiltinTopology(k, fn);
    if (!topo) continue;
    if (!topo.ok) {
      k.firmware.errors.push(topo.error);
      k.log.err('virtio_iommu', topo.error);
      continue;
    }
    const t: BuiltinTopology = topo.value;
    const fwnode = `virtio-topology:${fn.name}`;
    fwnodes.set(fn.name, fwnode);
    pciProvider(k, fwnode, fn.name, (seg, rid) => {
      for (const r of t.pciRanges) {
        const id = topoEndpointId(r, seg, rid);
        if (id !== undefined) return id;
      }
      return undefined;
    });
    k.acsRequested = true;
    k.log.info(`pci ${fn.name}`, `parsing virtio-iommu topology: ${t.pciRanges.length} PCI range(s), ${t.endpoints.length} endpoint(s)`);
  }
}

/**
 * The virtio-iommu guest driver as an IommuModule: the VIOT parser, the
 * topology from whichever description the firmware gives (ACPI VIOT when
 * booted with ACPI, the device tree otherwise, and the configuration-space
 * description for a virtio-iommu neither names), and the PCI driver whose
 * probe brings the device up and registers it; until then its endpoints
 * are deferred (EPROBE_DEFER).
 */
export function virtioIommuModule(): IommuModule {
  let viotKey: AcpiParserKey<Viot> | undefined;
  const fwnodes: Fwnodes = new Map();
  let driver: VirtioIommuDriver | undefined;
  return {
    name: 'virtio-iommu',
    acpiParsers(parsers) {
      viotKey = parsers.register('VIOT', parseViot);
    },
    init(k) {
      driver = new VirtioIommuDriver(k);
      if (k.firmware.kind === 'acpi' && viotKey) for (const v of k.acpiParsers.get(viotKey)) addViot(k, v, fwnodes);
      else if (k.firmware.kind === 'dt') addDt(k, fwnodes);
      addBuiltin(k, fwnodes);
    },
    pciDrivers(k): PciDriver[] {
      const drv = driver ?? new VirtioIommuDriver(k);
      return [{
        name: 'virtio_iommu',
        ids: [{ vendor: PCI_VENDOR_ID_REDHAT_QUMRANET, device: VIRTIO_IOMMU_PCI_DEVICE }],
        probe: (dev) => probeViommu(k, drv, dev, fwnodes.get(dev.pci?.name ?? '')),
      }];
    },
  };
}
