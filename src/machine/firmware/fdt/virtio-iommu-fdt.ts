import type { FirmwareDescription, FirmwareIommu } from '../description.js';
import type { FdtContributor } from './fdt-build.js';
import { virtPcieNodeName } from './virt-fdt.js';

/** Topology values of virtio-iommu-pci that describe it in the device tree (viommu's `topology` property). */
const DT_TOPOLOGIES = ['auto', 'dt'];

function dtIommu(desc: FirmwareDescription): FirmwareIommu | undefined {
  return desc.iommus?.find((i) => i.model === 'virtio-iommu-pci' && DT_TOPOLOGIES.includes(String(i.options['topology'] ?? 'auto')));
}

/**
 * virtio-iommu on virt's device tree (QEMU hw/arm/virt.c
 * create_virtio_iommu_dt_bindings; Linux binding
 * Documentation/devicetree/bindings/virtio/iommu.txt): a child of the
 * PCIe host node, `virtio_iommu@slot,fn`, compatible "virtio,pci-iommu"
 * and "pci1af4,1057", reg with phys.hi = BDF << 8, #iommu-cells 1; and on
 * the host node `iommu-map` = <0 &viommu 0 bdf>, <bdf+1 &viommu bdf+1
 * 0xffff-bdf>, which leaves the IOMMU's own requester ID out. QEMU adds the
 * map last, so it is the host node's first property in the blob. The
 * phandle comes after the PL061 GPIO's, which viommu does not emit but
 * whose number it keeps.
 */
export const virtioIommuFdt: FdtContributor = {
  name: 'virtio-iommu',
  applies: (desc) => desc.machine === 'virt' && dtIommu(desc) !== undefined,
  build({ fdt, desc, phandles, allocPhandle }) {
    const iommu = dtIommu(desc)!;
    const host = desc.pciHosts.find((h) => h.segment === (iommu.segment ?? 0)) ?? desc.pciHosts[0];
    const pcie = host ? fdt.find(`/${virtPcieNodeName(host)}`) : undefined;
    if (!pcie) return;
    phandles.set('gpio', allocPhandle());
    const ph = allocPhandle();
    phandles.set('iommu', ph);
    const bdf = iommu.bdf ?? 0;
    const n = pcie.node(`virtio_iommu@${((bdf >> 3) & 0x1f).toString(16)},${(bdf & 7).toString(16)}`);
    n.phandle(ph);
    n.u32('#iommu-cells', 1).u32('reg', bdf << 8, 0, 0, 0, 0).strings('compatible', 'virtio,pci-iommu', 'pci1af4,1057');
    pcie.u32('iommu-map', 0, ph, 0, bdf, bdf + 1, ph, bdf + 1, 0xffff - bdf);
    const map = pcie.props.pop()!;
    pcie.props.unshift(map);
  },
};
