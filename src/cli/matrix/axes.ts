import type { MatrixMode, MatrixScenarioId, MatrixViommuId } from './types.js';

/** How a vIOMMU column builds its machine (QEMU options) and where its consumers sit. */
export interface ViommuSpec {
  readonly id: MatrixViommuId;
  readonly board: 'q35' | 'virt' | 'pseries';
  /** The machine without consumers. */
  readonly machine: string;
  /** Buses for the cold-plugged consumer and the hot-plug slot; pseries has neither: both sit on the PHB's bus, whose DRCs take the hot-plug. */
  readonly coldBus?: string;
  readonly hotBus?: string;
}

const Q35_PORTS = '-device pcie-root-port,id=rp1,chassis=1,addr=3 -device pcie-root-port,id=rp2,chassis=2,addr=4';
const vtd = (cm: boolean, dt: boolean): ViommuSpec => ({
  id: `intel-iommu,caching-mode=${cm ? 'on' : 'off'},device-iotlb=${dt ? 'on' : 'off'}` as MatrixViommuId,
  board: 'q35',
  machine: `-M q35 -nodefaults -device intel-iommu,caching-mode=${cm ? 'on' : 'off'},device-iotlb=${dt ? 'on' : 'off'} ${Q35_PORTS}`,
  coldBus: 'rp2', hotBus: 'rp1',
});
const smmu = (ats: boolean): ViommuSpec => ({
  id: `smmuv3,ats=${ats ? 'on' : 'off'}` as MatrixViommuId,
  board: 'virt',
  machine: `-M virt,iommu=smmuv3 -nodefaults -global arm-smmuv3.ats=${ats ? 'on' : 'off'} ${Q35_PORTS}`,
  coldBus: 'rp2', hotBus: 'rp1',
});

/**
 * The vIOMMU columns (ref qemu-core.md section 4 for what each accepts).
 * spapr-tce runs with the PHB's `persistent-tces=on` (PowerVM-style
 * tables that keep their entries across window removal), so a TCE left
 * behind stays visible to a device: that is what makes seed 004 a DMA
 * problem rather than only a hypervisor log line.
 */
export const VIOMMUS: readonly ViommuSpec[] = [
  vtd(true, true), vtd(true, false), vtd(false, true), vtd(false, false),
  smmu(true), smmu(false),
  { id: 'virtio-iommu', board: 'q35', machine: `-M q35 -nodefaults -device virtio-iommu-pci ${Q35_PORTS}`, coldBus: 'rp2', hotBus: 'rp1' },
  { id: 'spapr-tce', board: 'pseries', machine: '-M pseries -nodefaults -global spapr-pci-host-bridge.persistent-tces=on' },
  { id: 'none', board: 'q35', machine: `-M q35 -nodefaults ${Q35_PORTS}`, coldBus: 'rp2', hotBus: 'rp1' },
];

export const SCENARIOS: readonly MatrixScenarioId[] = ['steady', 'churn-strict', 'churn-lazy', 'hotplug', 'bind-unbind'];

export const SCENARIO_HELP: Readonly<Record<MatrixScenarioId, string>> = {
  steady: 'a fixed working set mapped once, round trips through it (lazy DMA domain)',
  'churn-strict': 'map, DMA, unmap per operation with iommu.strict=1, then a stray DMA at the unmapped IOVA (must fault)',
  'churn-lazy': 'the same with the flush queue (lazy): the stray DMA may land in the invalidation window',
  hotplug: 'traffic on a cold-plugged consumer while a second one is hot-added, used, removed (guest-acknowledged) and re-added at the same BDF',
  'bind-unbind': 'the device goes to the guest\'s vfio-pci and a VFIO user (type1 v2 / sPAPR TCE v2) maps and DMAs, exits; the host driver binds again and DMAs',
};

/** The fixed model first, then the regression columns. */
export const MODES: readonly MatrixMode[] = ['fixed', 'x-vhost-iotlb-fallback=off', 'seed000', 'seed004'];

/** Virtual-time bound of each scenario: past it the cell is a hang. */
export const SCENARIO_BOUND_NS: Readonly<Record<MatrixScenarioId, number>> = {
  steady: 20e9, 'churn-strict': 30e9, 'churn-lazy': 30e9, hotplug: 60e9, 'bind-unbind': 30e9,
};

/**
 * Which cells a regression mode runs: each mode only where its bug can
 * bite, so the column shows the cells that catch it next to the fixed
 * model's. seed000 and seed004 are sPAPR bugs; the vhost fallback switch
 * is a property of vhost devices (modeApplies also asks the consumer).
 */
export function modeAppliesToViommu(mode: MatrixMode, v: ViommuSpec): boolean {
  if (mode === 'seed000' || mode === 'seed004') return v.id === 'spapr-tce';
  return true;
}

/** "2/4" -> {index: 2, count: 4}, or an error text. */
export function parseShard(text: string): { index: number; count: number } | string {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  if (!m) return `expected I/N (for example 2/4), not '${text}'`;
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index < 1 || index > count) return `I/N needs 1 <= I <= N, not '${text}'`;
  return { index, count };
}

export function cellKey(viommu: string, consumer: string, ats: boolean, scenario: string, mode: string): string {
  return `${viommu}|${consumer}|ats=${ats ? 'on' : 'off'}|${scenario}|${mode}`;
}
