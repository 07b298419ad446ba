import { ConfigSpace, rangesOverlap } from './config-space.js';
import type { PCIDevice } from './device.js';
import {
  PCI_EXP_FLAGS, PCI_EXP_FLAGS_SLOT, PCI_EXP_HP_EV_SUPPORTED, PCI_EXP_LNKSTA, PCI_EXP_LNKSTA_DLLLA, PCI_EXP_SLTCAP,
  PCI_EXP_SLTCAP_ABP, PCI_EXP_SLTCAP_AIP, PCI_EXP_SLTCAP_EIP, PCI_EXP_SLTCAP_HPC, PCI_EXP_SLTCAP_HPS,
  PCI_EXP_SLTCAP_PCP, PCI_EXP_SLTCAP_PIP, PCI_EXP_SLTCAP_PSN, PCI_EXP_SLTCAP_PSN_SHIFT, PCI_EXP_SLTCTL,
  PCI_EXP_SLTCTL_ABPE, PCI_EXP_SLTCTL_AIC, PCI_EXP_SLTCTL_AIC_OFF, PCI_EXP_SLTCTL_CCIE, PCI_EXP_SLTCTL_EIC,
  PCI_EXP_SLTCTL_HPIE, PCI_EXP_SLTCTL_PCC, PCI_EXP_SLTCTL_PDCE, PCI_EXP_SLTCTL_PIC, PCI_EXP_SLTCTL_PIC_OFF,
  PCI_EXP_SLTCTL_PIC_BLINK, PCI_EXP_SLTCTL_PIC_ON, PCI_EXP_SLTSTA, PCI_EXP_SLTSTA_ABP, PCI_EXP_SLTSTA_CC, PCI_EXP_SLTSTA_EIS,
  PCI_EXP_SLTSTA_MRLSC, PCI_EXP_SLTSTA_PDC, PCI_EXP_SLTSTA_PDS, PCI_EXP_SLTSTA_PFD,
} from './pcie-regs.js';

/** What the slot registers need to know about the port's secondary side. */
export interface SlotPort extends PCIDevice {
  /** Functions on the secondary bus (slot 0 is the only one a downstream port exposes). */
  slotDevices(): PCIDevice[];
}

const SLOT_EVENTS = PCI_EXP_SLTSTA_ABP | PCI_EXP_SLTSTA_PFD | PCI_EXP_SLTSTA_MRLSC | PCI_EXP_SLTSTA_PDC | PCI_EXP_SLTSTA_CC;

/**
 * PCI Express slot registers of a root or downstream port (PCIe 6.0
 * sections 7.5.3.9 to 7.5.3.11, 6.7; QEMU hw/pci/pcie.c pcie_cap_slot_*):
 * the hot-plug capability bits, indicator and power controls, presence
 * detect, command-completed events and the hot-plug interrupt (MSI-X, MSI or
 * INTx), and the native hot-plug protocol: a hot-added function raises
 * presence-detect and attention-button events; an unplug request presses
 * the attention button; the functions go only when the guest powers the
 * slot off (QEMU pcie_cap_slot_plug_cb, _unplug_request_cb, _write_config).
 */
export class PCIeSlot {
  private hpevNotified = false;

  constructor(private readonly dev: SlotPort, readonly slot: number, readonly hotplug: boolean,
    readonly powerControllerPresent: boolean, private readonly dllla: boolean) {}

  private get pos(): number {
    return this.dev.expCap;
  }
  private get cs(): ConfigSpace {
    return this.dev.cs;
  }
  get sltctl(): number {
    return this.cs.get16(this.pos + PCI_EXP_SLTCTL);
  }
  get sltsta(): number {
    return this.cs.get16(this.pos + PCI_EXP_SLTSTA);
  }

  /** pcie_cap_slot_init. */
  init(): void {
    const { cs, pos } = this;
    ConfigSpace.setBits16(cs.config, pos + PCI_EXP_FLAGS, PCI_EXP_FLAGS_SLOT);
    ConfigSpace.clearBits32(cs.config, pos + PCI_EXP_SLTCAP, ~PCI_EXP_SLTCAP_PSN);
    let cap = (this.slot << PCI_EXP_SLTCAP_PSN_SHIFT) | PCI_EXP_SLTCAP_EIP | PCI_EXP_SLTCAP_PIP | PCI_EXP_SLTCAP_AIP | PCI_EXP_SLTCAP_ABP;
    if (this.hotplug) cap |= PCI_EXP_SLTCAP_HPS | PCI_EXP_SLTCAP_HPC;
    if (this.powerControllerPresent) cap |= PCI_EXP_SLTCAP_PCP;
    ConfigSpace.setBits32(cs.config, pos + PCI_EXP_SLTCAP, cap >>> 0);
    if (this.powerControllerPresent) {
      ConfigSpace.clearBits16(cs.config, pos + PCI_EXP_SLTCTL, PCI_EXP_SLTCTL_PCC);
      ConfigSpace.setBits16(cs.wmask, pos + PCI_EXP_SLTCTL, PCI_EXP_SLTCTL_PCC);
    }
    ConfigSpace.clearBits16(cs.config, pos + PCI_EXP_SLTCTL, PCI_EXP_SLTCTL_PIC | PCI_EXP_SLTCTL_AIC);
    ConfigSpace.setBits16(cs.config, pos + PCI_EXP_SLTCTL, PCI_EXP_SLTCTL_PIC_OFF | PCI_EXP_SLTCTL_AIC_OFF);
    ConfigSpace.setBits16(cs.wmask, pos + PCI_EXP_SLTCTL, PCI_EXP_SLTCTL_PIC | PCI_EXP_SLTCTL_AIC | PCI_EXP_SLTCTL_HPIE
      | PCI_EXP_SLTCTL_CCIE | PCI_EXP_SLTCTL_PDCE | PCI_EXP_SLTCTL_ABPE | PCI_EXP_SLTCTL_EIC);
    ConfigSpace.setBits16(cs.w1cmask, pos + PCI_EXP_SLTSTA, PCI_EXP_HP_EV_SUPPORTED);
    this.hpevNotified = false;
  }

  /** pcie_cap_slot_plug_cb for a function present at machine creation: presence without an event. */
  coldPlugged(): void {
    ConfigSpace.setBits16(this.cs.config, this.pos + PCI_EXP_SLTSTA, PCI_EXP_SLTSTA_PDS);
    if (this.dllla) ConfigSpace.setBits16(this.cs.config, this.pos + PCI_EXP_LNKSTA, PCI_EXP_LNKSTA_DLLLA);
  }

  /** pcie_cap_slot_reset: indicators and power follow presence; latched events clear. */
  reset(): void {
    const { cs, pos } = this;
    ConfigSpace.clearBits16(cs.config, pos + PCI_EXP_SLTCTL, PCI_EXP_SLTCTL_EIC | PCI_EXP_SLTCTL_PIC | PCI_EXP_SLTCTL_AIC
      | PCI_EXP_SLTCTL_HPIE | PCI_EXP_SLTCTL_CCIE | PCI_EXP_SLTCTL_PDCE | PCI_EXP_SLTCTL_ABPE);
    ConfigSpace.setBits16(cs.config, pos + PCI_EXP_SLTCTL, PCI_EXP_SLTCTL_AIC_OFF);
    if (this.powerControllerPresent) {
      const populated = this.dev.slotDevices().some((d) => d.devfn === 0);
      if (populated) ConfigSpace.clearBits16(cs.config, pos + PCI_EXP_SLTCTL, PCI_EXP_SLTCTL_PCC);
      else ConfigSpace.setBits16(cs.config, pos + PCI_EXP_SLTCTL, PCI_EXP_SLTCTL_PCC);
      ConfigSpace.setBits16(cs.config, pos + PCI_EXP_SLTCTL, populated ? PCI_EXP_SLTCTL_PIC_ON : PCI_EXP_SLTCTL_PIC_OFF);
    }
    ConfigSpace.clearBits16(cs.config, pos + PCI_EXP_SLTSTA, PCI_EXP_SLTSTA_EIS | PCI_EXP_SLTSTA_CC | PCI_EXP_SLTSTA_PDC | PCI_EXP_SLTSTA_ABP);
    this.updateEventStatus();
    this.updatePower();
  }

  /** pcie_cap_update_power: functions below see power only while the controller is on. */
  updatePower(): void {
    let power = true;
    if (this.cs.get32(this.pos + PCI_EXP_SLTCAP) & PCI_EXP_SLTCAP_PCP) power = (this.sltctl & PCI_EXP_SLTCTL_PCC) === 0;
    for (const d of this.dev.slotDevices()) d.setPower(power);
  }

  private updateEventStatus(): void {
    const ctl = this.sltctl;
    this.hpevNotified = (ctl & PCI_EXP_SLTCTL_HPIE) !== 0 && (this.sltsta & ctl & PCI_EXP_HP_EV_SUPPORTED) !== 0;
  }

  /** hotplug_event_notify: the port signals a change of its hot-plug interrupt condition. */
  private notify(): void {
    const prev = this.hpevNotified;
    this.updateEventStatus();
    if (prev === this.hpevNotified) return;
    const d = this.dev;
    if (d.msix?.enabled) d.msix.notify(0);
    else if (d.msi?.enabled) d.msi.notify(0);
    else d.setIrq(this.hpevNotified ? 1 : 0);
  }

  /** pcie_cap_slot_event: latch an event in Slot Status and notify. */
  event(ev: number): void {
    if (ConfigSpace.setBits16(this.cs.config, this.pos + PCI_EXP_SLTSTA, ev) === ev) return;
    this.notify();
  }

  /** pcie_cap_slot_push_attention_button (used by the hotplug layer). */
  pushAttentionButton(): void {
    this.event(PCI_EXP_SLTSTA_ABP);
  }

  /** pcie_cap_slot_write_config, with Slot Control / Status as they were before the write. */
  writeConfig(oldCtl: number, oldSta: number, addr: number, val: number, len: number): void {
    const { cs, pos } = this;
    let sta = this.sltsta;
    if (rangesOverlap(addr, len, pos + PCI_EXP_SLTSTA, 2)) {
      // QEMU's work-around for guests that clear status bits that were not set.
      if (val & ~oldSta & SLOT_EVENTS) {
        sta = (sta & ~SLOT_EVENTS) | (oldSta & SLOT_EVENTS);
        cs.set16(pos + PCI_EXP_SLTSTA, sta);
      }
      this.updateEventStatus();
      const d = this.dev;
      if (!d.msix?.enabled && !d.msi?.enabled && !this.hpevNotified) d.deassertIntx();
    }
    if (!rangesOverlap(addr, len, pos + PCI_EXP_SLTCTL, 2)) return;
    if (ConfigSpace.clearBits16(cs.config, pos + PCI_EXP_SLTCTL, PCI_EXP_SLTCTL_EIC)) {
      sta ^= PCI_EXP_SLTSTA_EIS;
      cs.set16(pos + PCI_EXP_SLTSTA, sta);
    }
    if ((sta & PCI_EXP_SLTSTA_PDS) && (val & PCI_EXP_SLTCTL_PCC) && (val & PCI_EXP_SLTCTL_PIC_OFF) === PCI_EXP_SLTCTL_PIC_OFF
      && (!(oldCtl & PCI_EXP_SLTCTL_PCC) || (oldCtl & PCI_EXP_SLTCTL_PIC_OFF) !== PCI_EXP_SLTCTL_PIC_OFF)) {
      this.doUnplug();
    }
    this.updatePower();
    this.notify();
    // Commands complete at once (PCIe 6.0 section 6.7.3.2).
    this.event(PCI_EXP_SLTSTA_CC);
  }

  get hotplugCapable(): boolean {
    return (this.cs.get32(this.pos + PCI_EXP_SLTCAP) & PCI_EXP_SLTCAP_HPC) !== 0;
  }

  private portName(): string {
    return this.dev.id ?? '';
  }

  /** pcie_cap_slot_pre_plug_cb for a hot-add: an error text, or undefined. */
  prePlugCheck(): string | undefined {
    if (!this.hotplugCapable) return `Hot-plug failed: unsupported by the port device '${this.portName()}'`;
    if (this.sltsta & PCI_EXP_SLTSTA_EIS) return 'slot is electromechanically locked';
    return undefined;
  }

  /**
   * pcie_cap_slot_plug_cb for a hot-added function: once function 0 is
   * there, Presence Detect State and link active are set and the port
   * signals Presence Detect Changed and Attention Button Pressed.
   */
  hotPlugged(dev: PCIDevice): void {
    if (!dev.bus.devices[dev.devfn & ~7]) return;
    ConfigSpace.setBits16(this.cs.config, this.pos + PCI_EXP_SLTSTA, PCI_EXP_SLTSTA_PDS);
    if (this.dllla) ConfigSpace.setBits16(this.cs.config, this.pos + PCI_EXP_LNKSTA, PCI_EXP_LNKSTA_DLLLA);
    this.event(PCI_EXP_SLTSTA_PDC | PCI_EXP_SLTSTA_ABP);
  }

  /**
   * pcie_cap_slot_unplug_request_cb (QEMU 10.2, ref qemu-core.md section
   * 5): refuse when the slot cannot hot-unplug or the guest is busy
   * (power indicator blinking); unplug at once when the slot is already
   * powered off with its indicator off; otherwise press the attention
   * button and let the guest power the slot off. Returns an error text,
   * 'done' or 'requested'.
   */
  unplugRequest(dev: PCIDevice): string {
    if (!this.hotplugCapable) return `Hot-unplug failed: unsupported by the port device '${this.portName()}'`;
    if (this.sltsta & PCI_EXP_SLTSTA_EIS) return 'slot is electromechanically locked';
    const ctl = this.sltctl;
    if ((ctl & PCI_EXP_SLTCTL_PIC) === PCI_EXP_SLTCTL_PIC_BLINK) return 'Hot-unplug failed: guest is busy (power indicator blinking)';
    // A function other than 0 whose function 0 never arrived goes at once.
    if (dev.devfn !== 0 && !dev.bus.devices[0]) {
      dev.bus.unplug(dev);
      return 'done';
    }
    if ((ctl & PCI_EXP_SLTCTL_PIC) === PCI_EXP_SLTCTL_PIC_OFF && (ctl & PCI_EXP_SLTCTL_PCC) !== 0) {
      this.doUnplug();
      this.notify();
      return 'done';
    }
    this.pushAttentionButton();
    return 'requested';
  }

  /** pcie_cap_slot_do_unplug: every function below goes; presence and link drop; PDC latches. */
  private doUnplug(): void {
    for (const d of this.dev.slotDevices()) d.bus.unplug(d);
    ConfigSpace.clearBits16(this.cs.config, this.pos + PCI_EXP_SLTSTA, PCI_EXP_SLTSTA_PDS);
    if (this.dllla) ConfigSpace.clearBits16(this.cs.config, this.pos + PCI_EXP_LNKSTA, PCI_EXP_LNKSTA_DLLLA);
    ConfigSpace.setBits16(this.cs.config, this.pos + PCI_EXP_SLTSTA, PCI_EXP_SLTSTA_PDC);
  }
}
