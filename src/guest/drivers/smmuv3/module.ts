import type { GuestDevice } from '../../device.js';
import type { AcpiParserKey } from '../../fw/acpi/registry.js';
import { IORT_NODE_SMMU_V3, iortMapRid, parseIort, type Iort } from '../../fw/acpi/iort.js';
import type { FdtNode } from '../../fw/fdt/fdt.js';
import { regOf } from '../../fw/fdt/props.js';
import type { GuestKernel } from '../../kernel.js';
import type { IommuModule } from '../../module.js';
import { dmaAliases } from '../../pci-core/dma-alias.js';
import { ArmSmmuV3, type ArmSmmuV3Options } from './arm-smmu-v3.js';

/** Test-only switches of the module. */
export interface Smmuv3ModuleOptions {
  /** Unmaps skip their TLBI (the oracle must catch the stale translations). */
  readonly brokenTlbi?: boolean;
  /** The drivers that probed, for tests. */
  readonly out?: ArmSmmuV3[];
}

const ARM_SPI_BASE = 32;

/** The SMMU's interrupts from its DT node: SPIs by interrupt-names (arm,smmu-v3 binding). */
function dtIrqs(n: FdtNode): { eventq?: number; gerror?: number } {
  const cells = n.cells('interrupts') ?? [];
  const names = n.strings('interrupt-names') ?? [];
  const out: { eventq?: number; gerror?: number } = {};
  names.forEach((name, i) => {
    const spi = cells[i * 3 + 1];
    if (spi === undefined || cells[i * 3] !== 0) return;
    if (name === 'eventq') out.eventq = spi;
    if (name === 'gerror') out.gerror = spi;
  });
  return out;
}

/**
 * arm-smmu-v3 as a built-in module: it binds to an `arm,smmu-v3` DT node
 * (devices reach it through the host bridge's iommu-map, added by the DT
 * stage) or, on an ACPI boot, to IORT SMMUv3 nodes (devices through the
 * root complex's ID mappings), and requests ACS as Linux's driver does
 * (pci_request_acs).
 */
export function smmuv3Module(opts: Smmuv3ModuleOptions = {}): IommuModule {
  let iortKey: AcpiParserKey<Iort> | undefined;
  return {
    name: 'arm-smmu-v3',
    acpiParsers(p) {
      iortKey = p.register('IORT', parseIort);
    },
    init(k: GuestKernel) {
      const found: ArmSmmuV3Options[] = [];
      if (k.firmware.kind === 'acpi' && iortKey) {
        for (const iort of k.acpiParsers.get(iortKey)) {
          const rcAts = iort.nodes.some((n) => n.type === 2 && n.ats);
          for (const n of iort.nodes.filter((x) => x.type === IORT_NODE_SMMU_V3)) {
            const base = n.base!;
            const fwnode = `IORT SMMUv3 node at ${n.offset} (0x${base.toString(16)})`;
            found.push({
              base, fwnode, devName: `arm-smmu-v3.${found.length}.auto`, rcAts,
              irqs: { eventq: n.gsiv!.event - ARM_SPI_BASE, gerror: n.gsiv!.gerr - ARM_SPI_BASE }, brokenTlbi: opts.brokenTlbi ?? false,
            });
            k.iommu.addFwspecProvider((dev: GuestDevice) => {
              if (!dev.pci) return undefined;
              const ids: number[] = [];
              for (const rid of dmaAliases(dev.pci)) {
                const m = iortMapRid(iort, 0, rid);
                if (m?.node === n && !ids.includes(m.id)) ids.push(m.id);
              }
              return ids.length ? { fwnode, ids } : undefined;
            });
          }
        }
      } else if (k.firmware.fdt) {
        const host = k.firmware.fdt.findCompatible('pci-host-ecam-generic')[0];
        for (const n of k.firmware.fdt.findCompatible('arm,smmu-v3')) {
          const reg = regOf(n)[0];
          if (!reg) continue;
          const base = Number(reg.address);
          found.push({
            base, fwnode: n.path, devName: `${base.toString(16)}.smmuv3`, rcAts: host?.has('ats-supported') ?? false,
            irqs: dtIrqs(n), brokenTlbi: opts.brokenTlbi ?? false,
          });
        }
      }
      for (const o of found) {
        const drv = new ArmSmmuV3(k, o);
        if (drv.probeHw() !== 0) continue;
        opts.out?.push(drv);
        k.acsRequested = true;
        k.iommu.registerInstance(drv.instance);
      }
    },
  };
}
