import type { AcpiParserKey } from '../../fw/acpi/registry.js';
import type { GuestKernel } from '../../kernel.js';
import type { IommuModule } from '../../module.js';
import { DMAR_INTR_REMAP, parseDmar, SCOPE_IOAPIC, type Dmar } from './dmar.js';
import { IntelIommuDriver } from './driver.js';
import { setupFaultInterrupt } from './faults.js';
import { DmarUnit } from './unit.js';

/** What the module leaves for reports and tests. */
export interface VtdGuestState {
  dmar?: Dmar;
  driver?: IntelIommuDriver;
  units: DmarUnit[];
  faults: number;
}

/**
 * The intel-iommu guest module (Linux drivers/iommu/intel: dmar.c
 * dmar_table_init / dmar_parse_one_drhd, iommu.c intel_iommu_init /
 * init_dmars): binds only when the firmware has a DMAR table. For each
 * DRHD it logs the unit as Linux does, brings up the invalidation queue,
 * the root table and the fault interrupt, flushes the caches, registers the
 * instance (devices then probe, get groups and default domains, whose
 * attach writes their context entries) and enables translation.
 */
export function vtdModule(state: VtdGuestState = { units: [], faults: 0 }): IommuModule {
  let key: AcpiParserKey<Dmar> | undefined;
  return {
    name: 'intel-iommu',
    acpiParsers(parsers) {
      key = parsers.register('DMAR', parseDmar);
    },
    init(k: GuestKernel) {
      const dmar = key ? k.acpiParsers.get(key)[0] : undefined;
      if (!dmar) return;
      state.dmar = dmar;
      k.log.info('DMAR', `Host address width ${dmar.haw}`);
      const units: DmarUnit[] = [];
      dmar.drhds.forEach((drhd, i) => {
        k.log.info('DMAR', `DRHD base: 0x${drhd.base.toString(16).padStart(14, '0')} flags: 0x${drhd.flags.toString(16)}`);
        const u = new DmarUnit(k, drhd, i);
        k.log.info('DMAR', u.describe());
        units.push(u);
      });
      for (const a of dmar.atsrs) k.log.info('DMAR', `ATSR flags: 0x${a.flags.toString(16)}`);
      if (dmar.flags & DMAR_INTR_REMAP) {
        units.forEach((u, i) => {
          for (const s of u.drhd.scopes.filter((x) => x.type === SCOPE_IOAPIC)) {
            k.log.info('DMAR-IR', `IOAPIC id ${s.enumId} under DRHD base  0x${u.base.toString(16)} IOMMU ${i}`);
          }
        });
        k.log.info('DMAR-IR', 'interrupt remapping is not set up by the synthetic guest (compatibility-format MSIs)');
      }
      state.units = units;
      k.acsRequested = true;
      const driver = new IntelIommuDriver(k, dmar, units);
      state.driver = driver;
      k.iommu.addFwspecProvider((dev) => driver.fwspecOf(dev));
      for (const u of units) {
        const r = u.init();
        if (r) {
          k.log.err('DMAR', `${u.name}: initialization failed (${r}); translation stays off`);
          continue;
        }
        setupFaultInterrupt(k, u, (n) => (state.faults += n));
      }
      k.log.info('DMAR', 'Intel(R) Virtualization Technology for Directed I/O');
      units.forEach((u, i) => {
        if (!u.qiEnabled) return;
        k.iommu.registerInstance(driver.instances[i]!);
        if (u.enableTranslation()) k.log.err('DMAR', `${u.name}: translation did not come on`);
      });
    },
  };
}
