import { ConfigError } from '../../base/config-error.js';
import { IntelIommu, vtdInfo, type VtdProps } from '../../iommu/vtd/index.js';
import type { SystemDevice, SystemDeviceType } from '../device-registry.js';
import type { FirmwareIommu, FirmwareIommuSource } from '../firmware/description.js';
import type { Machine } from '../machine.js';
import { PropError, type Props } from '../properties.js';

/** Q35_HOST_BRIDGE_IOMMU_ADDR. */
export const INTEL_IOMMU_BASE = 0xfed90000;

/** The intel-iommu system device: the model, its register block mapped on q35, the root bus's IOMMU hook. */
export class IntelIommuDevice implements SystemDevice, FirmwareIommuSource {
  readonly typeName = 'intel-iommu';
  id: string | undefined;

  constructor(readonly vtd: IntelIommu) {}

  reset(): void {
    this.vtd.reset();
  }

  /** The DMAR table's view (hw/i386/acpi-build.c build_dmar_q35): register base, host address width, IR, ATSR. */
  firmwareIommu(): FirmwareIommu {
    const c = this.vtd.cfg;
    return {
      model: 'intel-iommu', ...(this.id !== undefined ? { id: this.id } : {}), mmio: { base: INTEL_IOMMU_BASE, size: 0x1000 },
      options: { 'aw-bits': c.awBits, intremap: c.intremapOn, 'device-iotlb': c.deviceIotlb, 'caching-mode': c.cachingMode },
    };
  }
}

function props(p: Props): Partial<VtdProps> {
  const onOffAuto = (name: string) => (p.str(name) ?? 'auto') as 'on' | 'off' | 'auto';
  return {
    awBits: p.num('aw-bits'), cachingMode: p.bool('caching-mode'), deviceIotlb: p.bool('device-iotlb'), pt: p.bool('pt'),
    intremap: onOffAuto('intremap'), eim: onOffAuto('eim'), buggyEim: p.bool('x-buggy-eim'), snoopControl: p.bool('snoop-control'),
    dmaDrain: p.bool('dma-drain'), dmaTranslation: p.bool('dma-translation'), scalableMode: p.bool('x-scalable-mode'),
    pasidMode: p.bool('x-pasid-mode'), iotlbHitNoFault: p.bool('x-iotlb-hit-no-fault'), brokenSkipPsi: p.bool('x-broken-skip-psi'),
  };
}

const ON_OFF_AUTO = { kind: 'enum', values: ['on', 'off', 'auto'] } as const;

/**
 * `-device intel-iommu[,aw-bits=39|48][,caching-mode=on][,device-iotlb=on]...`
 * (QEMU 7.2 hw/i386/intel_iommu.c vtd_properties, x86-iommu.c). q35 only,
 * one per machine, not hot-pluggable. viommu adds two properties:
 * x-iotlb-hit-no-fault (QEMU's IOTLB-hit permission quirk, see
 * iommu/vtd/vtd-config.ts) and x-broken-skip-psi (test only: page-selective
 * invalidations are ignored).
 */
export const intelIommuType: SystemDeviceType<Machine> = {
  driver: 'intel-iommu',
  desc: 'Intel IOMMU (VT-d) DMA Remapping device',
  bus: 'system',
  props: [
    { name: 'aw-bits', type: { kind: 'uint', bits: 8 }, default: 39n },
    { name: 'caching-mode', type: { kind: 'bool' }, default: false },
    { name: 'device-iotlb', type: { kind: 'bool' }, default: false },
    { name: 'dma-drain', type: { kind: 'bool' }, default: true },
    { name: 'dma-translation', type: { kind: 'bool' }, default: true },
    { name: 'eim', type: ON_OFF_AUTO, default: 'auto', desc: 'on/off/auto' },
    { name: 'intremap', type: ON_OFF_AUTO, default: 'auto', desc: 'on/off/auto' },
    { name: 'pt', type: { kind: 'bool' }, default: true },
    { name: 'snoop-control', type: { kind: 'bool' }, default: false },
    { name: 'version', type: { kind: 'uint', bits: 32 }, default: 0n },
    { name: 'x-buggy-eim', type: { kind: 'bool' }, default: false },
    { name: 'x-pasid-mode', type: { kind: 'bool' }, default: false },
    { name: 'x-scalable-mode', type: { kind: 'bool' }, default: false },
    { name: 'x-iotlb-hit-no-fault', type: { kind: 'bool' }, default: false, desc: "viommu: QEMU's quirk, no fault on an IOTLB hit lacking the permission" },
    { name: 'x-broken-skip-psi', type: { kind: 'bool' }, default: false, desc: 'viommu test switch: ignore page-selective IOTLB invalidations' },
  ],
  create(p, m) {
    if (m.boardName !== 'q35') throw new PropError("'intel-iommu' is not a valid device model name");
    if (m.systemDevices.some((d) => d instanceof IntelIommuDevice)) throw new PropError('QEMU does not support multiple vIOMMUs for x86 yet.');
    let vtd: IntelIommu;
    try {
      vtd = new IntelIommu({
        sys: m.mem, system: m.systemMemory, memory: m.systemAs, props: props(p), log: m.log,
        sendMsi: (a, d) => m.deliverMsi(BigInt(a), d),
      });
    } catch (e) {
      if (e instanceof ConfigError) throw new PropError(e.message);
      throw e;
    }
    const dev = new IntelIommuDevice(vtd);
    m.systemMemory.addSubregion(vtd.mmio, INTEL_IOMMU_BASE);
    m.rootBus.setIommu({
      getAddressSpace: (bus, devfn) => vtd.addressSpace(bus, devfn).as,
      deviceRemoved: (bus, devfn) => vtd.deviceRemoved(bus, devfn),
    });
    m.iommuInfo.push({ name: 'intel-iommu', info: () => vtdInfo(vtd, dev.id) });
    return dev;
  },
};
