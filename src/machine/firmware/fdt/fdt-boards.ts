import { ConfigError } from '../../../base/config-error.js';
import type { FirmwareDescription } from '../description.js';
import type { Fdt } from './fdt.js';
import { buildFdt, type FdtContributor } from './fdt-build.js';
import { PSERIES_FDT_NODES } from './pseries-fdt.js';
import { VIRT_FDT_NODES, VIRT_FIRST_PHANDLE } from './virt-fdt.js';
import { virtioIommuFdt } from './virtio-iommu-fdt.js';

/** The device tree of a virt or pseries description; `extra` contributors run after the board's. */
export function buildMachineFdt(desc: FirmwareDescription, extra: readonly FdtContributor[] = []): Fdt {
  if (desc.machine === 'virt') return buildFdt(desc, [...VIRT_FDT_NODES, virtioIommuFdt, ...extra], VIRT_FIRST_PHANDLE);
  if (desc.machine === 'pseries') return buildFdt(desc, [...PSERIES_FDT_NODES, ...extra], 1);
  throw new ConfigError('machine', `${desc.machine} has no device tree`, ['virt', 'pseries']);
}
