import { ConfigError } from '../../base/config-error.js';
import type { InterruptLines } from '../boards/board.js';
import { Smmuv3, SMMUV3_QEMU72_DEPARTURES, smmuv3Info, type SmmuEndpoint } from '../../iommu/smmuv3/index.js';
import type { PCIBus } from '../../pci/bus.js';
import type { SystemDevice, SystemDeviceType } from '../device-registry.js';
import type { FirmwareIommu, FirmwareIommuSource } from '../firmware/description.js';
import type { Machine } from '../machine.js';
import { PropError, type Props } from '../properties.js';

/** virt's SMMUv3 (hw/arm/virt.c VIRT_SMMU, create_smmu): base, size and SPIs 74..77 (eventq, priq, cmdq-sync, gerror). */
export const VIRT_SMMU_BASE = 0x09050000;
export const VIRT_SMMU_SIZE = 0x20000;
export const VIRT_SMMU_SPI = 74;

/**
 * `arm-smmuv3` properties. QEMU 7.2 has only bus_num and primary-bus (set
 * by the board); `stage` is later QEMU's (8.1+; only 1 here); `ats` and `ssidsize` exist in later QEMU only with
 * accel=on, here they work in full emulation. Set them with
 * `-global arm-smmuv3.ats=on` on `-M virt,iommu=smmuv3`.
 */
export const smmuv3Type: SystemDeviceType<Machine> = {
  driver: 'arm-smmuv3',
  desc: 'Arm SMMUv3 (created by -machine virt,iommu=smmuv3)',
  bus: 'system',
  props: [
    { name: 'ats', type: { kind: 'bool' }, default: false, desc: 'ATS: IDR0.ATS, Translation Requests, CMD_ATC_INV -> DEVIOTLB_UNMAP' },
    { name: 'stage', type: { kind: 'string' }, default: '1', desc: 'translation stages (later QEMU\'s property): only 1; 2 and nested are refused' },
    { name: 'ssidsize', type: { kind: 'uint', bits: 8 }, default: 0n, desc: 'IDR1.SSIDSIZE: SubstreamID bits (0..20)' },
    { name: 'x-qemu72', type: { kind: 'bool' }, default: false, desc: `QEMU 7.2's departures from the architecture: ${SMMUV3_QEMU72_DEPARTURES.join('; ')}; and its IORT ID counts` },
  ],
  unsupported: ['bus_num', 'primary-bus'],
  create() {
    // QEMU: the board creates it; -device arm-smmuv3 is refused before realize.
    throw new PropError("Parameter 'driver' expects a pluggable device type");
  },
};

/** The SMMUv3 as a machine device: registers, IRQs, the PCI hook, firmware description, info iommu. */
export class Smmuv3Device implements SystemDevice, FirmwareIommuSource {
  readonly typeName = 'arm-smmuv3';
  id: string | undefined;
  private readonly byBus = new Map<PCIBus, Map<number, SmmuEndpoint>>();

  constructor(readonly smmu: Smmuv3, readonly base: number, readonly spis: readonly number[], private readonly props: Props) {}

  reset(): void {
    this.smmu.reset();
  }

  /** smmu_find_add_as: one endpoint per (bus, devfn), kept across unplug (QEMU reuses it at the same BDF). */
  endpointFor(bus: PCIBus, devfn: number): SmmuEndpoint {
    let m = this.byBus.get(bus);
    if (!m) this.byBus.set(bus, (m = new Map()));
    let ep = m.get(devfn);
    if (!ep) {
      ep = this.smmu.endpoint(devfn, () => ((bus.number & 0xff) << 8) | devfn);
      m.set(devfn, ep);
    }
    return ep;
  }

  firmwareIommu(): FirmwareIommu {
    return {
      model: 'smmuv3', mmio: { base: this.base, size: VIRT_SMMU_SIZE }, irqs: this.spis,
      options: { ats: this.props.bool('ats'), ssidsize: this.props.num('ssidsize'), 'x-qemu72': this.props.bool('x-qemu72') },
    };
  }
}

/**
 * create_smmu for `-machine virt,iommu=smmuv3`: the device with its
 * properties (and -global defaults), its window at 0x09050000, its four
 * interrupts on the GIC, and the IOMMU hook of the root bus. The board
 * calls this while it is being built (m.board is not set yet).
 */
export function createVirtSmmuv3(m: Machine, rootBus: PCIBus, intc: InterruptLines): Smmuv3Device {
  const globals = m.globalsFor(smmuv3Type.driver);
  for (const [k, v] of Object.entries(globals)) {
    try {
      m.registry.resolve(smmuv3Type, { [k]: v });
    } catch (e) {
      if (e instanceof PropError) throw new ConfigError(`-global arm-smmuv3.${k}`, `can't apply global arm-smmuv3.${k}=${String(v)}: ${e.message}`);
      throw e;
    }
  }
  const props = m.registry.resolve(smmuv3Type, globals);
  // Later QEMU (8.1+) names the stages with `stage`; viommu models stage 1 only (IDR0.S2P = 0).
  const stage = props.str('stage') ?? '1';
  if (stage !== '1') {
    throw new ConfigError('-global arm-smmuv3.stage', stage === '2' || stage === 'nested'
      ? `stage=${stage}: viommu's SMMUv3 implements stage 1 only (IDR0.S2P = 0); use stage=1` : `'${stage}' is not a valid stage`, ['1']);
  }
  const ssidsize = props.num('ssidsize');
  if (ssidsize > 20) throw new ConfigError('-global arm-smmuv3.ssidsize', `${ssidsize} is above 20 (a SubstreamID has at most 20 bits)`, ['0..20']);
  const smmu = new Smmuv3(m.mem, m.systemAs, m.log, { ats: props.bool('ats'), ssidsize, qemu72: props.bool('x-qemu72') });
  const spis = [0, 1, 2, 3].map((i) => VIRT_SMMU_SPI + i);
  const dev = new Smmuv3Device(smmu, VIRT_SMMU_BASE, spis, props);
  m.systemMemory.addSubregion(smmu.mmio, VIRT_SMMU_BASE);
  smmu.irqs.forEach((l, i) => l.connect((level) => intc.lines[spis[i]!]!.set(level)));
  rootBus.setIommu({
    getAddressSpace: (bus, devfn) => dev.endpointFor(bus, devfn).as,
    deviceRemoved: (bus, devfn) => {
      const ep = dev.endpointFor(bus, devfn);
      smmu.endpointRemoved(ep);
    },
  });
  m.systemDevices.push(dev);
  m.iommuInfo.push({ name: 'smmuv3', info: () => smmuv3Info(smmu, VIRT_SMMU_BASE) });
  return dev;
}
