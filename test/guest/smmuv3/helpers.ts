import { bootGuestKernel, type BootOptions, type BootedGuest } from '../../../src/guest/boot.js';
import type { GuestDevice } from '../../../src/guest/device.js';
import { smmuv3Module, type Smmuv3ModuleOptions } from '../../../src/guest/drivers/smmuv3/module.js';
import type { ArmSmmuV3 } from '../../../src/guest/drivers/smmuv3/arm-smmu-v3.js';
import type { GuestKernel } from '../../../src/guest/kernel.js';
import { DmaOracle } from '../../../src/guest/oracle/oracle.js';
import { parseCmdline } from '../../../src/machine/cmdline.js';
import { installDmaTap } from '../../../src/machine/dma-tap.js';
import { defaultDeviceRegistry } from '../../../src/machine/devices/index.js';
import { Smmuv3Device } from '../../../src/machine/devices/smmuv3.js';
import { Machine } from '../../../src/machine/machine.js';
import { PCIDevice, type PCIDeviceIdentity } from '../../../src/pci/device.js';
import { AtsCapability, PasidCapability } from '../../../src/pci/ext-caps.js';
import { pcieCapInit } from '../../../src/pci/pcie-cap.js';
import { PCI_EXP_TYPE_ENDPOINT } from '../../../src/pci/pcie-regs.js';

/**
 * A test-only PCIe endpoint with ATS and PASID capabilities (no driver
 * binds to it): it lets the guest's arm-smmu-v3 enable ATS and substreams,
 * and a test issue DMA with a PASID or as Translated traffic.
 */
export class AtsPasidDev extends PCIDevice {
  readonly typeName = 'x-ats-pasid-dev';
  readonly identity: PCIDeviceIdentity = { vendorId: 0x1b36, deviceId: 0x00f0, classId: 0x00ff, express: true };
  ats!: AtsCapability;
  protected realizeDevice(): void {
    pcieCapInit(this, 0, PCI_EXP_TYPE_ENDPOINT, 0);
    this.ats = AtsCapability.init(this, 0x100);
    PasidCapability.init(this, 0x110, 8);
  }
}

export interface SmmuBoot {
  readonly m: Machine;
  readonly smmu: Smmuv3Device;
  readonly booted: BootedGuest;
  readonly k: GuestKernel;
  readonly drv: ArmSmmuV3;
  readonly oracle: DmaOracle;
}

/** virt + SMMUv3 from QEMU arguments (x-ats-pasid-dev available). */
export function smmuMachine(args: string[]): { m: Machine; smmu: Smmuv3Device } {
  const registry = defaultDeviceRegistry();
  registry.register({ driver: 'x-ats-pasid-dev', desc: 'test endpoint with ATS and PASID', bus: 'pci', props: [], create: () => new AtsPasidDev() });
  const m = Machine.create(parseCmdline(['-M', 'virt,iommu=smmuv3', '-nodefaults', '-display', 'none', ...args]).config, registry);
  return { m, smmu: m.systemDevices.find((d) => d instanceof Smmuv3Device) as Smmuv3Device };
}

/** Boots the synthetic guest on a machine (from smmuMachine, or built from `args`) with the DMA oracle tapped. */
export function bootSmmu(args: string[] | { m: Machine; smmu: Smmuv3Device }, boot: BootOptions = {}, mod: Omit<Smmuv3ModuleOptions, 'out'> = {}): SmmuBoot {
  const { m, smmu } = Array.isArray(args) ? smmuMachine(args) : args;
  const port = m.guestPort();
  const oracle = new DmaOracle(() => port.now(), port.log);
  installDmaTap(m, oracle);
  const out: ArmSmmuV3[] = [];
  const booted = bootGuestKernel(port, { oracle, modules: [smmuv3Module({ ...mod, out })], ...boot });
  return { m, smmu, booted, k: booted.kernel, drv: out[0]!, oracle };
}

export function guestDev(k: GuestKernel, vendor: number, device: number): GuestDevice {
  return k.devices.find((d) => d.pci?.vendor === vendor && d.pci.device === device)!;
}
