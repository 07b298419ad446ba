import { addCapability } from './capability.js';
import { ConfigSpace } from './config-space.js';
import type { PCIDevice, PCIDeviceIdentity } from './device.js';
import { PCIBridge } from './bridge.js';
import { PCIError } from './bus.js';
import { acsInit, aerInit } from './ext-caps.js';
import { MsixCapability } from './msix.js';
import {
  pcieCapArifwdInit, pcieCapArifwdReset, pcieCapDeverrInit, pcieCapDeverrReset, pcieCapInit, pcieCapRootInit,
  pcieCapRootReset,
} from './pcie-cap.js';
import { PCI_ERR_SIZEOF, PCI_EXP_SLTCTL, PCI_EXP_SLTSTA, PCI_EXP_TYPE_ROOT_PORT } from './pcie-regs.js';
import { PCIeSlot } from './pcie-slot.js';
import {
  PCI_BRIDGE_CONTROL, PCI_BRIDGE_CTL_DISCARD, PCI_BRIDGE_CTL_DISCARD_SERR, PCI_BRIDGE_CTL_DISCARD_STATUS,
  PCI_BRIDGE_CTL_FAST_BACK, PCI_BRIDGE_CTL_MASTER_ABORT, PCI_BRIDGE_CTL_SEC_DISCARD, PCI_CAP_ID_SSVID,
  PCI_CLASS_BRIDGE_PCI, PCI_INTERRUPT_PIN, PCI_SEC_STATUS, PCI_STATUS, PCI_VENDOR_ID_REDHAT,
} from './regs.js';

export interface RootPortOptions {
  readonly chassis: number;
  readonly slot: number;
  readonly port: number;
  readonly hotplug: boolean;
  readonly powerControllerPresent: boolean;
  readonly disableAcs: boolean;
  /** QEMU link encodings: speed 1..4 (2.5..16 GT/s), width in lanes. */
  readonly speed: number;
  readonly width: number;
  /**
   * Who handles hot-plug on the secondary bus: 'native' (pciehp: a function
   * present at creation sets Presence Detect and Data Link Layer Link
   * Active) or 'acpi' (QEMU q35's default acpi-pci-hotplug-with-bridge-
   * support=on: the slot registers are left alone).
   */
  readonly hotplugHandler: 'native' | 'acpi';
}

export const ROOT_PORT_DEFAULTS: RootPortOptions = {
  chassis: 0, slot: 0, port: 0, hotplug: true, powerControllerPresent: true, disableAcs: false, speed: 4, width: 32,
  hotplugHandler: 'native',
};

const AER_OFFSET = 0x100;
const ACS_OFFSET = AER_OFFSET + PCI_ERR_SIZEOF;

/**
 * `pcie-root-port` (QEMU hw/pci-bridge/gen_pcie_root_port.c on
 * pcie_root_port.c; 1b36:000c): SSVID, one MSI-X vector in BAR0, a v2
 * PCI Express capability of type Root Port with a hot-plug capable slot,
 * AER at 0x100 and ACS at 0x148, in QEMU 7.2's layout.
 */
export class PCIeRootPort extends PCIBridge {
  readonly typeName: string = 'pcie-root-port';
  readonly identity: PCIDeviceIdentity = {
    vendorId: PCI_VENDOR_ID_REDHAT, deviceId: 0x000c, classId: PCI_CLASS_BRIDGE_PCI, bridge: true, express: true,
  };
  protected readonly secondaryExpress = true;
  slot!: PCIeSlot;

  constructor(readonly opts: RootPortOptions = ROOT_PORT_DEFAULTS) {
    super();
  }

  protected initBridge(): void {
    const cs = this.cs;
    cs.set8(PCI_INTERRUPT_PIN, 1);
    // pcie_port_init_reg: no 66 MHz / fast back-to-back on PCI Express.
    cs.set16(PCI_STATUS, 0);
    cs.set16(PCI_SEC_STATUS, 0);
    ConfigSpace.clearBits16(cs.wmask, PCI_BRIDGE_CONTROL, PCI_BRIDGE_CTL_MASTER_ABORT | PCI_BRIDGE_CTL_FAST_BACK
      | PCI_BRIDGE_CTL_DISCARD | PCI_BRIDGE_CTL_SEC_DISCARD | PCI_BRIDGE_CTL_DISCARD_STATUS | PCI_BRIDGE_CTL_DISCARD_SERR);
    const ssvid = addCapability(cs, PCI_CAP_ID_SSVID, 0, 8);
    cs.set16(ssvid + 4, this.identity.vendorId);
    cs.set16(ssvid + 6, 0);
    MsixCapability.initExclusiveBar(this, 1, 0);
    const o = this.opts;
    pcieCapInit(this, 0, PCI_EXP_TYPE_ROOT_PORT, o.port, { speed: o.speed, width: o.width });
    pcieCapArifwdInit(this);
    pcieCapDeverrInit(this);
    this.slot = new PCIeSlot(this, o.slot, o.hotplug, o.powerControllerPresent, true);
    this.slot.init();
    pcieCapRootInit(this);
    if (!this.ctx.claimChassisSlot(o.chassis, o.slot)) throw new PCIError("Can't add chassis slot, error -16");
    aerInit(this, AER_OFFSET, PCI_ERR_SIZEOF, true);
    if (!o.disableAcs) acsInit(this, ACS_OFFSET, true);
  }

  slotDevices(): PCIDevice[] {
    return [...this.secondaryBus.devices.filter((d): d is PCIDevice => d !== undefined)];
  }

  override childPlugged(dev: PCIDevice): void {
    if (dev.devfn === 0 && this.opts.hotplugHandler === 'native') this.slot.coldPlugged();
  }

  /** rp_reset_hold. */
  protected override deviceReset(): void {
    pcieCapRootReset(this);
    pcieCapDeverrReset(this);
    this.slot.reset();
    pcieCapArifwdReset(this);
    this.bridgeReset();
    this.disableBaseLimit();
  }

  /** rp_write_config. */
  override configWrite(addr: number, val: number, len: number): void {
    const pos = this.expCap;
    const oldCtl = this.cs.get16(pos + PCI_EXP_SLTCTL);
    const oldSta = this.cs.get16(pos + PCI_EXP_SLTSTA);
    super.configWrite(addr, val, len);
    this.slot.writeConfig(oldCtl, oldSta, addr, val, len);
    // pcie_aer_root_write_config (PCIe 6.0 section 6.2.4.1.2): without MSI or
    // MSI-X, every config write drives INTx to "Root Error Command & status
    // enables", which is 0 here (viommu injects no errors). As in QEMU, this
    // also drops a hot-plug interrupt the same write raised: INTx is shared.
    if (!this.msix?.enabled && !this.msi?.enabled) this.setIrq(0);
  }

  override unrealize(): void {
    super.unrealize();
    this.ctx.releaseChassisSlot(this.opts.chassis, this.opts.slot);
  }
}
