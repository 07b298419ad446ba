import { SPAPR_PCI_DMA64_WIN_ADDR, SPAPR_PCI_DMA_WIN_SIZE, SPAPR_PHB_PGSZ_DEFAULT } from '../../iommu/spapr/papr.js';
import type { SpaprPhbDmaOptions } from '../../iommu/spapr/phb-dma.js';
import type { SystemDeviceType } from '../device-registry.js';
import { PropError, type Props } from '../properties.js';

/**
 * `spapr-pci-host-bridge` (QEMU hw/ppc/spapr_pci.c): the pseries board
 * builds PHB 0 itself; its DMA properties are set with
 * `-global spapr-pci-host-bridge.NAME=VALUE`, QEMU's names and defaults.
 * Four are viommu's own: `sriov-vf` (the PE is an SR-IOV VF with one DMA
 * window, as PowerVM gives it; QEMU has no such PE), `def-win-quirk`
 * (QEMU 7.2's def_win that is never cleared, so removing a DDW created in
 * the default window's slot does not restore the default window; off
 * follows LoPAPR) and `lopapr-npages0` (H_STUFF_TCE / H_PUT_TCE_INDIRECT
 * with npages 0 succeed; off answers QEMU's H_PARAMETER), and
 * `persistent-tces` (PowerVM's tables belong to the PE: a removed or reset
 * window leaves its TCEs for the next window in its slot; QEMU frees them).
 */
export const spaprPhbType: SystemDeviceType = {
  driver: 'spapr-pci-host-bridge',
  desc: 'sPAPR PCI host bridge (PHB 0 is built in; configure it with -global)',
  bus: 'system',
  props: [
    { name: 'ddw', type: { kind: 'bool' }, default: true },
    { name: 'dma_win_addr', type: { kind: 'uint', bits: 64 }, default: 0n },
    { name: 'dma_win_size', type: { kind: 'uint', bits: 64 }, default: SPAPR_PCI_DMA_WIN_SIZE },
    { name: 'dma64_win_addr', type: { kind: 'uint', bits: 64 }, default: SPAPR_PCI_DMA64_WIN_ADDR },
    { name: 'pgsz', type: { kind: 'uint', bits: 64 }, default: SPAPR_PHB_PGSZ_DEFAULT },
    { name: 'sriov-vf', type: { kind: 'bool' }, default: false, desc: 'viommu: the PE is an SR-IOV VF (one DMA window)' },
    { name: 'def-win-quirk', type: { kind: 'bool' }, default: false, desc: "viommu compat: QEMU 7.2's never-cleared def_win" },
    { name: 'lopapr-npages0', type: { kind: 'bool' }, default: false, desc: 'viommu: npages 0 succeeds (LoPAPR reading)' },
    { name: 'persistent-tces', type: { kind: 'bool' }, default: false, desc: "viommu: PowerVM's per-PE tables keep TCEs across remove/reset" },
  ],
  unsupported: ['index', 'buid', 'liobn', 'liobn64', 'mem_win_addr', 'mem_win_size', 'mem64_win_addr', 'mem64_win_size',
    'io_win_addr', 'io_win_size', 'dynamic-reconfiguration', 'numa_node', 'pre-2.8-migration', 'pcie-extended-configuration-space',
    'pre-5.1-associativity', 'gpa', 'atsd', 'bypass-iommu', 'x-config-reg-migration-enabled'],
  create() {
    throw new PropError("viommu models only the pseries machine's built-in PHB; set its properties with -global spapr-pci-host-bridge.NAME=VALUE");
  },
};

/** The DMA options of PHB `index` from its resolved properties; ConfigError-worthy values raise PropError. */
export function spaprPhbDmaOptions(p: Props, index: number, buid: bigint): SpaprPhbDmaOptions {
  const winSize = p.big('dma_win_size');
  if (winSize === 0n || winSize % 4096n !== 0n || winSize >> 12n >= 1n << 32n) {
    throw new PropError(`spapr-pci-host-bridge.dma_win_size 0x${winSize.toString(16)} is not a non-zero multiple of 4 KiB below 16 TiB`);
  }
  if ((p.big('pgsz') & (1n << 12n)) === 0n) throw new PropError('spapr-pci-host-bridge.pgsz must include 4 KiB pages (the default window uses them)');
  return {
    index, buid, ddw: p.bool('ddw'), dmaWinAddr: p.big('dma_win_addr'), dmaWinSize: winSize, dma64WinAddr: p.big('dma64_win_addr'),
    pgsz: p.big('pgsz'), sriovVf: p.bool('sriov-vf'), defWinQuirk: p.bool('def-win-quirk'), lopaprNpages0: p.bool('lopapr-npages0'),
    persistentTces: p.bool('persistent-tces'),
  };
}
